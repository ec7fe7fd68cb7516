"""End to end: a label is saved → the worker retrains → a websocket client receives `feeds.updated`.

    python -m benchmarks.loop [--quick] [--n 100000] [--labels 20]

Real components: embedded PostgreSQL and Valkey, a Celery worker process, the ASGI server (uvicorn)
with the project websocket, a websocket client with a real session cookie. Labels are spaced past the
retrain cooldown so each one trains (the leading edge of the debounce). The baseline is the same loop
with the naive VA training step (LogisticRegressionCV + predict_proba + full sort) timed in-process on
the same labels, for scale.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import time

import numpy as np

from benchmarks._stack import boot, clustered_vectors, emit, percentile, start, start_worker
from va_site.embedded import wait_for_http


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def setup(n: int, dim: int):
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import transaction

    from annotation.models import Membership, Project, Role
    from models_app.models import Video
    from models_app.services import ShotRecord, corpus_create, hnsw_index_rebuilt_after, shots_replace

    vectors = clustered_vectors(n, dim, clusters=50)
    concept = np.zeros(n, dtype=bool)
    concept[np.argsort(-(vectors @ vectors[0]))[: n // 20]] = True  # the 5% nearest one shot: the "concept"
    corpus = corpus_create(name="loop", embedding_model="bench", dim=dim)
    shot_ids = []
    with transaction.atomic(), hnsw_index_rebuilt_after(corpus):
        for start_row in range(0, n, 5000):
            video = Video.objects.create(corpus=corpus, source=f"v{start_row}", status="done")
            rows = range(start_row, min(start_row + 5000, n))
            records = [ShotRecord(start_frame=i, end_frame=i + 1, start_s=i, end_s=i + 1) for i in rows]
            shot_ids += shots_replace(video=video, shots=records, vectors=vectors[rows.start : rows.stop])
    user = get_user_model().objects.create_user("bench")  # logs in through the session below
    project = Project.objects.create(corpus=corpus, name="loop", created_by=user)
    Membership.objects.create(project=project, user=user, role=Role.MANAGER)
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return project, user, np.array(shot_ids), concept, vectors, session.session_key


async def measure(port, project, user, shot_ids, concept, session_key, n_labels, gap_s):
    import websockets
    from asgiref.sync import sync_to_async

    from annotation.services import label_set

    url = f"ws://127.0.0.1:{port}/ws/projects/{project.id}/"
    headers = {"Cookie": f"sessionid={session_key}", "Origin": f"http://127.0.0.1:{port}"}
    rng = np.random.default_rng(0)
    pos = list(rng.permutation(shot_ids[concept])[: n_labels // 2 + 1])
    neg = list(rng.permutation(shot_ids[~concept])[: n_labels // 2 + 1])
    latencies, train_ms = [], []
    async with websockets.connect(url, additional_headers=headers) as ws:
        for i in range(n_labels + 2):
            shot, value = (pos.pop(), "positive") if i % 2 == 0 else (neg.pop(), "negative")
            await asyncio.sleep(gap_s)
            started = time.perf_counter()
            result = await sync_to_async(label_set)(user=user, project_id=project.id, shot_id=int(shot), value=value)
            if i == 0:
                continue  # one class only: nothing to train yet
            while True:  # the first feeds.updated whose version was trained on this label
                event = json.loads(await asyncio.wait_for(ws.recv(), timeout=60))
                if event["type"] == "feeds.updated" and await sync_to_async(_covers)(
                    event["version_id"], result.event.id
                ):
                    break
            if i >= 2:  # the first retrain also builds the corpus matrix: report it separately
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                first_ms = (time.perf_counter() - started) * 1000
            version = await sync_to_async(lambda vid=event["version_id"]: _timings(vid))()
            train_ms.append(version)
    return first_ms, latencies, train_ms


def _covers(version_id: int, label_event_id: int) -> bool:
    from annotation.models import ClassifierVersion

    return ClassifierVersion.objects.get(pk=version_id).trained_on["last_event_id"] >= label_event_id


def _timings(version_id: int) -> float:
    from annotation.models import ClassifierVersion

    return ClassifierVersion.objects.get(pk=version_id).trained_on["timings"]["total_ms"]


def naive_va_ms(vectors, shot_ids, project) -> float:
    """VA's research code path on the same labels: LogisticRegressionCV(5-fold AP) + predict_proba + sort."""
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import StratifiedKFold

    from annotation.models import Label

    labels = dict(Label.objects.filter(project=project).values_list("shot_id", "value"))
    index = {s: i for i, s in enumerate(shot_ids.tolist())}
    rows = [index[s] for s in labels]
    y = np.array([labels[s] == "positive" for s in labels])
    started = time.perf_counter()
    folds = StratifiedKFold(n_splits=min(5, int(y.sum()), int((~y).sum())))
    model = LogisticRegressionCV(cv=folds, scoring="average_precision", class_weight="balanced", max_iter=1000)
    model.fit(vectors[rows], y)
    probabilities = model.predict_proba(vectors)[:, 1]
    np.argsort(-probabilities)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="10 labels")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--labels", type=int, default=20)
    args = parser.parse_args()
    n_labels = 10 if args.quick else args.labels
    boot("loop")
    project, user, shot_ids, concept, vectors, session_key = setup(args.n, args.dim)
    port = free_port()
    start_worker("default")
    start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "va_site.asgi:application",
            "--port",
            str(port),
            "--ws",
            "websockets",
            "--lifespan",
            "off",
            "--no-access-log",
        ],
        "web",
    )
    if not wait_for_http("127.0.0.1", port, timeout=60):
        raise SystemExit("the ASGI server did not start")
    from annotation.training import RETRAIN_COOLDOWN_MS

    first_ms, latencies, train_ms = asyncio.run(
        measure(port, project, user, shot_ids, concept, session_key, n_labels, gap_s=RETRAIN_COOLDOWN_MS / 1000 + 0.3)
    )
    baseline = naive_va_ms(vectors, shot_ids, project)
    for q in (50, 95):
        value = percentile(latencies, q)
        emit(
            bench="loop",
            metric=f"label_to_feeds_updated_p{q}",
            value=round(value, 1),
            unit="ms",
            baseline=round(baseline, 1),
            ratio=round(baseline / value, 2),
            n_shots=args.n,
            samples=len(latencies),
            baseline_is="naive VA train+score+sort alone (no queue, no websocket)",
        )
    emit(
        bench="loop",
        metric="worker_train_score_feeds_p50",
        value=round(percentile(train_ms, 50), 1),
        unit="ms",
        baseline=round(baseline, 1),
        ratio=round(baseline / percentile(train_ms, 50), 2),
        n_shots=args.n,
    )
    emit(
        bench="loop",
        metric="first_label_to_feeds_updated",
        value=round(first_ms, 1),
        unit="ms",
        baseline=None,
        ratio=None,
        n_shots=args.n,
        note="includes building the corpus matrix from PostgreSQL",
    )


if __name__ == "__main__":
    main()
