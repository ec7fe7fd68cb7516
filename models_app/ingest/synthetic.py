"""Synthetic videos with exactly known hard cuts, written with PyAV: ground truth for tests and
benchmarks, and the demo corpus of `make run`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np


@dataclass(frozen=True)
class SyntheticVideo:
    path: Path
    cuts: tuple[int, ...]  # frame indices that start a new shot (ground truth)
    n_frames: int
    fps: int
    width: int
    height: int

    @property
    def shots(self) -> list[tuple[int, int]]:
        bounds = [0, *self.cuts, self.n_frames]
        return list(zip(bounds[:-1], bounds[1:], strict=True))


def spaced_cuts(n_frames: int, n_cuts: int, *, min_gap: int, seed: int) -> tuple[int, ...]:
    """n_cuts random cut positions, every shot (first and last included) at least min_gap frames long."""
    rng = np.random.default_rng(seed)
    slack = n_frames - min_gap * (n_cuts + 1)
    if slack < 0:
        raise ValueError("video too short for that many cuts")
    extra = np.sort(rng.integers(0, slack + 1, size=n_cuts))
    return tuple(int(min_gap * (i + 1) + e) for i, e in enumerate(extra))


def _distinct_colour(rng: np.random.Generator, previous: np.ndarray | None) -> np.ndarray:
    """A random colour clearly unlike the previous shot's, so every cut is a real visual change."""
    while True:
        colour = rng.integers(20, 236, size=3)
        if previous is None or np.abs(colour - previous).sum() >= 200:
            return colour


def _scene(
    rng: np.random.Generator, base: np.ndarray, width: int, height: int, n_frames: int, style: str
) -> np.ndarray:
    """(n_frames, height, width, 3) uint8 frames of one shot: its own colours, moving at its own speed."""
    frames = np.empty((n_frames, height, width, 3), np.uint8)
    if style == "solid":
        # Flat colour with a small square sliding across: almost static, like a talking-head shot.
        frames[:] = base
        size = height // 4
        for t in range(n_frames):
            x = (t * 2) % (width - size)
            frames[t, height // 3 : height // 3 + size, x : x + size] = 255 - base
        return frames
    # Smooth texture panning sideways: coarse random blocks upscaled, so motion is visible but gentle.
    coarse = rng.integers(0, 256, size=(height // 10 + 2, (width + 4 * n_frames) // 10 + 2, 3))
    texture = np.kron(coarse, np.ones((10, 10, 1))).astype(np.float32)
    texture = 0.5 * texture + 0.5 * base
    speed = int(rng.integers(1, 4))
    for t in range(n_frames):
        frames[t] = texture[:height, t * speed : t * speed + width]
    return frames


def make_video(
    path: Path,
    cuts: tuple[int, ...],
    n_frames: int,
    *,
    fps: int = 24,
    width: int = 160,
    height: int = 90,
    seed: int = 0,
    style: str = "texture",
) -> SyntheticVideo:
    """Write an H.264 MP4 whose shots change abruptly at `cuts` (style: "texture", "solid" or "mixed")."""
    rng = np.random.default_rng(seed)
    video = SyntheticVideo(Path(path), tuple(cuts), n_frames, fps, width, height)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "20"}
        base = None
        for shot_index, (start, end) in enumerate(video.shots):
            shot_style = style if style != "mixed" else ("solid", "texture")[shot_index % 2]
            base = _distinct_colour(rng, base)
            for image in _scene(rng, base, width, height, end - start, shot_style):
                container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode(None))
    return video
