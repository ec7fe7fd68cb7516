"""Overlap routing: which labeled shots go to more annotators — and never back to the one who labeled them."""

import numpy as np
import pytest
from django.core.exceptions import ValidationError

from annotation import overlap, scores, training
from annotation.errors import NotFound, RoleRequired
from annotation.models import Membership, OverlapPolicy, Role
from annotation.services import Provenance, label_set
from tests.factories import UserFactory
from tests.test_training import planted  # noqa: F401 — fixture


def test_the_sample_is_deterministic_per_project_and_close_to_the_rate():
    ids = np.arange(1, 20_001)
    picked = overlap.in_sample(7, ids, 0.1)
    assert abs(picked.mean() - 0.1) < 0.01
    assert np.array_equal(picked, overlap.in_sample(7, ids, 0.1))
    assert not np.array_equal(picked, overlap.in_sample(8, ids, 0.1))  # another project, another sample
    assert (picked <= overlap.in_sample(7, ids, 0.3)).all()  # raising the rate only adds shots
    assert not overlap.in_sample(7, ids, 0.0).any() and overlap.in_sample(7, ids, 1.0).all()


@pytest.fixture
def team(planted):  # noqa: F811
    """A project trained on a manager's review decisions (closed to overlap), and three annotators."""
    project, shot_ids, truth, first = planted
    for shot_id, positive in zip(shot_ids[:12].tolist(), truth[:12].tolist(), strict=True):
        label_set(
            user=project.created_by,
            project_id=project.id,
            shot_id=shot_id,
            value="positive" if positive else "negative",
            provenance=Provenance(source="review"),
        )
    training.retrain_run(project.id)
    users = [first]
    for name in ("b", "c"):
        user = UserFactory(username=name)
        Membership.objects.create(project=project, user=user, role=Role.ANNOTATOR)
        users.append(user)
    return project, shot_ids, truth, users


def feed_ids(user, project, feed, limit=100):
    return [s.shot_id for s in scores.feed_page(user=user, project_id=project.id, feed=feed, limit=limit)[1]]


def test_without_overlap_a_labeled_shot_is_hidden_from_everyone(team):
    project, _, _, (a, b, c) = team
    shot = feed_ids(a, project, "top_positive")[0]
    label_set(user=b, project_id=project.id, shot_id=shot, value="positive")
    for user in (a, b, c):
        assert shot not in feed_ids(user, project, "top_positive")
        assert feed_ids(user, project, "overlap") == []


def test_an_overlapped_shot_goes_to_others_until_it_has_enough_annotators(team):
    project, _, _, (a, b, c) = team
    overlap.overlap_set(user=project.created_by, project_id=project.id, rate=1.0, annotators=2)
    shots = feed_ids(a, project, "top_positive")[:3]
    for shot in shots:
        label_set(user=a, project_id=project.id, shot_id=shot, value="positive")
    # Back to a: never. To b and c: in their overlap feed and still in the model's feeds.
    assert not set(shots) & set(feed_ids(a, project, "top_positive") + feed_ids(a, project, "overlap"))
    for user in (b, c):
        assert set(feed_ids(user, project, "overlap")) == set(shots)
        assert set(shots) <= set(feed_ids(user, project, "top_positive"))
    # b labels one: it has its two annotators, so c no longer gets it; b never gets it again.
    label_set(user=b, project_id=project.id, shot_id=shots[0], value="negative")
    assert shots[0] not in feed_ids(c, project, "overlap") + feed_ids(c, project, "top_positive")
    assert set(feed_ids(b, project, "overlap")) == set(shots[1:])
    assert set(feed_ids(c, project, "overlap")) == set(shots[1:])


def test_three_annotators_and_a_review_decision_closes_a_shot(team):
    project, _, _, (a, b, c) = team
    reviewer = UserFactory(username="r")
    Membership.objects.create(project=project, user=reviewer, role=Role.REVIEWER)
    overlap.overlap_set(user=project.created_by, project_id=project.id, rate=1.0, annotators=3)
    first, second = feed_ids(a, project, "borderline")[:2]
    for shot in (first, second):
        label_set(user=a, project_id=project.id, shot_id=shot, value="positive")
        label_set(user=b, project_id=project.id, shot_id=shot, value="negative")
    assert set(feed_ids(c, project, "overlap")) == {first, second}  # two annotators of three
    label_set(
        user=reviewer, project_id=project.id, shot_id=second, value="negative", provenance=Provenance(source="review")
    )
    assert feed_ids(c, project, "overlap") == [first]


