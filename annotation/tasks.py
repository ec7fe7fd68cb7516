"""Thin Celery wrappers: load by id, call a selector or service. Idempotent."""

from celery import shared_task
from django.db.models import Count, Q

from annotation.models import Label


@shared_task(name="annotation.project_progress")
def project_progress(project_id: int) -> dict:
    """Label counts of a project (read-only, so safe to redeliver)."""
    counts = Label.objects.filter(project_id=project_id).aggregate(
        labels=Count("id"),
        positives=Count("id", filter=Q(value="positive")),
        negatives=Count("id", filter=Q(value="negative")),
        shots=Count("shot_id", distinct=True),
    )
    return {"project_id": project_id, **counts}
