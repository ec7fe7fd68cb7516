"""Webhooks: projects register URLs called when a version is published.

Each call is one WebhookDelivery row, created in the transaction of the event and sent by the Celery
worker after commit. The body is JSON, signed with the webhook's secret:

    X-VA-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>

Receivers recompute the HMAC over the raw body and compare in constant time (and may reject old `t`).
A failed attempt (network error or non-2xx) is retried with exponential backoff
(VA_WEBHOOK_BACKOFF_S × 2^attempt, VA_WEBHOOK_MAX_ATTEMPTS attempts); every attempt is logged on the row.
"""

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from annotation.access import CAN_MANAGE, access_project
from annotation.errors import NotFound
from annotation.models import Webhook, WebhookDelivery

EVENTS = ("version.published",)
SIGNATURE_HEADER = "X-VA-Signature"
RESPONSE_EXCERPT = 500


@dataclass(frozen=True)
class CreatedWebhook:
    webhook: Webhook
    secret: str


def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does (used by the tests and documented for integrators)."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    if "t" not in parts or "v1" not in parts or not parts["t"].isdigit():
        return False
    return hmac.compare_digest(sign(secret, body, int(parts["t"])), header)


def _validate(url: str, events: list[str]) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({"url": "an http(s) URL with a host"})
    unknown = set(events) - set(EVENTS)
    if unknown:
        raise ValidationError({"events": f"unknown events {sorted(unknown)}; known: {', '.join(EVENTS)}"})


@transaction.atomic
def webhook_create(*, actor, project_id: int, url: str, events: list[str] | None = None) -> CreatedWebhook:
    project, _ = access_project(actor, project_id, allowed=CAN_MANAGE, lock=True)
    events = list(events or [])
    _validate(url, events)
    secret = secrets.token_urlsafe(32)
    webhook = Webhook.objects.create(project=project, url=url, events=events, secret=secret, created_by=actor)
    return CreatedWebhook(webhook=webhook, secret=secret)


@transaction.atomic
def webhook_delete(*, actor, project_id: int, webhook_id: int) -> None:
    project, _ = access_project(actor, project_id, allowed=CAN_MANAGE, lock=True)
    deleted, _ = Webhook.objects.filter(pk=webhook_id, project=project).delete()
    if not deleted:
        raise NotFound("webhook not found")


def webhook_list(*, user, project_id: int):
    project, _ = access_project(user, project_id, allowed=CAN_MANAGE)
    return Webhook.objects.filter(project=project).order_by("id")


def delivery_list(*, user, project_id: int, webhook_id: int):
    project, _ = access_project(user, project_id, allowed=CAN_MANAGE)
    if not Webhook.objects.filter(pk=webhook_id, project=project).exists():
        raise NotFound("webhook not found")
    return WebhookDelivery.objects.filter(webhook_id=webhook_id).order_by("id")


def deliveries_schedule(*, project_id: int, event: str, payload: dict) -> list[int]:
    """Inside the event's transaction: one delivery row per active webhook, sent after commit."""
    from annotation.tasks import webhook_deliver

    body = {"event": event, "project_id": project_id, "sent_for": timezone.now().isoformat(), "data": payload}
    ids = []
    for webhook in Webhook.objects.filter(project_id=project_id, active=True):
        if webhook.events and event not in webhook.events:
            continue
        ids.append(WebhookDelivery.objects.create(webhook=webhook, event=event, payload=body).id)
    for delivery_id in ids:
        transaction.on_commit(lambda d=delivery_id: webhook_deliver.delay(d), robust=True)
    return ids


def delivery_attempt(delivery_id: int) -> bool | None:
    """Send one delivery once and log the attempt. True: delivered (or already), False: failed and may be
    retried, None: gone or given up. Called by the Celery task, which schedules retries."""
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None or delivery.status == WebhookDelivery.Status.SUCCEEDED:
        return None if delivery is None else True
    body = json.dumps({**delivery.payload, "delivery_id": delivery.id}, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "VideoAnnotator-Webhooks/1",
        "X-VA-Event": delivery.event,
        "X-VA-Delivery": str(delivery.id),
        SIGNATURE_HEADER: sign(delivery.webhook.secret, body, int(time.time())),
    }
    started = time.perf_counter()
    status_code, error = None, ""
    try:
        request = urllib.request.Request(delivery.webhook.url, data=body, headers=headers, method="POST")  # noqa: S310 — http(s) only, validated
        with urllib.request.urlopen(request, timeout=settings.VA_WEBHOOK_TIMEOUT_S) as response:  # noqa: S310
            status_code = response.status
    except urllib.error.HTTPError as exc:
        status_code, error = exc.code, exc.read(RESPONSE_EXCERPT).decode(errors="replace")
    except Exception as exc:  # network errors, timeouts: logged and retried
        error = f"{type(exc).__name__}: {exc}"[:RESPONSE_EXCERPT]
    ok = status_code is not None and 200 <= status_code < 300
    attempts = delivery.attempts + 1
    entry = {
        "attempt": attempts,
        "at": timezone.now().isoformat(),
        "status_code": status_code,
        "error": error,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    if ok:
        status = WebhookDelivery.Status.SUCCEEDED
    elif attempts >= settings.VA_WEBHOOK_MAX_ATTEMPTS:
        status = WebhookDelivery.Status.FAILED
    else:
        status = WebhookDelivery.Status.PENDING
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=attempts,
        status=status,
        last_status_code=status_code,
        last_error=error or ("" if ok else f"HTTP {status_code}"),
        log=[*delivery.log, entry],
        delivered_at=timezone.now() if ok else None,
    )
    if ok:
        return True
    return False if status == WebhookDelivery.Status.PENDING else None


def retry_countdown(attempts_so_far: int) -> float:
    return settings.VA_WEBHOOK_BACKOFF_S * (2 ** max(attempts_so_far - 1, 0))
