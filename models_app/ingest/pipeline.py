"""Video → shots with thumbnails, previews and embeddings, in one decode pass.

Two threads overlap the work. A producer thread decodes, runs TransNetV2 as frames stream in, closes shots
as soon as their boundaries are final, writes each shot's thumbnail and preview, and hands the shot's sample
frames over a bounded queue. The calling thread embeds those samples in batches (and is the only thread that
calls `progress`, so a caller may touch its database there). Memory stays bounded: working frames are held
only until their shot is closed, which takes at most about 2 × the maximum shot length plus TransNetV2's
75-frame lag, and the queue holds at most `max_queued_shots` shots' samples.

On a GPU both models run on the device and decoding overlaps with them. On a CPU the two threads take turns
on the cores for torch work (`exclusive_compute`), so the pipeline costs about shot detection plus embedding;
TransNetV2 (≈0.8 GFLOP per frame, each frame seen twice by its overlapping windows) then usually costs more
than embedding a few samples per shot. See benchmarks/ingest.py.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import av
import numpy as np

from models_app.ingest.errors import EmptyVideoError
from models_app.ingest.frames import decode_frames, fit_short_side, to_rgb, working_size
from models_app.ingest.media import (
    PREVIEW_MAX_SECONDS,
    PREVIEW_MAX_WIDTH,
    THUMBNAIL_MAX_WIDTH,
    preview_span,
    write_preview,
    write_thumbnail,
)
from models_app.ingest.probe import VideoInfo, probe
from models_app.ingest.segments import ShotLimits, ShotSegmenter, Span
from models_app.ingest.shots import DEFAULT_THRESHOLD, CutFinder, ShotDetector

ProgressCallback = Callable[[str, int], None]
STAGES = ("decoding", "shots", "embedding")
_VIDEO_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_SHOT_FILE = re.compile(r"^shot_(\d+)\.(jpg|mp4)$")


class ImageEmbedder(Protocol):
    """What the pipeline needs from an embedder (models_app.embedding.Embedder fits)."""

    dim: int

    @property
    def image_size(self) -> int: ...

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray: ...


@dataclass(frozen=True)
class IngestOptions:
    limits: ShotLimits = ShotLimits()
    samples_per_shot: int = 3
    threshold: float = DEFAULT_THRESHOLD
    preview_max_seconds: float = PREVIEW_MAX_SECONDS
    preview_max_width: int = PREVIEW_MAX_WIDTH
    thumbnail_max_width: int = THUMBNAIL_MAX_WIDTH
    embed_batch_size: int | None = None  # default: the embedder's batch_size
    max_queued_shots: int = 32  # producer lead over embedding; bounds memory


@dataclass(frozen=True)
class ShotRecord:
    index: int
    start_frame: int
    end_frame: int  # exclusive
    start_s: float
    end_s: float
    thumbnail: str  # relative to the output dir, e.g. "<video_key>/shot_00012.jpg"
    preview: str


@dataclass
class IngestResult:
    video: VideoInfo
    video_key: str
    frame_count: int  # frames actually decoded
    shots: list[ShotRecord]
    embeddings: np.ndarray  # (len(shots), dim) float32, rows L2-normalised
    seconds: float = 0.0
    embedding_seconds: float = 0.0  # time inside embed_images


def sample_positions(start: int, end: int, count: int) -> list[int]:
    """Up to `count` distinct frames spread evenly over [start, end), each at the middle of its stretch."""
    length = end - start
    return sorted({start + ((2 * i + 1) * length) // (2 * count) for i in range(count)})


@dataclass
class _ShotWork:
    record: ShotRecord
    samples: list[np.ndarray]


@dataclass
class _Counters:
    """Written by the producer, read by the consumer (int/bool assignment is atomic under the GIL)."""

    decoded: int = 0
    scored: int = 0
    decoding_done: bool = False
    shots_done: bool = False
    embedded_until: int = 0  # end frame of the last embedded shot


class _Stopped(Exception):
    pass


_DONE = object()


def ingest_video(
    path: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    embedder: ImageEmbedder,
    *,
    video_key: str,
    options: IngestOptions = IngestOptions(),
    progress: ProgressCallback | None = None,
    shot_detector: ShotDetector | None = None,
) -> IngestResult:
    """Ingest one video; media go to `output_dir/<video_key>/shot_NNNNN.{jpg,mp4}` (overwritten on re-runs).

    Raises IngestError subclasses for unusable videos (before any file is written when probing finds it),
    ValueError for bad options. `progress(stage, percent)` is called from this thread only.
    """
    if not _VIDEO_KEY.match(video_key):
        raise ValueError(f"video_key must be a plain file name (letters, digits, . _ -), got {video_key!r}")
    if options.samples_per_shot < 1:
        raise ValueError("samples_per_shot must be ≥ 1")
    began = time.perf_counter()
    info = probe(path)
    options.limits.resolve(info.fps)  # fail on bad limits before starting threads
    producer = _Producer(info, Path(output_dir), video_key, embedder.image_size, options, shot_detector)
    reporter = _Reporter(progress, producer.counters, info.frame_count)
    records, vectors, embed_seconds = _consume(producer, embedder, options, reporter)
    _remove_stale_files(Path(output_dir) / video_key, keep=len(records))
    return IngestResult(
        video=info,
        video_key=video_key,
        frame_count=producer.counters.decoded,
        shots=records,
        embeddings=np.vstack(vectors) if vectors else np.zeros((0, embedder.dim), np.float32),
        seconds=time.perf_counter() - began,
        embedding_seconds=embed_seconds,
    )


def _consume(
    producer: _Producer, embedder: ImageEmbedder, options: IngestOptions, reporter: _Reporter
) -> tuple[list[ShotRecord], list[np.ndarray], float]:
    """Run the producer thread and embed its shots here in full batches; returns records, vectors, seconds.

    Full batches, not whatever is ready: on a CPU the two threads take turns on the cores anyway
    (see `exclusive_compute`), so embedding early gains nothing and small batches run slower.
    """
    batch_size = options.embed_batch_size or getattr(embedder, "batch_size", 32)
    records: list[ShotRecord] = []
    vectors: list[np.ndarray] = []
    pending: list[_ShotWork] = []
    embed_seconds = 0.0
    thread = threading.Thread(target=producer.run, name="ingest-producer", daemon=True)
    thread.start()
    try:
        done = False
        while not done:
            try:
                item = producer.queue.get(timeout=0.2)
            except queue.Empty:
                reporter.report()
                continue
            if isinstance(item, BaseException):
                raise item
            done = item is _DONE
            if not done:
                pending.append(item)
            if pending and (done or sum(len(work.samples) for work in pending) >= batch_size):
                began = time.perf_counter()
                vectors.append(_embed_shots(embedder, pending))
                embed_seconds += time.perf_counter() - began
                records.extend(work.record for work in pending)
                producer.counters.embedded_until = pending[-1].record.end_frame
                pending = []
            reporter.report()
        reporter.finish()
    finally:
        producer.stop.set()  # a no-op after success; on error it releases a producer blocked on the queue
        thread.join()
    return records, vectors, embed_seconds


def _embed_shots(embedder: ImageEmbedder, works: list[_ShotWork]) -> np.ndarray:
    """Embed every sample of these shots in one call, then mean-pool per shot and re-normalise."""
    frames = [frame for work in works for frame in work.samples]
    per_frame = np.asarray(embedder.embed_images(frames), dtype=np.float32)
    bounds = np.cumsum([0] + [len(work.samples) for work in works])
    pooled = np.stack([per_frame[a:b].mean(axis=0) for a, b in zip(bounds[:-1], bounds[1:], strict=True)])
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


class _Producer:
    """Runs in its own thread: decode → TransNetV2 → shots → media + samples → queue."""

    def __init__(
        self,
        info: VideoInfo,
        output_dir: Path,
        video_key: str,
        embed_size: int,
        options: IngestOptions,
        shot_detector: ShotDetector | None,
    ) -> None:
        self.info, self.output_dir, self.video_key, self.options = info, output_dir, video_key, options
        self.working = working_size(
            info.width,
            info.height,
            min_short_side=embed_size,
            min_width=max(options.preview_max_width, options.thumbnail_max_width),
        )
        self.sample_size = fit_short_side(*self.working, embed_size)
        self.shot_detector = shot_detector
        self.queue: queue.Queue = queue.Queue(maxsize=options.max_queued_shots)
        self.stop = threading.Event()
        self.counters = _Counters()
        self._frames: list[av.VideoFrame] = []  # working frames from self._first onwards
        self._first = 0
        self._times: list[float] = []
        self._next_index = 0

    def run(self) -> None:
        try:
            self._run()
            self._put(_DONE)
        except _Stopped:
            pass
        except BaseException as exc:  # handed to the consumer, which re-raises it in the caller's thread
            with contextlib.suppress(_Stopped):
                self._put(exc)

    def _run(self) -> None:
        detector = self.shot_detector or ShotDetector()
        min_frames, max_frames = self.options.limits.resolve(self.info.fps)
        finder = CutFinder(self.options.threshold, max_run=max_frames)
        segmenter = ShotSegmenter(min_frames, max_frames)

        def feed(probabilities: np.ndarray) -> list[Span]:
            spans = [span for cut in finder.push(probabilities) for span in segmenter.cut(cut)]
            return spans + segmenter.advance(finder.frontier)

        for decoded in decode_frames(self.info.path, size=self.working):
            if self.stop.is_set():
                raise _Stopped
            self._frames.append(decoded.frame)
            self._times.append(decoded.time_s)
            self.counters.decoded += 1
            spans = feed(detector.push(decoded.small))
            self.counters.scored = detector.scored
            for span in spans:
                self._emit(span)
        n_frames = self.counters.decoded
        if n_frames == 0:
            raise EmptyVideoError(f"{Path(self.info.path).name} contains no decodable video frames.")
        self.counters.decoding_done = True
        spans = feed(detector.finish()) + segmenter.finish(n_frames)
        self.counters.scored = n_frames
        self.counters.shots_done = True
        for span in spans:
            self._emit(span)

    def _frame(self, index: int) -> av.VideoFrame:
        return self._frames[index - self._first]

    def _emit(self, span: Span) -> None:
        start, end = span
        index, self._next_index = self._next_index, self._next_index + 1
        name = f"{self.video_key}/shot_{index:05d}"
        options = self.options
        write_thumbnail(
            self._frame((start + end) // 2), self.output_dir / f"{name}.jpg", max_width=options.thumbnail_max_width
        )
        first, last = preview_span(start, end, self.info.fps, options.preview_max_seconds)
        write_preview(
            [self._frame(i) for i in range(first, last)],
            self.output_dir / f"{name}.mp4",
            frame_rate=self.info.frame_rate,
            max_width=options.preview_max_width,
        )
        samples = [
            to_rgb(self._frame(i), self.sample_size) for i in sample_positions(start, end, options.samples_per_shot)
        ]
        end_s = self._times[end] if end < len(self._times) else self._times[end - 1] + 1 / self.info.fps
        record = ShotRecord(index, start, end, self._times[start], end_s, f"{name}.jpg", f"{name}.mp4")
        del self._frames[: end - self._first]  # shots close in order: nothing before `end` is needed again
        self._first = end
        self._put(_ShotWork(record, samples))

    def _put(self, item: object) -> None:
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        raise _Stopped


@dataclass
class _Reporter:
    callback: ProgressCallback | None
    counters: _Counters
    expected_frames: int
    _last: dict[str, int] = field(default_factory=dict)

    def _percent(self, done: int, complete: bool) -> int:
        total = self.counters.decoded if self.counters.decoding_done else max(self.expected_frames, 1)
        return 100 if complete else min(99, done * 100 // max(total, 1))

    def report(self) -> None:
        c = self.counters
        self._send("decoding", self._percent(c.decoded, c.decoding_done))
        self._send("shots", self._percent(c.scored, c.shots_done))
        self._send("embedding", self._percent(c.embedded_until, False))

    def finish(self) -> None:
        for stage in STAGES:
            self._send(stage, 100)

    def _send(self, stage: str, percent: int) -> None:
        if self.callback is not None and percent > self._last.get(stage, -1):
            self._last[stage] = percent
            self.callback(stage, percent)


def _remove_stale_files(directory: Path, keep: int) -> None:
    """Delete shot files a previous run left beyond this run's shot count, and any interrupted writes."""
    if not directory.is_dir():
        return
    for entry in directory.iterdir():
        match = _SHOT_FILE.match(entry.name)
        if (match and int(match.group(1)) >= keep) or entry.name.endswith(".partial"):
            entry.unlink(missing_ok=True)
