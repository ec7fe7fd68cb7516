"""Runs the ingestion pipeline for one Video row: progress to the database and the corpus page,
shots and embeddings written all at once, failures recorded with a readable error.

Idempotent: a finished video is skipped; an unfinished one (worker killed, task redelivered) is
ingested again from the start, overwriting its media files, and its rows are replaced in one
transaction, so a retry never duplicates anything.
"""

import logging
import time
from pathlib import Path

from django.conf import settings
from django.db import transaction

from models_app import embedders
from models_app.ingest import IngestError, IngestOptions, ShotLimits, ingest_video
from models_app.models import Video
from models_app.services import ShotRecord, shots_replace, video_progress_set

logger = logging.getLogger(__name__)

PROGRESS_EVERY_S = 0.5
STAGE_STATUS = {"decoding": Video.Status.DECODING, "shots": Video.Status.SHOTS, "embedding": Video.Status.EMBEDDING}


def media_subdir(video: Video) -> str:
    return f"shots/corpus_{video.corpus_id}"


def ingest_options() -> IngestOptions:
    return IngestOptions(
        limits=ShotLimits(min_seconds=settings.VA_SHOT_MIN_SECONDS, max_seconds=settings.VA_SHOT_MAX_SECONDS),
        samples_per_shot=settings.VA_SAMPLES_PER_SHOT,
    )


class _Progress:
    """Overall progress = mean of the three stages; written at most every PROGRESS_EVERY_S."""

    def __init__(self, video: Video):
        self.video = video
        self.stages = dict.fromkeys(STAGE_STATUS, 0)
        self.last_write = 0.0

    def __call__(self, stage: str, percent: int) -> None:
        self.stages[stage] = percent
        now = time.monotonic()
        if now - self.last_write < PROGRESS_EVERY_S:
            return
        self.last_write = now
        active = next((s for s in ("embedding", "shots", "decoding") if self.stages[s] > 0), "decoding")
        overall = sum(self.stages.values()) // len(self.stages)
        video_progress_set(video=self.video, status=STAGE_STATUS[active], progress=min(overall, 99))


def video_ingest_run(video_id: int) -> str:
    video = Video.objects.select_related("corpus").filter(pk=video_id).first()
    if video is None:
        return "missing"
    if video.status == Video.Status.DONE:
        return "skipped"
    corpus = video.corpus
    video_progress_set(video=video, status=Video.Status.DECODING, progress=0)
    try:
        embedder = embedders.embedder_for_corpus(corpus)
        if embedder.dim != corpus.dim:
            raise IngestError(
                f"the corpus holds {corpus.dim}-d vectors but its model {corpus.embedding_model} makes {embedder.dim}-d"
            )
        result = ingest_video(
            video.source,
            Path(settings.MEDIA_ROOT) / media_subdir(video),
            embedder,
            video_key=f"video_{video.id}",
            options=ingest_options(),
            progress=_Progress(video),
        )
    except IngestError as exc:
        logger.warning("video %s failed: %s", video.id, exc)
        video_progress_set(video=video, status=Video.Status.FAILED, progress=0, error=str(exc))
        return "failed"
    except Exception as exc:
        logger.exception("video %s failed unexpectedly", video.id)
        video_progress_set(video=video, status=Video.Status.FAILED, progress=0, error=f"internal error: {exc}")
        raise
    try:
        _store(video, result)
    except Exception as exc:
        logger.exception("storing the shots of video %s failed", video.id)
        video_progress_set(video=video, status=Video.Status.FAILED, progress=0, error=f"internal error: {exc}")
        raise
    logger.info("video %s: %s shots in %.1f s", video.id, len(result.shots), result.seconds)
    return "done"


def _store(video: Video, result) -> None:
    """Probe facts, shots and embeddings in one transaction, then done."""
    prefix = media_subdir(video)
    info = result.video
    with transaction.atomic():
        Video.objects.filter(pk=video.pk).update(
            duration=info.duration_s, fps=info.fps, width=info.width, height=info.height
        )
        shots_replace(
            video=video,
            shots=[
                ShotRecord(
                    start_frame=s.start_frame,
                    end_frame=s.end_frame,
                    start_s=s.start_s,
                    end_s=s.end_s,
                    thumbnail=f"{prefix}/{s.thumbnail}",
                    preview=f"{prefix}/{s.preview}",
                )
                for s in result.shots
            ],
            vectors=result.embeddings,
        )
        video_progress_set(video=video, status=Video.Status.DONE, progress=100)
