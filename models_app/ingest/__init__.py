"""Video ingestion pipeline: probe → decode → shots (TransNetV2) → thumbnails/previews → embeddings.

Pure PyAV/torch/numpy code with no Django imports; the Django side calls `ingest_video` from a task.
"""

from models_app.ingest.errors import (
    CorruptVideoError,
    EmptyVideoError,
    IngestError,
    NotAVideoError,
    NoVideoStreamError,
    UnsupportedResolutionError,
    VideoNotFoundError,
)
from models_app.ingest.pipeline import IngestOptions, IngestResult, ShotRecord, ingest_video
from models_app.ingest.probe import VideoInfo, probe, validate_dimensions
from models_app.ingest.segments import ShotLimits, segment_shots
from models_app.ingest.shots import detect_shots, load_transnet

__all__ = [
    "CorruptVideoError",
    "EmptyVideoError",
    "IngestError",
    "IngestOptions",
    "IngestResult",
    "NoVideoStreamError",
    "NotAVideoError",
    "ShotLimits",
    "ShotRecord",
    "UnsupportedResolutionError",
    "VideoInfo",
    "VideoNotFoundError",
    "detect_shots",
    "ingest_video",
    "load_transnet",
    "probe",
    "segment_shots",
    "validate_dimensions",
]
