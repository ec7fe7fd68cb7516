"""Retrain-on-label: scheduling (debounced per project), the retrain itself, and version metrics.

Scheduling, per project, with two Redis keys:
- `cooldown` (lives RETRAIN_COOLDOWN_MS): a retrain started recently. A label arriving without one
  trains at once (leading edge: a lone label gets feedback immediately).
- `pending`: a trailing retrain is queued for when the cooldown ends. Labels arriving during the
  cooldown find it set and do nothing more, so at most one retrain is ever queued per project, a
  burst of labels costs two trainings (leading + trailing), and the trailing one sees every label.
"""

from __future__ import annotations

import logging
import time
from functools import cache

import numpy as np
import redis
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from annotation import realtime
from annotation.models import ClassifierVersion, Label, LabelEvent, Project
from models_app import learning
from models_app.matrix_store import clusters_for, matrix_for

logger = logging.getLogger(__name__)

RETRAIN_COOLDOWN_MS = 1000
LOCK_TIMEOUT_S = 120
PENDING_TTL_MS = 60_000  # a queued retrain lost with its broker must not block scheduling forever


@cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def _key(project_id: int, name: str) -> str:
    return f"va:retrain:{int(project_id)}:{name}"


def retrain_schedule(project_id: int) -> str:
    """Queue a retrain for the project unless one is already queued. Returns what it did."""
    from annotation.tasks import retrain_project

    r = _redis()
    if r.set(_key(project_id, "cooldown"), 1, nx=True, px=RETRAIN_COOLDOWN_MS):
        r.set(_key(project_id, "pending"), 1, px=PENDING_TTL_MS)
        retrain_project.delay(project_id)
        return "now"
    if r.set(_key(project_id, "pending"), 1, nx=True, px=PENDING_TTL_MS):
        wait_ms = max(r.pttl(_key(project_id, "cooldown")), 0)
        retrain_project.apply_async(args=[project_id], countdown=wait_ms / 1000)
        return "trailing"
    return "coalesced"


def training_votes(project_id: int):
    """Current labels as consensus votes: (shot, user, value, is review decision, time)."""
    return Label.objects.filter(project_id=project_id).values_list(
        "shot_id", "user_id", "value", "is_review", "updated_at"
    )


def retrain_run(project_id: int) -> ClassifierVersion | None:
    """Train on the project's consensus labels, score the corpus, build the feeds, store a version.

    Returns None (and stores nothing) until there is at least one positive and one negative. A
    failure stores a FAILED version with the error, so it is visible; the previous ready version
    keeps serving.
    """
    r = _redis()
    with r.lock(_key(project_id, "lock"), timeout=LOCK_TIMEOUT_S, blocking_timeout=LOCK_TIMEOUT_S):
        r.set(_key(project_id, "cooldown"), 1, px=RETRAIN_COOLDOWN_MS)
        r.delete(_key(project_id, "pending"))  # labels from now on schedule the next retrain
        project = Project.objects.select_related("corpus").filter(pk=project_id).first()
        if project is None:
            return None
        last_event_id = LabelEvent.objects.filter(project_id=project_id).aggregate(m=Max("id"))["m"] or 0
        votes = list(training_votes(project_id))
        shot_ids, y = learning.consensus_arrays(votes)
        if y.all() or not y.any():
            logger.info("project %s: waiting for a positive and a negative label", project_id)
            return None
        try:
            # Feeds skip every labeled shot, unsure and tied ones included: all shots with a vote.
            labeled = np.unique(np.fromiter((vote[0] for vote in votes), dtype=np.int64, count=len(votes)))
            return _train_and_store(project, shot_ids, y, labeled, last_event_id)
        except Exception as exc:
            logger.exception("retrain of project %s failed", project_id)
            return _store_failure(project, exc, last_event_id)


