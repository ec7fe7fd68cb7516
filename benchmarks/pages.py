"""Server time of the annotator pages with a large corpus behind them.

    python -m benchmarks.pages [--quick] [--n 100000] [--labels 2000] [--repeat 20]

Real stack (embedded PostgreSQL + Valkey); each page goes through Django's full request path (middleware,
session auth, selectors, templates) with the test client, so the figure is server time without the
network. The corpus is embedded with the test model (so text search runs the real CLIP text encoder);
three annotators have labeled `--labels` shots, with disagreements, and a model version is trained.
The baseline is the same pages over a 1,000-shot corpus in the same run: `ratio` = baseline / value
says what the corpus size costs (1.0 = nothing).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmarks._stack import boot, clustered_vectors, emit, percentile


def build(n: int, n_labels: int, name: str):
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from annotation import training
    from annotation.models import Label, LabelEvent, Membership, Project, Role
    from models_app import embedders
    from models_app.embedding import TEST_MODEL_NAME
    from models_app.models import Video
    from models_app.services import ShotRecord, corpus_create, hnsw_index_rebuilt_after, shots_replace

    dim = embedders.load(embedders.EmbeddingConfig(model=TEST_MODEL_NAME, pretrained="")).dim
    vectors = clustered_vectors(n, dim, clusters=100)
    corpus = corpus_create(name=name, embedding_model=TEST_MODEL_NAME, dim=dim, is_test_model=True)
    shot_ids = []
    with transaction.atomic(), hnsw_index_rebuilt_after(corpus):
        for start_row in range(0, n, 5000):
            video = Video.objects.create(corpus=corpus, source=f"{name}-{start_row}", title=f"Reel {start_row}")
            rows = range(start_row, min(start_row + 5000, n))
            records = [ShotRecord(i, i + 1, i, i + 1, thumbnail=f"t/{i}.jpg") for i in rows]
            shot_ids += shots_replace(video=video, shots=records, vectors=vectors[rows.start : rows.stop])
    users = [get_user_model().objects.create_user(f"{name}-{role}") for role in ("m", "a1", "a2")]
    project = Project.objects.create(corpus=corpus, name=name, created_by=users[0])
    for user, role in zip(users, (Role.MANAGER, Role.ANNOTATOR, Role.ANNOTATOR), strict=True):
        Membership.objects.create(project=project, user=user, role=role)
    # Labels in bulk (the label service's own cost is measured in benchmarks.loop and benchmarks.api):
    # a concept around one shot, each shot labeled by 1-3 annotators, some of them disagreeing.
    rng = np.random.default_rng(0)
    concept = vectors @ vectors[0] > np.quantile(vectors @ vectors[0], 0.9)
    picked = rng.choice(n, size=min(n_labels, n), replace=False)
    labels = []
    for row in picked:
        for user in users[: rng.integers(1, 4)]:
            truth = bool(concept[row]) != (rng.random() < 0.1)
            labels.append(
                Label(project=project, shot_id=shot_ids[row], user=user, value="positive" if truth else "negative")
            )
    Label.objects.bulk_create(labels, batch_size=5000)
    events = [
        LabelEvent(project=project, shot_id=label.shot_id, user=label.user, label=label, new_value=label.value)
        for label in Label.objects.filter(project=project).select_related("user")
    ]
    LabelEvent.objects.bulk_create(events, batch_size=5000)
    training.retrain_run(project.id)
    return project, users[0], shot_ids


def pages(project, shot_ids) -> dict[str, str]:
    p = project.id
    return {
        "projects": "/",
        "overview": f"/projects/{p}/",
        "search_text": f"/projects/{p}/search/?q=a+car+chase+at+night",
        "search_similar": f"/projects/{p}/search/?similar={shot_ids[17]}",
        "annotate_top_positive": f"/projects/{p}/annotate/?feed=top_positive",
        "annotate_borderline": f"/projects/{p}/annotate/?feed=borderline",
        "annotate_random": f"/projects/{p}/annotate/?feed=random",
        "review": f"/projects/{p}/review/",
        "review_disagree": f"/projects/{p}/review/?disagree=1",
        "review_model_disagrees": f"/projects/{p}/review/?model_disagrees=1",
        "status_chip": f"/projects/{p}/status/",
        "shot_detail": f"/projects/{p}/shots/{shot_ids[17]}/",
        "corpus": f"/corpora/{project.corpus_id}/",
    }


def time_pages(client, urls: dict[str, str], repeat: int) -> dict[str, list[float]]:
    timings = {}
    for name, url in urls.items():
        assert client.get(url).status_code == 200, url  # warm: caches, text model, matrix snapshot
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, url
        timings[name] = samples
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k shots, 500 labels, 5 repeats")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--labels", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    if args.quick:
        args.n, args.labels, args.repeat = 10_000, 500, 5
    boot("pages")
    from django.test import Client

    small_project, small_user, small_ids = build(1000, min(args.labels, 500), "baseline")
    project, user, shot_ids = build(args.n, args.labels, "large")
    client = Client(HTTP_HOST="localhost")
    client.force_login(small_user)
    baseline = time_pages(client, pages(small_project, small_ids), args.repeat)
    client.force_login(user)
    measured = time_pages(client, pages(project, shot_ids), args.repeat)
    for name, samples in measured.items():
        p50, base50 = percentile(samples, 50), percentile(baseline[name], 50)
        emit(
            bench="pages",
            metric=f"{name}_p50",
            value=round(p50, 2),
            unit="ms",
            baseline=round(base50, 2),
            ratio=round(base50 / p50, 3),
            p95=round(percentile(samples, 95), 2),
            n=args.n,
            labels=args.labels,
            baseline_n=1000,
        )


if __name__ == "__main__":
    main()
