"""Streamed exports: numpy formatting is exact, every shot comes exactly once with its score, the
response streams in bounded chunks (WSGI and ASGI), and label exports in CSV, JSONL and VA JSON."""

import csv
import io
import json

import numpy as np
import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient

from annotation import exports
from annotation.models import Label
from models_app import learning
from tests.api_support import build_api_world, embedded_corpus, train_and_publish
from tests.factories import UserFactory, make_project


@pytest.fixture
def api_world(db):
    return build_api_world()


def test_numpy_formatting_matches_python_formatting():
    rng = np.random.default_rng(0)
    ids = np.concatenate([[0, 1, 9, 10, 99, 100, 10**12], rng.integers(0, 10**9, size=5000)]).astype(np.int64)
    probs = np.concatenate([[0.0, 1.0, 0.5, 1e-9, 0.9999996, 0.1234565, 0.0000005], rng.random(5000)])
    probs = probs.astype(np.float32)
    expected_csv = "".join(f"{i},{float(p):.6f}\n" for i, p in zip(ids, probs.astype(np.float64), strict=True))
    assert exports.format_scores(ids, probs, "csv").decode() == expected_csv
    lines = exports.format_scores(ids, probs, "jsonl").decode().splitlines()
    parsed = [json.loads(line) for line in lines]
    assert [row["shot_id"] for row in parsed] == ids.tolist()
    assert np.allclose([row["score"] for row in parsed], probs, atol=5e-7)
    assert exports.format_scores(ids[:0], probs[:0], "csv") == b""
    with pytest.raises(ValueError):
        exports.format_scores(ids, probs, "xml")


@pytest.fixture
def big_project(db):
    """5,000 shots, a published version, a viewer."""
    corpus, _, shot_ids, truth, vectors = embedded_corpus("big", 5000, dim=32, seed=3, model="test-arch")
    manager, viewer = UserFactory(), UserFactory()
    project = make_project(corpus, manager, "big")
    from annotation.models import Membership

    Membership.objects.create(project=project, user=viewer, role="viewer")
    version = train_and_publish(project, manager, shot_ids, truth, n_each=5)
    expected = learning.sigmoid(vectors @ np.asarray(version.weights, dtype=np.float32) + np.float32(version.bias))
    return project, viewer, shot_ids, expected, version


def test_score_export_streams_every_shot_once_in_bounded_chunks(big_project, client, monkeypatch):
    project, viewer, shot_ids, expected, version = big_project
    monkeypatch.setattr(exports, "CHUNK_ROWS", 1024)
    client.force_login(viewer)
    response = client.get(f"/api/v1/projects/{project.id}/scores/export/?format=csv")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert response["X-Row-Count"] == "5000" and response["X-Classifier-Version"] == str(version.number)
    chunks = list(response.streaming_content)
    assert len(chunks) == 1 + 5  # header + ceil(5000 / 1024): memory per chunk, not per catalog
    assert max(len(c) for c in chunks) < 1024 * 32
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode())))
    assert rows[0] == ["shot_id", "score"]
    got_ids = np.array([int(r[0]) for r in rows[1:]])
    got = np.array([float(r[1]) for r in rows[1:]])
    assert np.array_equal(got_ids, np.sort(shot_ids))
    assert np.allclose(got, expected[np.argsort(shot_ids)], atol=1e-6)

    jsonl = client.get(f"/api/v1/projects/{project.id}/scores/export/?format=jsonl")
    assert jsonl["Content-Type"] == "application/x-ndjson"
    lines = b"".join(jsonl.streaming_content).decode().splitlines()
    assert [json.loads(line)["shot_id"] for line in lines] == got_ids.tolist()


def test_score_export_before_publishing_is_404(db, client):
    corpus, _, shot_ids, truth, _ = embedded_corpus("unpublished", 50, dim=8, model="test-arch")
    manager = UserFactory()
    project = make_project(corpus, manager, "p")
    client.force_login(manager)
    response = client.get(f"/api/v1/projects/{project.id}/scores/export/")
    assert (
        response.status_code == 404 and response.json()["error"]["message"] == "this project has no published version"
    )
    assert client.get(f"/api/v1/projects/{project.id}/scores/export/?format=xml").status_code == 400


