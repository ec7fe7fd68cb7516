"""Feeds pages, zero-shot and more-like-this search, publishing, and the published version's scores."""

import numpy as np
import pytest
from django.core.exceptions import ValidationError

from annotation import scores, training
from annotation.errors import NotFound, RoleRequired
from annotation.models import ClassifierVersion, Membership, Role
from annotation.services import label_set, version_publish
from models_app import embedders
from models_app.embedding import TEST_MODEL_NAME
from models_app.services import ShotRecord, corpus_create, shots_replace
from tests.factories import UserFactory, VideoFactory, make_project
from tests.test_training import label_some, planted  # noqa: F401 — fixture


@pytest.fixture
def trained(planted):  # noqa: F811
    project, shot_ids, truth, user = planted
    label_some(project, shot_ids, truth, user, n_each=4)
    version = training.retrain_run(project.id)
    return project, shot_ids, truth, user, version


def test_feed_pages_are_stable_and_drop_newly_labeled_shots(trained):
    project, _, _, user, version = trained
    _, first = scores.feed_page(user=user, project_id=project.id, feed="top_positive", limit=10)
    _, second = scores.feed_page(user=user, project_id=project.id, feed="top_positive", offset=10, limit=10)
    assert [s.rank for s in first + second] == list(range(1, 21))
    assert all(a.score >= b.score for a, b in zip(first, first[1:], strict=False))
    label_set(user=user, project_id=project.id, shot_id=first[0].shot_id, value="positive")
    _, again = scores.feed_page(user=user, project_id=project.id, feed="top_positive", limit=10)
    assert first[0].shot_id not in {s.shot_id for s in again}
    assert again[0].rank == 2  # the stored ranks do not shift


def test_feed_pages_need_membership(trained):
    project, *_ = trained
    with pytest.raises(NotFound):
        scores.feed_page(user=UserFactory(), project_id=project.id, feed="random")
    with pytest.raises(NotFound):
        scores.feed_page(user=trained[3], project_id=project.id, feed="no-such-feed")


def test_publish_then_scores(trained):
    project, shot_ids, truth, annotator, version = trained
    manager = project.created_by
    with pytest.raises(RoleRequired):
        version_publish(user=annotator, project_id=project.id, version_id=version.id)
    with pytest.raises(NotFound):
        scores.published_top_k(user=manager, project_id=project.id, k=5)
    version_publish(user=manager, project_id=project.id, version_id=version.id)

    top = scores.published_top_k(user=annotator, project_id=project.id, k=20)
    is_positive = dict(zip(shot_ids.tolist(), truth.tolist(), strict=True))
    assert [s.rank for s in top] == list(range(1, 21))
    assert np.mean([is_positive[s.shot_id] for s in top]) > 0.9
    one = scores.published_score(user=annotator, project_id=project.id, shot_id=top[0].shot_id)
    assert one == pytest.approx(top[0].score, abs=1e-5)

    above = scores.published_above(user=annotator, project_id=project.id, threshold=0.5)
    assert all(s.score >= 0.5 for s in above)
    assert {s.shot_id for s in above} >= {s.shot_id for s in top if s.score >= 0.5}
    everything = scores.published_above(user=annotator, project_id=project.id, threshold=1e-6)
    assert len(everything) == len(shot_ids)

    second = training.retrain_run(project.id)
    version_publish(user=manager, project_id=project.id, version_id=second.id)
    assert list(ClassifierVersion.objects.filter(project=project, published=True)) == [second]


def test_a_failed_version_cannot_be_published(trained):
    project, *_ = trained
    failed = ClassifierVersion.objects.create(project=project, number=99, status="failed", error="boom")
    with pytest.raises(ValidationError):
        version_publish(user=project.created_by, project_id=project.id, version_id=failed.id)


def test_more_like_this_and_exclusion_of_labeled_shots(trained):
    project, shot_ids, truth, user, _ = trained
    anchor = int(shot_ids[truth][10])
    hits = scores.project_search(user=user, project_id=project.id, similar_to=anchor, limit=20)
    is_positive = dict(zip(shot_ids.tolist(), truth.tolist(), strict=True))
    assert anchor not in {h.shot_id for h in hits}
    assert np.mean([is_positive[h.shot_id] for h in hits]) > 0.9  # neighbours share the planted concept
    labeled = set(scores.labeled_shot_ids(project.id))
    assert not labeled & {h.shot_id for h in hits}
    with pytest.raises(NotFound):
        scores.project_search(user=user, project_id=project.id, similar_to=10**9)


def test_zero_shot_text_search_through_the_clip_text_encoder(db, settings, tmp_path):
    """Shots planted near the text embedding of "a red sports car" come back first for that text."""
    settings.VAR_DIR = tmp_path
    config = embedders.EmbeddingConfig(model=TEST_MODEL_NAME, pretrained="")
    embedder = embedders.load(config)
    target = embedder.embed_texts(["a red sports car"])[0]
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(400, len(target))).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    planted_rows = np.arange(0, 400, 40)
    vectors[planted_rows] = target + 0.05 * vectors[planted_rows]
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    corpus = corpus_create(name="text", embedding_model=TEST_MODEL_NAME, dim=len(target), is_test_model=True)
    records = [ShotRecord(start_frame=i, end_frame=i + 1, start_s=i, end_s=i + 1) for i in range(400)]
    shot_ids = shots_replace(video=VideoFactory(corpus=corpus), shots=records, vectors=vectors)
    manager = UserFactory()
    project = make_project(corpus, manager)
    viewer = UserFactory()
    Membership.objects.create(project=project, user=viewer, role=Role.VIEWER)
    hits = scores.project_search(user=viewer, project_id=project.id, text="a red sports car", limit=10)
    assert {h.shot_id for h in hits} == {shot_ids[i] for i in planted_rows}
    with pytest.raises(ValueError, match="empty"):
        scores.project_search(user=viewer, project_id=project.id, text="   ")


def test_project_page_lists_versions_failed_ones_with_their_error_and_managers_publish(trained, client):
    project, _, _, annotator, version = trained
    ClassifierVersion.objects.create(project=project, number=2, status="failed", error="ValueError: no vectors")
    client.force_login(annotator)
    page = client.get(f"/projects/{project.id}/").content.decode()
    assert 'data-version="1" data-status="ready"' in page and "ValueError: no vectors" in page
    assert "Publish" not in page
    url = f"/projects/{project.id}/versions/{version.id}/publish/"
    assert client.post(url).status_code == 403
    client.force_login(project.created_by)
    assert "Publish" in client.get(f"/projects/{project.id}/").content.decode()
    assert client.post(url).status_code == 302
    version.refresh_from_db()
    assert version.published
