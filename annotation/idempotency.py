"""Idempotency keys for writes: the first response to (user, key) is stored and replayed for retries.

The key row is inserted in the same transaction as the write it guards. A concurrent request with the
same key blocks on the unique index until the first commits, then replays its stored response (or, if
the first failed and rolled back, runs the write itself). A failed write stores nothing, so the client
may retry it with the same key. The same key with a different request is refused (IdempotencyKeyReused).
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from annotation.models import IdempotencyKey

KEY_MAX_LENGTH = 255
KEY_TTL = timedelta(hours=24)  # older keys are treated as unused (and may be deleted)


class IdempotencyKeyReused(Exception):
    """The key was already used for a different request (HTTP 422)."""


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: dict
    replayed: bool


def fingerprint(method: str, path: str, body: object) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method.upper()} {path}\n{canonical}".encode()).hexdigest()


@transaction.atomic
def idempotent_run(*, user, key: str, fingerprint: str, perform: Callable[[], tuple[int, dict]]) -> StoredResponse:
    """Run `perform` (a write returning (status, JSON body)) once per (user, key)."""
    if not 0 < len(key) <= KEY_MAX_LENGTH:
        raise ValueError(f"Idempotency-Key must be 1…{KEY_MAX_LENGTH} characters")
    cutoff = timezone.now() - KEY_TTL
    with connection.cursor() as cursor:
        # An expired key is free again: drop it first (no-op in the common case).
        cursor.execute(
            "DELETE FROM annotation_idempotencykey WHERE user_id = %s AND key = %s AND created_at < %s",
            [user.id, key, cutoff],
        )
        cursor.execute(
            "INSERT INTO annotation_idempotencykey (user_id, key, fingerprint, created_at)"
            " VALUES (%s, %s, %s, now()) ON CONFLICT (user_id, key) DO NOTHING RETURNING id",
            [user.id, key, fingerprint],
        )
        inserted = cursor.fetchone()
    if inserted is None:
        stored = IdempotencyKey.objects.get(user=user, key=key)
        if stored.fingerprint != fingerprint:
            raise IdempotencyKeyReused("this Idempotency-Key was already used with a different request")
        return StoredResponse(status_code=stored.status_code, body=stored.response, replayed=True)
    status_code, body = perform()
    IdempotencyKey.objects.filter(pk=inserted[0]).update(status_code=status_code, response=body)
    return StoredResponse(status_code=status_code, body=body, replayed=False)
