"""Turn cut positions into shots with a minimum and maximum length, as the cuts stream in.

A cut at position c means frame c starts a new shot. Shots are half-open frame ranges [start, end) that
tile the video. Rules, applied in this order:

1. A segment shorter than `min_frames` is merged into the previous one (the first one into the next).
2. A segment longer than `max_frames` is split into ceil(length / max_frames) pieces of equal length (±1).

Streaming keeps memory bounded: a segment that reaches 2 × max_frames with no cut in sight gets a piece of
exactly max_frames cut off its start; the rest continues and is split evenly when its end is known. So the
result equals the batch rules for every natural segment shorter than 2 × max_frames, and never depends on
how the input was chunked.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

Span = tuple[int, int]


@dataclass(frozen=True)
class ShotLimits:
    """Shot length bounds; frame counts, when given, override the seconds."""

    min_seconds: float = 0.5
    max_seconds: float = 15.0
    min_frames: int | None = None
    max_frames: int | None = None

    def resolve(self, fps: float) -> tuple[int, int]:
        """(min_frames, max_frames) at this frame rate; ValueError unless 1 ≤ min and 2 × min ≤ max."""
        lo = self.min_frames if self.min_frames is not None else max(1, round(self.min_seconds * fps))
        hi = self.max_frames if self.max_frames is not None else round(self.max_seconds * fps)
        if lo < 1 or hi < 2 * lo:
            raise ValueError(f"Shot limits need 1 ≤ min and 2 × min ≤ max frames, got min={lo}, max={hi}.")
        return lo, hi


def split_evenly(start: int, end: int, max_frames: int) -> list[Span]:
    pieces = max(1, math.ceil((end - start) / max_frames))
    cuts = [start + (i * (end - start)) // pieces for i in range(pieces + 1)]
    return list(zip(cuts[:-1], cuts[1:], strict=True))


class ShotSegmenter:
    """Feed cuts in increasing order with `cut`, progress with `advance`, then `finish`; each returns new shots."""

    def __init__(self, min_frames: int, max_frames: int) -> None:
        if min_frames < 1 or max_frames < 2 * min_frames:
            raise ValueError("need 1 ≤ min_frames and 2 × min_frames ≤ max_frames")
        self.min_frames, self.max_frames = min_frames, max_frames
        self._held: list[int] | None = None  # [start, end] of a closed segment not emitted yet
        self._open = 0  # start of the segment whose end is not known yet
        self._frontier = 0  # no cut will come at a position below this
        self._out: list[Span] = []

    def cut(self, position: int) -> list[Span]:
        if position <= self._open or position < self._frontier:
            raise ValueError(f"cuts must increase and not lie behind the frontier (got {position})")
        self._move_frontier(position)
        self._close_segment(self._open, position)
        self._open = position
        self._settle()
        return self._drain()

    def advance(self, frontier: int) -> list[Span]:
        """Declare that no future cut lies below `frontier`."""
        self._move_frontier(frontier)
        return self._drain()

    def finish(self, n_frames: int) -> list[Span]:
        self._move_frontier(n_frames)
        if self._open < n_frames:
            self._close_segment(self._open, n_frames)
            self._open = n_frames
        if self._held is not None:
            self._emit(*self._held)
            self._held = None
        return self._drain()

    def _move_frontier(self, frontier: int) -> None:
        self._frontier = max(self._frontier, frontier)
        self._settle()

    def _short(self, span: Iterable[int]) -> bool:
        start, end = span
        return end - start < self.min_frames

    def _close_segment(self, start: int, end: int) -> None:
        if self._held is None:
            self._held = [start, end]
        elif self._short(self._held) or end - start < self.min_frames:
            self._held[1] = end
        else:
            self._emit(*self._held)
            self._held = [start, end]

    def _settle(self) -> None:
        """Emit whatever no future cut can change any more."""
        limit = 2 * self.max_frames
        while True:
            held = self._held
            if held is not None and not self._short(held) and self._frontier - self._open >= self.min_frames:
                # The open segment will be long enough to stand alone, so nothing more merges into `held`.
                self._emit(*held)
                self._held = None
            elif held is not None and held[1] - held[0] >= limit:
                self._emit(held[0], held[0] + self.max_frames)
                held[0] += self.max_frames
            elif (held is None or self._short(held)) and self._frontier - (held or [self._open])[0] >= limit:
                # The open segment (with a short held one that will merge into it) grew past the bound.
                start = (held or [self._open])[0]
                self._emit(start, start + self.max_frames)
                self._held = None
                self._open = start + self.max_frames
            else:
                return

    def _emit(self, start: int, end: int) -> None:
        self._out.extend(split_evenly(start, end, self.max_frames))

    def _drain(self) -> list[Span]:
        out, self._out = self._out, []
        return out


def segment_shots(cuts: Iterable[int], n_frames: int, min_frames: int, max_frames: int) -> list[Span]:
    """Batch form of ShotSegmenter: all cuts of a video of n_frames frames → shots."""
    segmenter = ShotSegmenter(min_frames, max_frames)
    shots: list[Span] = []
    for position in cuts:
        if 0 < position < n_frames:
            shots += segmenter.cut(position)
    return shots + segmenter.finish(n_frames)