def test_overlap_feed_scores_come_from_the_latest_model(team):
    project, _, _, (a, b, _c) = team
    overlap.overlap_set(user=project.created_by, project_id=project.id, rate=1.0, annotators=2)
    page = scores.feed_page(user=a, project_id=project.id, feed="top_positive", limit=1)[1][0]
    label_set(user=a, project_id=project.id, shot_id=page.shot_id, value="positive")
    version, (served,) = scores.feed_page(user=b, project_id=project.id, feed="overlap")
    assert served.shot_id == page.shot_id and served.rank == 1
    assert served.score == pytest.approx(page.score, abs=1e-5)
    assert version == scores.latest_version(project.id)


def test_more_like_this_routes_labeled_shots_the_same_way(team):
    project, shot_ids, truth, (a, b, _c) = team
    anchor = int(shot_ids[truth][10])
    hits = [h.shot_id for h in scores.project_search(user=a, project_id=project.id, similar_to=anchor, limit=5)]
    for shot in hits:
        label_set(user=a, project_id=project.id, shot_id=shot, value="positive")

    def search(user):
        return {h.shot_id for h in scores.project_search(user=user, project_id=project.id, similar_to=anchor, limit=20)}

    assert not set(hits) & search(a) and not set(hits) & search(b)
    overlap.overlap_set(user=project.created_by, project_id=project.id, rate=1.0, annotators=2)
    assert not set(hits) & search(a)
    assert set(hits) <= search(b)


def test_routing_never_sends_a_shot_back_to_its_annotator(team):
    """Annotators label whatever their feeds serve, in random order, at a 50 % overlap rate with 3
    annotators a shot: nothing served was ever labeled by the one it is served to, and no overlapped shot
    collects more than 3 annotators."""
    project, _, _, users = team
    overlap.overlap_set(user=project.created_by, project_id=project.id, rate=0.5, annotators=3)
    rng = np.random.default_rng(0)
    mine = {user.id: set() for user in users}
    served_overlap = 0
    for _step in range(90):
        user = users[rng.integers(len(users))]
        feed = scores.FEED_NAMES[rng.integers(len(scores.FEED_NAMES))]
        page = feed_ids(user, project, feed, limit=5)
        assert not set(page) & mine[user.id], f"{feed} served {user} a shot they labeled"
        served_overlap += feed == "overlap" and bool(page)
        if page:
            shot = page[rng.integers(len(page))]
            label_set(user=user, project_id=project.id, shot_id=shot, value=("positive", "negative")[rng.integers(2)])
            mine[user.id].add(shot)
    assert served_overlap > 5
    annotators = {}
    for label in project.labels.filter(is_review=False):
        annotators.setdefault(label.shot_id, set()).add(label.user_id)
    assert max(len(a) for a in annotators.values()) <= 3
    assert sum(len(a) >= 2 for a in annotators.values()) > 0  # overlap did happen


def test_only_managers_set_the_overlap_and_values_are_checked(team):
    project, _, _, (a, *_rest) = team
    with pytest.raises(RoleRequired):
        overlap.overlap_set(user=a, project_id=project.id, rate=0.1, annotators=2)
    with pytest.raises(NotFound):
        overlap.overlap_set(user=UserFactory(), project_id=project.id, rate=0.1, annotators=2)
    for rate, n in ((1.5, 2), (-0.1, 2), (0.1, 1), (0.1, 4)):
        with pytest.raises(ValidationError):
            overlap.overlap_set(user=project.created_by, project_id=project.id, rate=rate, annotators=n)
    policy = overlap.overlap_set(user=project.created_by, project_id=project.id, rate=0.1, annotators=3)
    assert (policy.rate, policy.annotators, policy.updated_by) == (0.1, 3, project.created_by)
    assert OverlapPolicy.objects.get(project=project).rate_percent == 10.0
