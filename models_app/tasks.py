"""Thin Celery wrappers for the catalog. Ingestion runs on the `embed` queue (settings route it)."""

from celery import shared_task

from models_app.ingest_runner import video_ingest_run


@shared_task(name="models_app.tasks.ingest_video")
def ingest_video(video_id: int) -> str:
    """Idempotent: finished videos are skipped, unfinished ones redone and their rows replaced."""
    return video_ingest_run(video_id)
