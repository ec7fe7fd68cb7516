"""/healthz: is each backing service reachable from this process? 200 if all are, else 503."""

import time
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from kombu import Connection

TIMEOUT_S = 2.0


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_broker() -> None:
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=TIMEOUT_S) as conn:
        conn.ensure_connection(max_retries=1, timeout=TIMEOUT_S)


async def _channel_roundtrip() -> None:
    import asyncio

    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    channel = await asyncio.wait_for(layer.new_channel("healthz."), TIMEOUT_S)
    token = uuid.uuid4().hex
    await asyncio.wait_for(layer.send(channel, {"type": "healthz", "token": token}), TIMEOUT_S)
    message = await asyncio.wait_for(layer.receive(channel), TIMEOUT_S)
    if message.get("token") != token:
        raise RuntimeError("channel layer returned a different message")


def check_channel_layer() -> None:
    async_to_sync(_channel_roundtrip)()


CHECKS = {"database": check_database, "broker": check_broker, "channel_layer": check_channel_layer}


def run_checks() -> dict[str, dict]:
    results = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
            results[name] = {"ok": True}
        except Exception as exc:  # a health check reports every failure instead of raising
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return results


@never_cache
def healthz(request):
    results = run_checks()
    healthy = all(r["ok"] for r in results.values())
    down = [name for name, r in results.items() if not r["ok"]]
    body = {"status": "ok" if healthy else "unavailable", "down": down, "checks": results}
    return JsonResponse(body, status=200 if healthy else 503)
