"""Webhooks end to end: publishing through the API → delivery rows → a real Celery worker POSTs signed
bodies to a real local HTTP receiver, retrying with exponential backoff; managers read the delivery log."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rest_framework.test import APIClient

from annotation import webhooks
from annotation.models import ClassifierVersion, Membership, Role, WebhookDelivery
from annotation.tokens import token_create
from tests.factories import UserFactory, make_corpus, make_project
from tests.workers import celery_worker

pytestmark = pytest.mark.django_db(transaction=True)


class Receiver:
    """An HTTP server in a thread that answers 500 to the first `failures` requests, then 200."""

    def __init__(self, failures: int):
        self.requests, self.failures = [], failures
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((time.monotonic(), self.headers, body))  # case-insensitive
                self.send_response(500 if len(receiver.requests) <= receiver.failures else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/nobody-listens"


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_publish_calls_signed_webhooks_with_retries_and_a_delivery_log():
    manager, reviewer = UserFactory(), UserFactory()
    project = make_project(make_corpus("hooks", dim=4), manager, "hooks")
    Membership.objects.create(project=project, user=reviewer, role=Role.REVIEWER)
    version = ClassifierVersion.objects.create(project=project, number=1, status="ready", weights=[0.1] * 4)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(user=manager, name='m').secret}")
    receiver = Receiver(failures=2)
    try:
        hooks = f"/api/v1/projects/{project.id}/webhooks/"
        good = api.post(hooks, {"url": receiver.url, "events": ["version.published"]}).json()
        dead = api.post(hooks, {"url": closed_port_url()}).json()
        assert api.post(hooks, {"url": "ftp://example.org/x"}).status_code == 400
        env = {"VA_WEBHOOK_BACKOFF_S": "0.3", "VA_WEBHOOK_MAX_ATTEMPTS": "3"}
        with celery_worker(extra_env=env):
            published = api.post(f"/api/v1/projects/{project.id}/versions/{version.id}/publish/")
            assert published.status_code == 200
            finished = lambda: not WebhookDelivery.objects.filter(status="pending").exists()  # noqa: E731
            assert wait_for(lambda: WebhookDelivery.objects.count() == 2 and finished())
    finally:
        receiver.close()

    ok = WebhookDelivery.objects.get(webhook_id=good["id"])
    assert (ok.status, ok.attempts, ok.last_status_code) == ("succeeded", 3, 200)
    assert [entry["status_code"] for entry in ok.log] == [500, 500, 200]
    assert len(receiver.requests) == 3
    for _, headers, body in receiver.requests:
        assert webhooks.verify(good["secret"], body, headers["X-VA-Signature"])
        assert not webhooks.verify(dead["secret"], body, headers["X-VA-Signature"])
        assert headers["X-VA-Event"] == "version.published" and headers["X-VA-Delivery"] == str(ok.id)
        payload = json.loads(body)
        assert payload["data"] == {"version_id": version.id, "number": 1} and payload["project_id"] == project.id
    (t1, *_), (t2, *_), (t3, *_) = receiver.requests
    assert t2 - t1 >= 0.25 and t3 - t2 >= 0.55  # 0.3 s, then 0.6 s: exponential backoff

    failed = WebhookDelivery.objects.get(webhook_id=dead["id"])
    assert (failed.status, failed.attempts, failed.last_status_code) == ("failed", 3, None)
    assert "refused" in failed.last_error.lower()

    log = api.get(f"/api/v1/projects/{project.id}/webhooks/{good['id']}/deliveries/").json()["results"]
    assert [(d["status"], d["attempts"]) for d in log] == [("succeeded", 3)]
    assert len(log[0]["log"]) == 3
    reviewer_api = APIClient()
    reviewer_api.force_authenticate(reviewer)
    assert reviewer_api.get(f"/api/v1/projects/{project.id}/webhooks/{good['id']}/deliveries/").status_code == 403
