"""Deliberately broken files for the ingestion tests; good synthetic videos come from
models_app.ingest.synthetic (re-exported here)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from models_app.ingest.synthetic import SyntheticVideo, make_video, spaced_cuts

__all__ = ["SyntheticVideo", "make_video", "spaced_cuts"]


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
