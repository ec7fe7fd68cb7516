"""The Celery app. Queues: `default` (training, feeds, exports) and `embed` (ingestion, GPU)."""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "va_site.settings")

app = Celery("va_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("embed"))
# Idempotent tasks only: a task whose worker dies is redelivered, not lost.
app.conf.task_acks_late = True
app.conf.task_reject_on_worker_lost = True
app.autodiscover_tasks()
