"""Synthetic test videos written with PyAV, with exactly known hard cuts, and deliberately broken files."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
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


def make_audio_only(path: Path, seconds: float = 1.0) -> Path:
    """An MP4 holding one AAC audio stream (a sine tone) and no video."""
    rate = 44100
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=rate)
        stream.layout = "mono"
        samples = (np.sin(np.arange(int(rate * seconds)) * 2 * np.pi * 440 / rate) * 0.2).astype(np.float32)
        chunk = 1024
        for pts in range(0, len(samples), chunk):
            frame = av.AudioFrame.from_ndarray(samples[None, pts : pts + chunk], format="fltp", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = rate, pts, Fraction(1, rate)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def make_frameless_video(path: Path) -> Path:
    """A container with a declared H.264 stream and not a single frame (the suffix picks the container)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 160, 90, "yuv420p"
        container.start_encoding()  # write the header although no packet will follow
    return path


def make_truncated_video(source: Path, path: Path, keep_bytes: int = 2048) -> Path:
    """The first bytes of a real MP4: a valid header whose index and data are gone."""
    path.write_bytes(source.read_bytes()[:keep_bytes])
    return path


def make_flat_video(path: Path, width: int, height: int, frames: int = 1) -> Path:
    """A real, decodable grey video of any size (cheap even at absurd sizes: little to encode)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for _ in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((height, width, 3), 128, np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path
