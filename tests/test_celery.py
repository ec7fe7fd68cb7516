import pytest

from annotation.services import label_set
from annotation.tasks import project_progress
from tests.workers import celery_worker
from va_site.celery import app

pytestmark = pytest.mark.django_db(transaction=True)


def test_configuration():
    conf = app.conf
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.task_time_limit > conf.task_soft_time_limit > 0
    assert {q.name for q in conf.task_queues} == {"default", "embed"}


def test_a_real_worker_runs_a_task_against_the_database(world):
    label_set(user=world.users["annotator"], project_id=world.project.id, shot_id=world.shot.id, value="positive")
    label_set(user=world.users["reviewer"], project_id=world.project.id, shot_id=world.shot.id, value="negative")
    with celery_worker("default"):
        result = project_progress.delay(world.project.id).get(timeout=90)
    assert result == {"project_id": world.project.id, "labels": 2, "positives": 1, "negatives": 1, "shots": 1}