@pytest.mark.django_db(transaction=True)
def test_score_export_under_asgi_streams_through_an_async_iterator(monkeypatch):
    """Under ASGI a sync iterator would be collected whole by Django; ours is pulled chunk by chunk."""
    from annotation.tokens import token_create

    corpus, _, shot_ids, truth, _ = embedded_corpus("asgi", 3000, dim=16, seed=5, model="test-arch")
    manager = UserFactory()
    project = make_project(corpus, manager, "asgi")
    train_and_publish(project, manager, shot_ids, truth, n_each=4)
    secret = token_create(user=manager, name="t").secret
    monkeypatch.setattr(exports, "CHUNK_ROWS", 500)

    async def fetch():
        response = await AsyncClient().get(
            f"/api/v1/projects/{project.id}/scores/export/?format=csv", headers={"Authorization": f"Bearer {secret}"}
        )
        assert response.is_async
        return response.status_code, [chunk async for chunk in response.streaming_content]

    status, chunks = async_to_sync(fetch)()
    assert status == 200 and len(chunks) == 1 + 6
    body = b"".join(chunks).decode().splitlines()
    assert len(body) == 3001 and [int(line.split(",")[0]) for line in body[1:]] == sorted(shot_ids.tolist())

    # the label export's pages run queries: on the request's own thread, while streaming
    monkeypatch.setattr(exports, "LABEL_PAGE", 3)

    async def fetch_labels():
        response = await AsyncClient().get(
            f"/api/v1/projects/{project.id}/labels/export/?format=jsonl", headers={"Authorization": f"Bearer {secret}"}
        )
        return [chunk async for chunk in response.streaming_content]

    chunks = async_to_sync(fetch_labels)()
    rows = [json.loads(line) for line in b"".join(chunks).splitlines()]
    assert len(chunks) == 3 and len(rows) == 8 == Label.objects.filter(project=project).count()


def test_label_exports_csv_jsonl_and_va(api_world, client):
    project = api_world.project
    reviewer = api_world.users["reviewer"]
    from annotation.services import Provenance, label_set

    positives = [int(s) for s in api_world.shot_ids[api_world.truth][:3]]
    # the reviewer's review decision overrides the annotator's label in the consensus
    label_set(
        user=reviewer, project_id=project.id, shot_id=positives[0], value="negative", provenance=Provenance("review")
    )
    client.force_login(api_world.users["viewer"])
    base = f"/api/v1/projects/{project.id}/labels/export/"
    csv_rows = list(csv.DictReader(io.StringIO(b"".join(client.get(base).streaming_content).decode())))
    labels = Label.objects.filter(project=project)
    assert len(csv_rows) == labels.count()
    assert {(int(r["shot_id"]), r["user"], r["value"]) for r in csv_rows} == {
        (lb.shot_id, lb.user.username, lb.value) for lb in labels.select_related("user")
    }
    jsonl = [
        json.loads(line)
        for line in b"".join(client.get(base + "?format=jsonl&value=negative").streaming_content).splitlines()
    ]
    assert jsonl and {row["value"] for row in jsonl} == {"negative"}
    response = client.get(base + "?format=va")
    assert response["Content-Type"] == "application/json"
    va = json.loads(b"".join(response.streaming_content))
    assert set(va) == {"pos", "neg"}
    assert positives[0] in va["neg"] and set(positives[1:]) <= set(va["pos"])
    assert not set(va["pos"]) & set(va["neg"])


def test_label_export_pages_through_thousands_of_rows(api_world, client, monkeypatch):
    from models_app.models import Shot
    from tests.factories import VideoFactory

    monkeypatch.setattr(exports, "LABEL_PAGE", 400)
    video = VideoFactory(corpus=api_world.project.corpus)
    shots = Shot.objects.bulk_create(
        Shot(video=video, index=i, start_frame=i, end_frame=i + 1, start_s=i, end_s=i + 1) for i in range(2500)
    )
    Label.objects.bulk_create(
        Label(project=api_world.project, shot=s, user=api_world.users["annotator"], value="positive") for s in shots
    )
    client.force_login(api_world.users["viewer"])
    chunks = list(client.get(f"/api/v1/projects/{api_world.project.id}/labels/export/?format=jsonl").streaming_content)
    ids = [json.loads(line)["id"] for line in b"".join(chunks).splitlines()]
    assert ids == sorted(Label.objects.filter(project=api_world.project).values_list("id", flat=True))
    assert len(chunks) == -(-len(ids) // 400)
