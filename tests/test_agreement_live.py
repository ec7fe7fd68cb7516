"""Agreement is recomputed on a real worker as labels arrive, and the update reaches the project's socket."""

import time

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from annotation import quality
from annotation.models import AgreementReport, Membership, Role
from annotation.services import label_set
from tests.factories import ShotFactory, UserFactory, VideoFactory, make_corpus, make_project
from tests.test_realtime import socket_for
from tests.workers import celery_worker

pytestmark = pytest.mark.django_db(transaction=True)


def test_labels_from_two_annotators_push_agreement_updated(db):
    corpus = make_corpus("live-agreement")
    manager = UserFactory(username="boss")
    project = make_project(corpus, manager, "live")
    x, y = UserFactory(username="x"), UserFactory(username="y")
    for user in (x, y):
        Membership.objects.create(project=project, user=user, role=Role.ANNOTATOR)
    video = VideoFactory(corpus=corpus)
    shots = [ShotFactory(video=video).id for _ in range(4)]
    socket = socket_for(manager, project.id)

    def label_burst():
        for i, shot in enumerate(shots):
            label_set(user=x, project_id=project.id, shot_id=shot, value="positive")
            label_set(user=y, project_id=project.id, shot_id=shot, value="positive" if i else "negative")

    async def scenario():
        assert (await socket.connect())[0]
        await sync_to_async(label_burst)()
        deadline = time.monotonic() + 60
        updates = []
        while time.monotonic() < deadline:
            event = await socket.receive_json_from(timeout=60)
            if event["type"] == "agreement.updated":
                updates.append(event)
                if event["n_shots_overlapped"] == len(shots):
                    await socket.disconnect()
                    return updates
        raise AssertionError("no agreement.updated covering every shot")

    with celery_worker("default"):
        updates = async_to_sync(scenario)()
    # The burst of 8 labels was debounced: far fewer runs than labels.
    assert len(updates) <= 3
    report = AgreementReport.objects.get(project=project)
    assert report.report["n_shots_overlapped"] == 4
    (pair,) = report.report["pairs"]
    assert pair["raw_agreement"]["value"] == 0.75
    # 3 of 4 agree; x always positive: p_e = 1·0.75 → κ = (0.75 − 0.75)/(1 − 0.75) = 0.
    assert pair["cohen_kappa"]["value"] == pytest.approx(0.0)
    assert updates[-1]["last_event_id"] == report.last_event_id


def test_an_older_run_never_overwrites_a_newer_report(db):
    corpus = make_corpus("stale")
    manager = UserFactory(username="boss2")
    project = make_project(corpus, manager, "stale")
    shot = ShotFactory(video=VideoFactory(corpus=corpus)).id
    label_set(user=manager, project_id=project.id, shot_id=shot, value="positive")
    stored = quality.agreement_run(project.id)
    AgreementReport.objects.filter(pk=stored.pk).update(last_event_id=stored.last_event_id + 100, report={"newer": 1})
    assert quality.agreement_run(project.id).report == {"newer": 1}
