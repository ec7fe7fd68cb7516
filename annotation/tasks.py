"""Thin Celery wrappers: load by id, call a selector or service. Idempotent."""

from celery import shared_task
from django.db.models import Count, Q

from annotation import training
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


@shared_task(name="annotation.retrain_project")
def retrain_project(project_id: int) -> int | None:
    """Train a new version on the current labels (a redelivery just trains once more)."""
    version = training.retrain_run(project_id)
    return version.id if version else None


@shared_task(name="annotation.version_metrics")
def version_metrics(version_id: int) -> dict:
    return training.version_metrics_run(version_id)


@shared_task(name="annotation.project_agreement")
def project_agreement(project_id: int) -> int | None:
    """Recompute and store the project's inter-annotator agreement (idempotent)."""
    from annotation import quality

    report = quality.agreement_run(project_id)
    return report.id if report else None


@shared_task(name="annotation.webhook_deliver", bind=True, max_retries=None, acks_late=True)
def webhook_deliver(self, delivery_id: int) -> str:
    """Send one webhook delivery; on failure retry with exponential backoff (the row counts attempts)."""
    from annotation import webhooks
    from annotation.models import WebhookDelivery

    outcome = webhooks.delivery_attempt(delivery_id)
    if outcome is False:
        attempts = WebhookDelivery.objects.filter(pk=delivery_id).values_list("attempts", flat=True).first() or 1
        raise self.retry(countdown=webhooks.retry_countdown(attempts))
    return {True: "delivered", None: "done"}[outcome]
