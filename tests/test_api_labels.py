"""Labels through the API: provenance, idempotency keys (also under real concurrency), stale updates,
filters, and cursor pagination over thousands of rows."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from annotation import tokens
from annotation.models import IdempotencyKey, Label, LabelEvent
from models_app.models import Shot
from tests.api_support import build_api_world
from tests.factories import ShotFactory, UserFactory, VideoFactory


@pytest.fixture
def api_world(db):
    return build_api_world()


def url(world, suffix=""):
    return f"/api/v1/projects/{world.project.id}/labels/{suffix}"


def test_create_records_provenance_and_reports_created_then_changed(api_world):
    client = api_world.client("annotator")
    body = {"shot": api_world.shot, "value": "positive", "source": "search", "query": "car chase", "rank": 7}
    first = client.post(url(api_world), body, format="json")
    assert first.status_code == 201 and first.json()["changed"] is True and first.json()["version"] == 1
    event = LabelEvent.objects.filter(shot_id=api_world.shot).latest("id")
    assert (event.source, event.query, event.rank, event.page) == ("search", "car chase", 7, "api")
    again = client.post(url(api_world), body, format="json")
    assert again.status_code == 200 and again.json()["changed"] is False
    flipped = client.post(url(api_world), {**body, "value": "negative"}, format="json")
    assert flipped.status_code == 200 and flipped.json()["version"] == 2
    stale = client.post(url(api_world), {**body, "value": "unsure", "expected_version": 1}, format="json")
    assert stale.status_code == 409
    assert stale.json()["error"] == {
        "code": "stale_version",
        "message": "label was changed meanwhile (current version 2)",
        "details": {"current_version": 2},
    }


def test_invalid_input_is_400_in_the_error_shape(api_world):
    response = api_world.client("annotator").post(url(api_world), {"shot": "x", "value": "maybe"}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and set(error["details"]) == {"shot", "value"}
    version_of_other = api_world.client("annotator").post(
        url(api_world),
        {"shot": api_world.shot, "value": "positive", "classifier_version": api_world.other_version.id},
        format="json",
    )
    assert version_of_other.status_code == 400
    assert "classifier_version" in version_of_other.json()["error"]["details"]


def test_idempotency_key_replays_the_first_response(api_world):
    client = api_world.client("annotator")
    body = {"shot": api_world.shot, "value": "positive"}
    first = client.post(url(api_world), body, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    # the label moves on meanwhile; a retry of the first request still gets the first answer
    client.post(url(api_world), {**body, "value": "negative"}, format="json")
    retry = client.post(url(api_world), body, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert retry.status_code == first.status_code == 201
    assert retry.json() == first.json()
    assert (first.headers["Idempotent-Replayed"], retry.headers["Idempotent-Replayed"]) == ("false", "true")
    assert Label.objects.get(shot_id=api_world.shot, user=api_world.users["annotator"]).value == "negative"
    assert LabelEvent.objects.filter(shot_id=api_world.shot).count() == 2

    reused = client.post(url(api_world), {**body, "value": "unsure"}, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "idempotency_key_reused"
    # keys are per user: another user's same key is a different request
    other = api_world.client("reviewer").post(url(api_world), body, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert other.status_code == 201 and other.headers["Idempotent-Replayed"] == "false"


def test_a_failed_write_does_not_burn_its_key(api_world):
    client = api_world.client("annotator")
    missing = client.post(url(api_world), {"shot": 10**9, "value": "positive"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert missing.status_code == 404
    assert not IdempotencyKey.objects.exists()
    ok = client.post(
        url(api_world), {"shot": api_world.shot, "value": "positive"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert ok.status_code == 201


def test_expired_keys_are_free_again(api_world):
    client = api_world.client("annotator")
    body = {"shot": api_world.shot, "value": "positive"}
    client.post(url(api_world), body, format="json", HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(days=2))
    again = client.post(url(api_world), {**body, "value": "negative"}, format="json", HTTP_IDEMPOTENCY_KEY="old")
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "false"


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_write_once():
    """Eight clients send the same request with the same key at the same instant: one label, one event,
    eight identical answers."""
    from annotation.models import Membership, Project, Role
    from models_app.services import corpus_create

    user = UserFactory()
    corpus = corpus_create(name="c", embedding_model="test-arch", dim=4)
    project = Project.objects.create(corpus=corpus, name="p", created_by=user)
    Membership.objects.create(project=project, user=user, role=Role.ANNOTATOR)
    shot = ShotFactory(video=VideoFactory(corpus=corpus))
    secret = tokens.token_create(user=user, name="t").secret
    barrier, answers, errors = threading.Barrier(8), [], []

    def post():
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
            barrier.wait()
            response = client.post(
                f"/api/v1/projects/{project.id}/labels/",
                {"shot": shot.id, "value": "positive"},
                format="json",
                HTTP_IDEMPOTENCY_KEY="same",
            )
            answers.append((response.status_code, response.json()))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(answers) == 8 and all(a == answers[0] for a in answers), answers
    assert answers[0][0] == 201
    assert LabelEvent.objects.filter(project=project).count() == 1
    assert IdempotencyKey.objects.count() == 1


def test_update_is_conditional_and_only_on_ones_own_label(api_world):
    client = api_world.client("annotator")
    created = client.post(url(api_world), {"shot": api_world.shot, "value": "positive"}, format="json").json()
    detail = url(api_world, f"{created['id']}/")
    ok = client.patch(detail, {"value": "negative", "version": 1, "source": "review"}, format="json")
    assert ok.status_code == 403  # annotators may not record review decisions
    ok = client.patch(detail, {"value": "negative", "version": 1}, format="json")
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = client.patch(detail, {"value": "unsure", "version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["error"]["details"] == {"current_version": 2}
    assert client.get(detail).json()["value"] == "negative"
    someone_elses = api_world.client("reviewer").patch(detail, {"value": "positive", "version": 2}, format="json")
    assert someone_elses.status_code == 403


def walk(client, first_url):
    rows, pages, next_url = [], 0, first_url
    while next_url:
        page = client.get(next_url).json()
        rows += page["results"]
        pages += 1
        next_url = page["next"]
    return rows, pages


def test_cursor_pagination_over_thousands_of_labels_is_complete_and_stable(api_world):
    video = VideoFactory(corpus=api_world.project.corpus)
    shots = Shot.objects.bulk_create(
        Shot(video=video, index=i, start_frame=i, end_frame=i + 1, start_s=i, end_s=i + 1) for i in range(3000)
    )
    annotator = api_world.users["annotator"]
    Label.objects.bulk_create(
        Label(project=api_world.project, shot=s, user=annotator, value="positive" if i % 3 else "negative")
        for i, s in enumerate(shots)
    )
    expected = list(Label.objects.filter(project=api_world.project).order_by("id").values_list("id", flat=True))
    client = api_world.client("viewer")

    first = client.get(url(api_world, "?page_size=700")).json()
    # rows written while a client pages through never shift or repeat the pages it has yet to read
    Label.objects.bulk_create(
        Label(project=api_world.project, shot=s, user=api_world.users["reviewer"], value="unsure") for s in shots[:50]
    )
    rest, pages = walk(client, first["next"])
    ids = [row["id"] for row in first["results"] + rest]
    assert ids[: len(expected)] == expected and len(ids) == len(set(ids)) == len(expected) + 50
    assert pages == 4

    negatives, _ = walk(client, url(api_world, "?value=negative&page_size=1000"))
    assert len(negatives) == Label.objects.filter(project=api_world.project, value="negative").count() > 1000
    assert all(row["value"] == "negative" for row in negatives)
    by_user, _ = walk(client, url(api_world, f"?user={api_world.users['reviewer'].id}"))
    assert {row["username"] for row in by_user} == {"reviewer"} and len(by_user) == 50
    one_shot, _ = walk(client, url(api_world, f"?shot={shots[0].id}"))
    assert {row["shot"] for row in one_shot} == {shots[0].id} and len(one_shot) == 2
    since = (timezone.now() + timedelta(hours=1)).isoformat()
    assert client.get(url(api_world), {"updated_since": since}).json()["results"] == []
    assert client.get(url(api_world, "?page_size=0")).status_code in (200, 400)
    assert client.get(url(api_world, "?cursor=garbage")).status_code == 404
