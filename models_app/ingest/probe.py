"""Read a video's basic facts with PyAV and reject files the pipeline cannot ingest."""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from models_app.ingest.errors import (
    CorruptVideoError,
    EmptyVideoError,
    NotAVideoError,
    NoVideoStreamError,
    UnsupportedResolutionError,
    VideoNotFoundError,
)

MIN_SIDE = 16
MAX_SIDE = 8192

# FFmpeg demuxers that read single still images: such a file opens as a one-frame "video".
_IMAGE_FORMATS = {"image2", "png_pipe", "jpeg_pipe", "bmp_pipe", "webp_pipe", "tiff_pipe", "gif_pipe"}

# Leading bytes of the common video containers. A file that starts like a container but cannot be
# opened is corrupt; anything else is simply not a video.
_CONTAINER_SIGNATURES = (
    (4, b"ftyp"),  # MP4 / MOV / 3GP
    (4, b"moov"),
    (4, b"mdat"),
    (4, b"wide"),
    (4, b"free"),
    (0, b"\x1a\x45\xdf\xa3"),  # Matroska / WebM
    (0, b"RIFF"),  # AVI
    (0, b"FLV"),
    (0, b"OggS"),
    (0, b"\x00\x00\x01\xba"),  # MPEG-PS
    (0, b"\x47"),  # MPEG-TS sync byte
)


@dataclass(frozen=True)
class VideoInfo:
    path: str
    container: str
    codec: str
    width: int
    height: int
    frame_rate: Fraction  # exact, for re-encoding previews
    duration_s: float
    frame_count: int  # from the container header when present, else duration × fps (an estimate)
    has_audio: bool

    @property
    def fps(self) -> float:
        return float(self.frame_rate)


def validate_dimensions(width: int, height: int) -> None:
    """Raise UnsupportedResolutionError unless both sides are within [MIN_SIDE, MAX_SIDE] pixels."""
    for side in (width, height):
        if not MIN_SIDE <= side <= MAX_SIDE:
            raise UnsupportedResolutionError(
                f"Unsupported resolution {width}×{height}: each side must be between {MIN_SIDE} and {MAX_SIDE} pixels."
            )


def probe(path: str | os.PathLike[str]) -> VideoInfo:
    """Open the file, check it holds a decodable video stream of sane size, and describe it.

    Decodes the first frame, so a file that passes will also start decoding in the pipeline.
    Raises a subclass of IngestError with a message fit for users.
    """
    path = Path(path)
    if not path.is_file():
        raise VideoNotFoundError(f"Video file not found: {path.name}")
    if path.stat().st_size == 0:
        raise EmptyVideoError(f"{path.name} is empty (0 bytes).")
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        raise unreadable_error(path, exc) from exc
    with container:
        if container.format.name in _IMAGE_FORMATS:
            raise NotAVideoError(f"{path.name} is a still image, not a video.")
        if not container.streams:
            # What muxers leave of a recording that never got a frame (an MP4 drops its empty tracks).
            raise EmptyVideoError(f"{path.name} contains no video frames (the file holds no streams).")
        if not container.streams.video:
            if container.streams.audio:
                raise NoVideoStreamError(f"{path.name} contains only audio, no video stream.")
            raise NoVideoStreamError(f"{path.name} contains no video stream.")
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        validate_dimensions(stream.codec_context.width, stream.codec_context.height)
        frame_rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        if not frame_rate or frame_rate <= 0:
            raise CorruptVideoError(f"{path.name}: the video stream has no frame rate.")
        if _first_frame(container, stream, path) is None:
            raise EmptyVideoError(f"{path.name} contains no video frames.")
        duration_s = _duration_s(container, stream)
        frame_count = stream.frames or max(1, round(duration_s * frame_rate))
        return VideoInfo(
            path=str(path),
            container=container.format.name,
            codec=codec,
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            frame_rate=Fraction(frame_rate),
            duration_s=duration_s or frame_count / float(frame_rate),
            frame_count=int(frame_count),
            has_audio=bool(container.streams.audio),
        )


def unreadable_error(path: Path, exc: Exception) -> CorruptVideoError | NotAVideoError:
    """Tell a damaged video apart from a file that never was one, by its leading bytes."""
    with open(path, "rb") as f:
        head = f.read(16)
    if any(head[offset : offset + len(magic)] == magic for offset, magic in _CONTAINER_SIGNATURES):
        return CorruptVideoError(f"{path.name} looks like a video but cannot be read (corrupt or truncated): {exc}")
    return NotAVideoError(f"{path.name} is not a video file (unrecognised format).")


def _first_frame(container: av.container.InputContainer, stream: av.VideoStream, path: Path) -> av.VideoFrame | None:
    try:
        for frame in container.decode(stream):
            return frame
    except av.error.FFmpegError as exc:
        raise CorruptVideoError(f"{path.name}: the video stream cannot be decoded: {exc}") from exc
    return None


def _duration_s(container: av.container.InputContainer, stream: av.VideoStream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0
