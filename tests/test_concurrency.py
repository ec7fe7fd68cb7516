"""Concurrent label writes with real threads, real connections and real transactions."""

import threading

import pytest
from django.db import connection

from annotation.models import Label, LabelEvent
from annotation.services import label_set

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(calls):
    """Run each call in its own thread (own DB connection), released at the same instant."""
    barrier = threading.Barrier(len(calls))
    errors = []

    def worker(call):
        try:
            barrier.wait()
            call()
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors


def test_double_submit_creates_one_label_and_one_event(world):
    user = world.users["annotator"]
    submit = lambda: label_set(user=user, project_id=world.project.id, shot_id=world.shot.id, value="positive")  # noqa: E731
    run_together([submit] * 8)
    assert Label.objects.filter(user=user).count() == 1
    assert LabelEvent.objects.filter(user=user).count() == 1


def test_two_annotators_on_one_shot_both_kept(world):
    a, b = world.users["annotator"], world.users["reviewer"]
    pid, sid = world.project.id, world.shot.id
    run_together(
        [
            lambda: label_set(user=a, project_id=pid, shot_id=sid, value="positive"),
            lambda: label_set(user=b, project_id=pid, shot_id=sid, value="negative"),
        ]
    )
    assert dict(Label.objects.values_list("user__username", "value")) == {
        "annotator": "positive",
        "reviewer": "negative",
    }
    assert LabelEvent.objects.count() == 2


def test_racing_changes_lose_no_update(world):
    """Many concurrent flips by one user: every applied change has exactly one event, and the
    event chain replays to the final label."""
    user = world.users["annotator"]
    values = ["positive", "negative", "unsure"] * 4
    run_together(
        [
            (lambda v=v: label_set(user=user, project_id=world.project.id, shot_id=world.shot.id, value=v))
            for v in values
        ]
    )
    label = Label.objects.get(user=user)
    events = list(LabelEvent.objects.filter(user=user).order_by("id"))
    assert events[0].old_value == ""
    for before, after in zip(events, events[1:], strict=False):
        assert after.old_value == before.new_value  # no lost or interleaved update
    assert events[-1].new_value == label.value
    assert label.version == len(events)
