"""Per-shot media: a JPEG thumbnail and a short, small, silent H.264 preview, written with PyAV.

Files are written under a temporary name and renamed into place, so a reader (or a re-run) never sees half a file.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import av
from av.video.reformatter import VideoReformatter
from PIL import Image

from models_app.ingest.frames import fit_width, to_rgb

PREVIEW_MAX_SECONDS = 3.0
PREVIEW_MAX_WIDTH = 320
THUMBNAIL_MAX_WIDTH = 320
PREVIEW_CRF = 30  # small files; previews are hover clips, not archives
_MP4_OPTIONS = {"movflags": "+faststart"}  # index first, so browsers start playing before the end arrives


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling path; on success it replaces `path`, on error it is removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_thumbnail(frame: av.VideoFrame, path: Path, *, max_width: int = THUMBNAIL_MAX_WIDTH) -> tuple[int, int]:
    """Save `frame` as a JPEG no wider than max_width; returns its (width, height)."""
    size = fit_width(frame.width, frame.height, max_width)
    with atomic_path(path) as partial:
        Image.fromarray(to_rgb(frame, size)).save(partial, format="JPEG", quality=85, optimize=True)
    return size


def preview_span(start: int, end: int, fps: float, max_seconds: float = PREVIEW_MAX_SECONDS) -> tuple[int, int]:
    """The frames a preview shows: at most max_seconds from the middle of the shot [start, end)."""
    length = min(end - start, max(1, int(max_seconds * fps)))
    first = start + (end - start - length) // 2
    return first, first + length


def write_preview(
    frames: Sequence[av.VideoFrame],
    path: Path,
    *,
    frame_rate: Fraction,
    max_width: int = PREVIEW_MAX_WIDTH,
) -> tuple[int, int]:
    """Encode frames as an MP4 (H.264, yuv420p, even size ≤ max_width wide, no audio); returns (width, height)."""
    if not frames:
        raise ValueError("a preview needs at least one frame")
    width, height = fit_width(frames[0].width, frames[0].height, max_width)
    scaler = VideoReformatter()
    with atomic_path(path) as partial, av.open(str(partial), "w", format="mp4", options=_MP4_OPTIONS) as container:
        stream = container.add_stream("libx264", rate=frame_rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        # One thread: previews are tiny and other stages of the pipeline already keep every core busy.
        stream.codec_context.thread_count = 1
        stream.options = {"preset": "veryfast", "crf": str(PREVIEW_CRF)}
        for pts, frame in enumerate(frames):
            # May be `frame` itself when no scaling is needed; its own pts is of no further use.
            scaled = scaler.reformat(frame, width, height, format="yuv420p", interpolation="BICUBIC")
            scaled.pts, scaled.time_base = pts, 1 / Fraction(frame_rate)
            container.mux(stream.encode(scaled))
        container.mux(stream.encode(None))
    return width, height
