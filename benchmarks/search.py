"""Search latency and recall: pgvector HNSW (what the app uses) against exact search, same run.

    python -m benchmarks.search [--quick] [--n 100000] [--dim 512] [--queries 200]

Prints JSON lines: p50/p95 latency of `models_app.search.vector_search` (k=50) with and without an
exclusion list, recall@50 against exact numpy search, the exact in-PostgreSQL scan as the baseline,
index build time, and CLIP text-encoding latency (the other half of a text query).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmarks._stack import boot, clustered_vectors, emit, percentile


def load_corpus(n: int, dim: int, vectors: np.ndarray):
    from django.db import connection

    from models_app.models import Video
    from models_app.services import ShotRecord, corpus_create, hnsw_index_name, shots_replace

    corpus = corpus_create(name=f"bench-{n}", embedding_model="bench", dim=dim)
    with connection.cursor() as cursor:  # bulk load first, then build the index once (much faster)
        cursor.execute(f"DROP INDEX {hnsw_index_name(corpus.id)}")
    per_video = 1000
    for start in range(0, n, per_video):
        video = Video.objects.create(corpus=corpus, source=f"v{start}", status="done")
        rows = range(start, min(start + per_video, n))
        records = [ShotRecord(start_frame=i * 10, end_frame=i * 10 + 10, start_s=i, end_s=i + 1) for i in rows]
        shots_replace(video=video, shots=records, vectors=vectors[start : start + len(records)])
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '2GB'")
        cursor.execute(
            f"CREATE INDEX {hnsw_index_name(corpus.id)} ON models_app_shotembedding "
            f"USING hnsw ((vector::vector({dim})) vector_cosine_ops) WHERE corpus_id = {corpus.id}"
        )
        cursor.execute("ANALYZE models_app_shotembedding")
    build_s = time.perf_counter() - started
    from models_app.models import Shot

    shot_ids = np.array(
        Shot.objects.filter(video__corpus=corpus).order_by("video_id", "index").values_list("id", flat=True)
    )
    return corpus, shot_ids, build_s


def exact_in_postgres(corpus, query: np.ndarray, k: int) -> float:
    from django.db import connection, transaction

    literal = "[" + ",".join(repr(float(x)) for x in query) + "]"
    dim = corpus.dim
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(
            f"SELECT shot_id FROM models_app_shotembedding WHERE corpus_id = %s "
            f"ORDER BY (vector::vector({dim})) <=> %s::vector({dim}) LIMIT %s",
            [corpus.id, literal, k],
        )
        cursor.fetchall()
    return (time.perf_counter() - started) * 1000


def text_encoding_ms(model: str, repeats: int = 20) -> float:
    from models_app.embedders import test_checkpoint_path
    from models_app.embedding import load_embedder

    pretrained = test_checkpoint_path() if model == "va-test-tiny" else None
    embedder = load_embedder(model, pretrained, strict=False)
    embedder.embed_texts(["warm up"])
    times = []
    for i in range(repeats):
        started = time.perf_counter()
        embedder.embed_texts([f"a car chase at night, take {i}"])
        times.append((time.perf_counter() - started) * 1000)
    return percentile(times, 50)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="20k shots, 50 queries")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    n, n_queries = (20_000, 50) if args.quick else (args.n, args.queries)
    k = 50
    boot("search")
    from models_app.search import vector_search

    vectors = clustered_vectors(n, args.dim)
    corpus, shot_ids, build_s = load_corpus(n, args.dim, vectors)
    emit(bench="search", metric="hnsw_build", value=round(build_s, 2), unit="s", baseline=None, ratio=None, n=n)

    rng = np.random.default_rng(1)
    queries = vectors[rng.choice(n, n_queries, replace=False)] + 0.1 * rng.normal(size=(n_queries, args.dim))
    queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
    exclude = shot_ids[rng.choice(n, 1000, replace=False)]
    results = {}
    for label, excluded in (("plain", np.array([], dtype=np.int64)), ("exclude_1000", exclude)):
        latencies, recalls, baseline = [], [], []
        allowed = ~np.isin(shot_ids, excluded)
        for i, query in enumerate(queries):
            started = time.perf_counter()
            hits = vector_search(corpus=corpus, vector=query, limit=k, exclude_shot_ids=excluded.tolist())
            latencies.append((time.perf_counter() - started) * 1000)
            sims = vectors @ query
            sims[~allowed] = -np.inf
            truth = set(shot_ids[np.argpartition(-sims, k)[:k]].tolist())
            recalls.append(len(truth & {h.shot_id for h in hits}) / k)
            if label == "plain" and i < 20:
                baseline.append(exact_in_postgres(corpus, query, k))
        results[label] = (latencies, recalls, baseline)

    latencies, recalls, baseline = results["plain"]
    exact_p50 = percentile(baseline, 50)
    for q in (50, 95):
        value = percentile(latencies, q)
        emit(
            bench="search",
            metric=f"latency_p{q}",
            value=round(value, 2),
            unit="ms",
            baseline=round(exact_p50, 2),
            ratio=round(exact_p50 / value, 1),
            n=n,
            k=k,
            baseline_is="exact scan in PostgreSQL, p50",
        )
    emit(
        bench="search",
        metric="recall_at_50",
        value=round(float(np.mean(recalls)), 4),
        unit="fraction",
        baseline=1.0,
        ratio=round(float(np.mean(recalls)), 4),
        n=n,
        baseline_is="exact numpy search",
    )
    latencies, recalls, _ = results["exclude_1000"]
    emit(
        bench="search",
        metric="latency_p50_excluding_1000",
        value=round(percentile(latencies, 50), 2),
        unit="ms",
        baseline=round(exact_p50, 2),
        ratio=round(exact_p50 / percentile(latencies, 50), 1),
        n=n,
    )
    emit(
        bench="search",
        metric="recall_at_50_excluding_1000",
        value=round(float(np.mean(recalls)), 4),
        unit="fraction",
        baseline=1.0,
        ratio=round(float(np.mean(recalls)), 4),
        n=n,
    )
    from models_app import search

    default_ef = search.EF_SEARCH_MIN
    for ef in (50, 100, 400, 800):  # the recall/latency trade-off around the app's default
        search.EF_SEARCH_MIN = ef
        latencies, recalls = [], []
        for query in queries:
            started = time.perf_counter()
            hits = vector_search(corpus=corpus, vector=query, limit=k)
            latencies.append((time.perf_counter() - started) * 1000)
            truth = set(shot_ids[np.argpartition(-(vectors @ query), k)[:k]].tolist())
            recalls.append(len(truth & {h.shot_id for h in hits}) / k)
        emit(
            bench="search",
            metric=f"recall_at_50_ef{ef}",
            value=round(float(np.mean(recalls)), 4),
            unit="fraction",
            baseline=1.0,
            ratio=round(float(np.mean(recalls)), 4),
            n=n,
            latency_p50_ms=round(percentile(latencies, 50), 2),
        )
    search.EF_SEARCH_MIN = default_ef
    for model in ("va-test-tiny", "ViT-B-32"):
        emit(
            bench="search",
            metric="text_encode_p50",
            value=round(text_encoding_ms(model), 2),
            unit="ms",
            baseline=None,
            ratio=None,
            model=model,
            device="cpu",
        )


if __name__ == "__main__":
    main()
