"""Tokens (personal and service accounts, stored hashed, revocable), token scopes, session auth with CSRF,
and per-token throttling — all answering in the one error shape."""

import hashlib

import pytest
from rest_framework.test import APIClient

from annotation.models import ApiToken, Label
from tests.api_support import build_api_world


@pytest.fixture
def api_world(db):
    return build_api_world()


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_personal_token_is_shown_once_stored_hashed_and_revocable(api_world):
    session = APIClient()
    session.force_login(api_world.users["annotator"])
    created = session.post("/api/v1/tokens/", {"name": "laptop", "scope": "write"}, format="json")
    assert created.status_code == 201
    secret = created.json()["token"]
    row = ApiToken.objects.get(pk=created.json()["id"])
    assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest() and secret not in (row.prefix, row.key_hash)
    listed = session.get("/api/v1/tokens/").json()["results"]
    assert "token" not in listed[0] and {t["name"] for t in listed} == {"annotator token", "laptop"}
    assert bearer(secret).get(f"/api/v1/projects/{api_world.project.id}/").status_code == 200

    tampered = secret[:-2] + ("AA" if not secret.endswith("AA") else "BB")
    refused = bearer(tampered).get(f"/api/v1/projects/{api_world.project.id}/")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "authentication_failed"

    assert session.delete(f"/api/v1/tokens/{row.id}/").status_code == 204
    assert bearer(secret).get(f"/api/v1/projects/{api_world.project.id}/").status_code == 401
    assert bearer(api_world.tokens["annotator"]).get("/api/v1/tokens/").status_code == 200  # the other one lives


def test_read_scoped_tokens_cannot_write(api_world):
    secret = bearer(api_world.tokens["annotator"]).post("/api/v1/tokens/", {"name": "ro", "scope": "read"}).json()
    client = bearer(secret["token"])
    assert client.get(f"/api/v1/projects/{api_world.project.id}/labels/").status_code == 200
    refused = client.post(
        f"/api/v1/projects/{api_world.project.id}/labels/", {"shot": api_world.shot, "value": "positive"}
    )
    assert refused.status_code == 403 and refused.json()["error"]["message"] == "this token is read-only"


def test_service_accounts_are_project_scoped_users_that_managers_create_and_revoke(api_world):
    manager = api_world.client("manager")
    base = f"/api/v1/projects/{api_world.project.id}/service-accounts/"
    created = manager.post(base, {"name": "ETL nightly", "role": "annotator", "scope": "write"}, format="json")
    assert created.status_code == 201 and created.json()["kind"] == "service"
    service = bearer(created.json()["token"])
    labeled = service.post(
        f"/api/v1/projects/{api_world.project.id}/labels/", {"shot": api_world.shot, "value": "positive"}
    )
    assert labeled.status_code == 201
    assert Label.objects.get(pk=labeled.json()["id"]).user.username.startswith(
        f"svc-{api_world.project.id}-etl-nightly"
    )
    # scoped to its project: the other project, and the catalog of other corpora, do not exist for it
    assert service.get(f"/api/v1/projects/{api_world.other_project.id}/").status_code == 404
    assert [p["id"] for p in service.get("/api/v1/projects/").json()["results"]] == [api_world.project.id]
    assert service.post("/api/v1/tokens/", {"name": "escape"}).status_code == 403
    # managers see it (without the secret); only they may create or revoke
    listed = manager.get(base).json()["results"]
    # (the world's own service accounts of this project, then the new one; never another project's)
    assert [t["name"] for t in listed] == ["service-read", "service-annotator", "ETL nightly"]
    assert not any("token" in t for t in listed)
    assert api_world.client("reviewer").post(base, {"name": "x"}).status_code == 403
    assert api_world.client("manager").post(base, {"name": "x", "role": "manager"}).status_code == 400
    assert manager.delete(f"{base}{created.json()['id']}/").status_code == 204
    assert service.get(f"/api/v1/projects/{api_world.project.id}/").status_code == 401


def test_session_auth_needs_csrf_for_writes(api_world):
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(api_world.users["annotator"])
    assert browser.get(f"/api/v1/projects/{api_world.project.id}/labels/").status_code == 200
    refused = browser.post(
        f"/api/v1/projects/{api_world.project.id}/labels/", {"shot": api_world.shot, "value": "positive"}
    )
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]["message"]


def test_throttling_is_per_token_and_scope(api_world, settings):
    settings.VA_API_RATES = {**settings.VA_API_RATES, "read": 3, "write": 2}
    viewer, other = api_world.client("viewer"), api_world.client("annotator")
    url = f"/api/v1/projects/{api_world.project.id}/"
    assert [viewer.get(url).status_code for _ in range(3)] == [200, 200, 200]
    throttled = viewer.get(url)
    assert throttled.status_code == 429
    assert (
        throttled.json()["error"]["code"] == "throttled"
        and 0 < throttled.json()["error"]["details"]["wait_seconds"] <= 60
    )
    assert int(throttled.headers["Retry-After"]) <= 60
    assert other.get(url).status_code == 200  # another token has its own budget
    labels = f"/api/v1/projects/{api_world.project.id}/labels/"
    body = {"shot": api_world.shot, "value": "positive"}
    assert [other.post(labels, body).status_code for _ in range(3)] == [201, 200, 429]  # writes: their own budget
