"""va_site/asgi.py serves Django's views through a handler that runs the middleware chain and the view as one
sync call: driven here as an ASGI server would (scope, receive, send), no test client in between."""

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync
from django.core.signals import request_finished, request_started

from annotation.models import LabelEvent
from tests.api_support import build_api_world
from va_site.asgi import application, django_asgi_app

pytestmark = pytest.mark.django_db(transaction=True)


def asgi_request(method: str, path: str, token: str, body: bytes = b"") -> list[dict]:
    """One HTTP request through the site's ASGI application; the messages it sent back."""
    path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent: list[dict] = []

    async def run():
        delivered = False

        async def receive():
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)  # the client stays connected

        async def send(message):
            sent.append(message)

        await application(scope, receive, send)

    async_to_sync(run)()
    return sent


def response_of(messages: list[dict]) -> tuple[int, bytes, int]:
    """Status, whole body, and the number of non-empty body messages."""
    start = next(m for m in messages if m["type"] == "http.response.start")
    bodies = [m.get("body", b"") for m in messages if m["type"] == "http.response.body"]
    return start["status"], b"".join(bodies), len([b for b in bodies if b])


def test_the_middleware_chain_is_sync_and_entered_once():
    assert not asyncio.iscoroutinefunction(django_asgi_app._middleware_chain)


def test_label_posts_exports_and_errors_through_the_asgi_application():
    world = build_api_world()
    signals = []

    def on_start(**kwargs):
        signals.append("started")

    def on_finish(**kwargs):
        signals.append("finished")

    request_started.connect(on_start)
    request_finished.connect(on_finish)
    try:
        body = json.dumps({"shot": world.shot, "value": "positive", "source": "top_positive", "rank": 2}).encode()
        status, content, _ = response_of(
            asgi_request("POST", f"/api/v1/projects/{world.project.id}/labels/", world.tokens["annotator"], body)
        )
        assert status == 201 and json.loads(content)["value"] == "positive"
        event = LabelEvent.objects.get(shot_id=world.shot, user=world.users["annotator"])
        assert (event.source, event.rank) == ("top_positive", 2)

        path = f"/api/v1/projects/{world.project.id}/scores/export/?format=csv"
        status, content, chunks = response_of(asgi_request("GET", path, world.tokens["manager"]))
        lines = content.decode().strip().splitlines()
        assert status == 200 and len(lines) == 1 + len(world.shot_ids) and chunks >= 2  # streamed, not buffered

        status, content, _ = response_of(asgi_request("GET", "/api/v1/projects/999999/", world.tokens["manager"]))
        assert status == 404 and json.loads(content)["error"]["code"] == "not_found"
    finally:
        request_started.disconnect(on_start)
        request_finished.disconnect(on_finish)
    assert signals == ["started", "finished"] * 3  # connections are handed back after every request
