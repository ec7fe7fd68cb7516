"""One decode pass over a video: every frame once, at the two sizes the pipeline needs.

- `small`: 48×27 RGB, the input of TransNetV2 (the shot detector keeps only its current window of them).
- `frame`: a "working" copy, downscaled just enough to serve thumbnails, previews and embedding samples,
  so holding a shot's frames until its boundaries are known stays cheap (yuv420p, ~130 KB at 398×224).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from models_app.ingest.errors import CorruptVideoError

SMALL_WIDTH, SMALL_HEIGHT = 48, 27

# Broken packets tolerated before a video is declared corrupt: real files often carry a few.
MAX_BAD_PACKETS = 25


@dataclass(frozen=True)
class DecodedFrame:
    index: int
    time_s: float
    small: np.ndarray  # (27, 48, 3) uint8 RGB
    frame: av.VideoFrame  # working size, yuv420p


def working_size(width: int, height: int, *, min_short_side: int, min_width: int) -> tuple[int, int]:
    """Smallest even size ≥ both needs (short side for the embedder, width for media); never upscales."""
    scale = min(1.0, max(min_width / width, min_short_side / min(width, height)))
    return _even(width * scale), _even(height * scale)


def fit_width(width: int, height: int, max_width: int) -> tuple[int, int]:
    """Even size no wider than max_width, same aspect ratio; never upscales."""
    scale = min(1.0, max_width / width)
    return _even(width * scale), _even(height * scale)


def fit_short_side(width: int, height: int, short_side: int) -> tuple[int, int]:
    """Size whose short side is short_side (up or down), same aspect ratio."""
    scale = short_side / min(width, height)
    return max(short_side, round(width * scale)), max(short_side, round(height * scale))


def _even(x: float) -> int:
    return max(2, int(x) // 2 * 2)


def decode_frames(path: str | os.PathLike[str], *, size: tuple[int, int]) -> Iterator[DecodedFrame]:
    """Yield every frame of the first video stream once, as a DecodedFrame at working `size`.

    Uses FFmpeg's own threading (thread_type AUTO) and reuses the two scalers across frames.
    Raises CorruptVideoError when the stream cannot be decoded.
    """
    path = Path(path)
    to_working, to_small = VideoReformatter(), VideoReformatter()
    width, height = size
    bad_packets = 0
    index = 0
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            fallback_fps = float(stream.average_rate or stream.guessed_rate or 25)
            for packet in container.demux(stream):
                try:
                    decoded = packet.decode()
                except av.error.InvalidDataError:
                    bad_packets += 1
                    if bad_packets > MAX_BAD_PACKETS:
                        raise
                    continue
                for frame in decoded:
                    working = to_working.reformat(frame, width, height, format="yuv420p", interpolation="BILINEAR")
                    small = to_small.reformat(
                        working, SMALL_WIDTH, SMALL_HEIGHT, format="rgb24", interpolation="BICUBIC", threads=1
                    ).to_ndarray()
                    time_s = frame.time if frame.time is not None else index / fallback_fps
                    yield DecodedFrame(index=index, time_s=float(time_s), small=small, frame=working)
                    index += 1
    except av.error.FFmpegError as exc:
        raise CorruptVideoError(f"{path.name}: decoding failed after {index} frames: {exc}") from exc


def to_rgb(frame: av.VideoFrame, size: tuple[int, int] | None = None) -> np.ndarray:
    """(H, W, 3) uint8 RGB copy of a working frame, optionally resized (bicubic)."""
    width, height = size or (frame.width, frame.height)
    return frame.to_ndarray(width=width, height=height, format="rgb24", interpolation="BICUBIC")
