import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction

from annotation.errors import StaleVersion
from annotation.models import Label, LabelEvent
from annotation.services import Provenance, label_set


def test_label_set_writes_label_and_event_with_provenance(world):
    user = world.users["annotator"]
    result = label_set(
        user=user,
        project_id=world.project.id,
        shot_id=world.shot.id,
        value="positive",
        provenance=Provenance(source="search", query="car chase at night", score=0.91, rank=3, page="search"),
    )
    assert result.changed
    label = Label.objects.get(project=world.project, shot=world.shot, user=user)
    assert (label.value, label.version) == ("positive", 1)
    event = LabelEvent.objects.get()
    assert (event.old_value, event.new_value, event.user_id) == ("", "positive", user.id)
    assert (event.source, event.query, event.score, event.rank) == ("search", "car chase at night", 0.91, 3)


def test_each_change_appends_one_event_and_no_change_appends_none(world):
    user = world.users["annotator"]
    args = {"user": user, "project_id": world.project.id, "shot_id": world.shot.id}
    label_set(**args, value="positive")
    assert not label_set(**args, value="positive").changed
    label_set(**args, value="negative")
    label_set(**args, value="unsure")
    history = list(LabelEvent.objects.order_by("id").values_list("old_value", "new_value"))
    assert history == [("", "positive"), ("positive", "negative"), ("negative", "unsure")]
    assert Label.objects.get().version == 3


def test_stale_expected_version_is_refused_and_changes_nothing(world):
    args = {"user": world.users["annotator"], "project_id": world.project.id, "shot_id": world.shot.id}
    label_set(**args, value="positive")
    label_set(**args, value="negative", expected_version=1)
    with pytest.raises(StaleVersion) as info:
        label_set(**args, value="unsure", expected_version=1)
    assert info.value.current_version == 2
    assert Label.objects.get().value == "negative"
    assert LabelEvent.objects.count() == 2


@pytest.mark.parametrize(
    "kwargs",
    [{"value": "maybe"}, {"value": "positive", "provenance": Provenance(source="telepathy")}],
)
def test_bad_values_are_refused_and_write_nothing(world, kwargs):
    with pytest.raises(ValidationError):
        label_set(user=world.users["annotator"], project_id=world.project.id, shot_id=world.shot.id, **kwargs)
    assert not Label.objects.exists() and not LabelEvent.objects.exists()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE annotation_labelevent SET new_value = 'negative'",
        "DELETE FROM annotation_labelevent",
    ],
)
def test_database_refuses_update_and_delete_of_label_events(world, sql):
    label_set(user=world.users["annotator"], project_id=world.project.id, shot_id=world.shot.id, value="positive")
    with pytest.raises(DatabaseError, match="label_event_append_only"), transaction.atomic(), connection.cursor() as c:
        c.execute(sql)
    assert LabelEvent.objects.get().new_value == "positive"


def test_a_reviewers_decision_stays_a_decision_when_they_relabel_the_shot(world):
    from annotation import training
    from annotation.services import Provenance
    from models_app import learning

    reviewer, annotator = world.users["reviewer"], world.users["annotator"]
    pid, sid = world.project.id, world.shot.id
    label_set(user=annotator, project_id=pid, shot_id=sid, value="positive")
    label_set(user=reviewer, project_id=pid, shot_id=sid, value="negative", provenance=Provenance(source="review"))
    # later, from a feed or the detail panel: the value changes, the decision stays a decision
    changed = label_set(user=reviewer, project_id=pid, shot_id=sid, value="unsure")
    assert (changed.label.value, changed.label.is_review) == ("unsure", True)
    assert Label.objects.get(user=reviewer, shot_id=sid).is_review
    from_feed = Provenance(source="top_negative")
    label_set(user=reviewer, project_id=pid, shot_id=sid, value="negative", provenance=from_feed)
    assert learning.consensus(training.training_votes(pid))[sid] is False  # the decision still wins over 1 vote
    # an annotator's own relabel stays an ordinary vote
    assert not label_set(user=annotator, project_id=pid, shot_id=sid, value="negative").label.is_review