def _train_and_store(
    project: Project, shot_ids: np.ndarray, y: np.ndarray, labeled: np.ndarray, last_event_id: int
) -> ClassifierVersion:
    timings = {}
    started = time.perf_counter()
    matrix = matrix_for(project.corpus_id)
    rows, found = matrix.lookup(shot_ids)
    rows, y = rows[found], y[found]  # shots without an embedding cannot train
    if y.all() or not y.any():
        raise ValueError("the labeled shots of one class have no embeddings yet")
    timings["matrix_ms"] = _ms(started)
    previous = ClassifierVersion.objects.filter(project=project, status=ClassifierVersion.Status.READY).first()
    warm = None
    if previous is not None and "probe" in previous.trained_on:
        warm = learning.Probe.from_dict({**previous.trained_on["probe"], "weights": previous.weights})
    t = time.perf_counter()
    probe = learning.train_probe(matrix.vectors[rows], y, warm_start=warm)
    timings["train_ms"] = _ms(t)
    t = time.perf_counter()
    scores = learning.score_matrix(matrix.vectors, probe.weights, probe.bias)
    number = _next_number(project.id)
    feeds = learning.build_feeds(
        scores,
        matrix.shot_ids,
        labeled,
        sizes=learning.FeedSizes.uniform(settings.VA_FEED_SIZE),
        seed=learning.seed_from(f"{project.id}:{number}"),
    )
    timings["score_and_feeds_ms"] = _ms(t)
    timings["total_ms"] = _ms(started)
    with transaction.atomic():
        version = ClassifierVersion.objects.create(
            project=project,
            number=number,
            status=ClassifierVersion.Status.READY,
            weights=probe.weights.tolist(),
            bias=probe.bias,
            trained_on={
                "positives": probe.n_pos,
                "negatives": probe.n_neg,
                "last_event_id": last_event_id,
                "corpus_version": matrix.version,
                "probe": {k: v for k, v in probe.to_dict().items() if k != "weights"},
                "shot_ids": matrix.shot_ids[rows].tolist(),
                "labels": y.astype(int).tolist(),
                "timings": timings,
            },
            metrics={"positives": probe.n_pos, "negatives": probe.n_neg},
            feeds=feeds.to_dict(),
        )
        payload = {"version_id": version.id, "number": number, "positives": probe.n_pos, "negatives": probe.n_neg}
        transaction.on_commit(lambda: realtime.project_event_send(project.id, "feeds.updated", payload), robust=True)
        transaction.on_commit(lambda: _enqueue_metrics(version.id), robust=True)
    return version


def _enqueue_metrics(version_id: int) -> None:
    from annotation.tasks import version_metrics

    version_metrics.delay(version_id)


def _store_failure(project: Project, exc: Exception, last_event_id: int) -> ClassifierVersion:
    with transaction.atomic():
        version = ClassifierVersion.objects.create(
            project=project,
            number=_next_number(project.id),
            status=ClassifierVersion.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            trained_on={"last_event_id": last_event_id},
        )
        payload = {"version_id": version.id, "number": version.number, "error": version.error}
        transaction.on_commit(lambda: realtime.project_event_send(project.id, "training.failed", payload), robust=True)
    return version


def _next_number(project_id: int) -> int:
    # Only one retrain per project runs at a time (the Redis lock), so max + 1 is safe here.
    return (ClassifierVersion.objects.filter(project_id=project_id).aggregate(m=Max("number"))["m"] or 0) + 1


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)


def version_metrics_run(version_id: int) -> dict:
    """Cross-validated AP, label counts and cluster coverage of a version (slow; off the critical path)."""
    version = ClassifierVersion.objects.select_related("project").get(pk=version_id)
    if version.status != ClassifierVersion.Status.READY:
        return version.metrics
    project = version.project
    # Exactly the training set of the version (stored with it), not today's labels.
    shot_ids = np.asarray(version.trained_on["shot_ids"], dtype=np.int64)
    y = np.asarray(version.trained_on["labels"], dtype=bool)
    matrix = matrix_for(project.corpus_id)
    rows, found = matrix.lookup(shot_ids)
    rows, y = rows[found], y[found]
    clusters = clusters_for(project.corpus_id, matrix)
    n_unsure = Label.objects.filter(project=project, value="unsure").count()
    result = learning.classifier_metrics(
        np.asarray(matrix.vectors[rows]),
        y,
        label_clusters=clusters[rows],
        n_clusters=int(clusters.max()) + 1 if len(clusters) else 0,
        n_unsure=n_unsure,
        seed=version.number,
    ).to_dict()
    result = {**version.metrics, **result, "computed_at": timezone.now().isoformat()}
    ClassifierVersion.objects.filter(pk=version.pk).update(metrics=result)
    realtime.project_event_send(project.id, "metrics.updated", {"version_id": version.id, "number": version.number})
    return result
