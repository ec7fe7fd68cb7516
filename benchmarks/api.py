"""The REST API under load, against the ASGI server (uvicorn) on loopback.

    python -m benchmarks.api            # 1M shots, 30 s of label POSTs
    python -m benchmarks.api --quick    # 100k shots, 10 s

Real components: embedded PostgreSQL (every shot and 512-d vector stored) and Valkey, uvicorn serving
va_site.asgi, bearer tokens. The client is a small asyncio HTTP/1.1 keep-alive client (its own CPU cost
stays low; it shares the machine with the server).

- whole-catalog score export (`/scores/export/?format=csv`): rows/s as the client receives them, and the
  server's memory while streaming (peak RSS and peak private, anonymous memory: the memory-mapped corpus
  matrix is file-backed page cache, shared, and shows in RSS but not in RssAnon). Baseline: the naive
  export, iterating ShotEmbedding rows through the ORM and scoring/formatting each row in Python
  (measured on the first rows only, as a rate).
- top-k (`/scores/top/?k=100`) latency; baseline: the same top-k computed by PostgreSQL (inner-product
  ORDER BY … LIMIT over the corpus' rows).
- label POST with 50 concurrent clients (one token each, distinct shots): throughput, p50/p95 latency and
  errors; baseline: one client posting sequentially.

Prints JSON lines {"bench", "metric", "value", "unit", "baseline", "ratio", ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import threading
import time

import numpy as np
import psutil

from benchmarks._stack import boot, clustered_vectors, emit, percentile, start
from benchmarks.loop import free_port
from va_site.embedded import wait_for_http

DIM = 512
CLIENTS = 50


# --- a minimal HTTP/1.1 keep-alive client --------------------------------------------------------


class Connection:
    def __init__(self, port: int):
        self.port = port
        self.reader = self.writer = None

    async def open(self) -> Connection:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    async def request(self, method: str, path: str, headers: dict, body: bytes = b"", sink=None) -> tuple[int, bytes]:
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        self.writer.write(head.encode() + body)
        await self.writer.drain()
        status = int((await self.reader.readline()).split()[1])
        length, chunked = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
        if not chunked:
            data = await self.reader.readexactly(length)
            if sink:
                sink(data)
            return status, data
        parts = []
        while size := int((await self.reader.readline()).split(b";")[0], 16):
            data = await self.reader.readexactly(size)
            await self.reader.readexactly(2)
            if sink:
                sink(data)
            else:
                parts.append(data)
        await self.reader.readexactly(2)
        return status, b"".join(parts)

    def close(self) -> None:
        self.writer.close()


# --- setup ---------------------------------------------------------------------------------------


def setup(n: int):
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from annotation.models import ClassifierVersion, Membership, Project, Role
    from annotation.services import version_publish
    from annotation.tokens import token_create
    from models_app.matrix_store import matrix_for
    from models_app.models import Video
    from models_app.services import ShotRecord, corpus_create, hnsw_index_name, shots_replace

    started = time.perf_counter()
    corpus = corpus_create(name="api", embedding_model="bench", dim=DIM)
    with connection.cursor() as cursor:  # this benchmark does no vector search: skip building HNSW on 1M
        cursor.execute(f"DROP INDEX IF EXISTS {hnsw_index_name(corpus.id)}")
    shot_ids = []
    for start_row in range(0, n, 20_000):
        rows = range(start_row, min(start_row + 20_000, n))
        with transaction.atomic():
            video = Video.objects.create(corpus=corpus, source=f"v{start_row}", status="done")
            records = [ShotRecord(start_frame=i, end_frame=i + 1, start_s=i, end_s=i + 1) for i in rows]
            vectors = clustered_vectors(len(rows), DIM, seed=start_row)
            shot_ids += shots_replace(video=video, shots=records, vectors=vectors)
    load_s = time.perf_counter() - started
    User = get_user_model()
    manager = User.objects.create_user("manager")
    project = Project.objects.create(corpus=corpus, name="api", created_by=manager)
    Membership.objects.create(project=project, user=manager, role=Role.MANAGER)
    annotators = [User.objects.create_user(f"annotator{i}") for i in range(CLIENTS)]
    Membership.objects.bulk_create(Membership(project=project, user=u, role=Role.ANNOTATOR) for u in annotators)
    weights = np.random.default_rng(1).normal(size=DIM).astype(np.float32)
    version = ClassifierVersion.objects.create(
        project=project, number=1, status="ready", weights=weights.tolist(), bias=-0.5
    )
    version_publish(user=manager, project_id=project.id, version_id=version.id)
    started = time.perf_counter()
    matrix_for(corpus.id)  # the snapshot the web process memory-maps (built once per corpus version)
    matrix_s = time.perf_counter() - started
    with connection.cursor() as cursor:  # measure the steady state, not the bulk load's vacuum and checkpoint
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")
    return {
        "project": project,
        "corpus": corpus,
        "weights": weights,
        "bias": -0.5,
        "shot_ids": np.array(shot_ids),
        "manager_token": token_create(user=manager, name="bench").secret,
        "tokens": [token_create(user=u, name="bench").secret for u in annotators],
        "load_s": load_s,
        "matrix_s": matrix_s,
    }


# --- measurements --------------------------------------------------------------------------------


class MemoryWatch:
    """Peak RSS and RssAnon of the server processes (uvicorn and its workers), sampled every 20 ms."""

    def __init__(self, pid: int):
        self.root = psutil.Process(pid)
        self.peak_rss = self.peak_anon = 0
        self._stop = threading.Event()

    def sample(self) -> tuple[int, int]:
        rss = anon = 0
        for proc in [self.root, *self.root.children(recursive=True)]:
            try:
                status = open(f"/proc/{proc.pid}/status").read()  # noqa: SIM115
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            rss += int(fields["VmRSS"].split()[0]) * 1024
            anon += int(fields["RssAnon"].split()[0]) * 1024
        return rss, anon

    def __enter__(self):
        self.before_rss, self.before_anon = self.sample()
        threading.Thread(target=self._run, daemon=True).start()
        return self

    def _run(self):
        while not self._stop.is_set():
            rss, anon = self.sample()
            self.peak_rss, self.peak_anon = max(self.peak_rss, rss), max(self.peak_anon, anon)
            time.sleep(0.02)

    def __exit__(self, *exc):
        self._stop.set()


async def export_once(port: int, path: str, token: str) -> tuple[int, int, float]:
    rows = [0, 0]

    def sink(data: bytes):
        rows[0] += data.count(b"\n")
        rows[1] += len(data)

    conn = await Connection(port).open()
    started = time.perf_counter()
    status, _ = await conn.request("GET", path, {"Authorization": f"Bearer {token}"}, sink=sink)
    elapsed = time.perf_counter() - started
    conn.close()
    assert status == 200, status
    return rows[0] - 1, rows[1], elapsed  # minus the header row


def naive_export_rate(corpus, weights, bias, max_rows: int, budget_s: float = 20.0) -> float:
    """Rows/s of the ORM-iterating export: one Python dot product and one csv row per shot."""
    import csv
    import io
    import math

    from models_app.models import ShotEmbedding

    out = csv.writer(io.StringIO())
    started, rows = time.perf_counter(), 0
    query = ShotEmbedding.objects.filter(corpus=corpus).order_by("shot_id").values_list("shot_id", "vector")
    for shot_id, vector in query.iterator(chunk_size=2000):
        logit = float(np.dot(vector, weights)) + bias
        out.writerow([shot_id, f"{1 / (1 + math.exp(-logit)):.6f}"])
        rows += 1
        if rows >= max_rows or time.perf_counter() - started > budget_s:
            break
    return rows / (time.perf_counter() - started)


def sql_top_k_ms(corpus, weights, bias, k: int = 100) -> float:
    from django.db import connection

    literal = "[" + ",".join(repr(float(x)) for x in weights) + "]"
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT shot_id, -((vector::vector({DIM})) <#> %s::vector({DIM})) + %s AS logit"
            f" FROM models_app_shotembedding WHERE corpus_id = %s ORDER BY logit DESC, shot_id LIMIT %s",
            [literal, bias, corpus.id, k],
        )
        cursor.fetchall()
    return (time.perf_counter() - started) * 1000


async def top_k_latencies(port: int, path: str, token: str, repeats: int) -> list[float]:
    conn = await Connection(port).open()
    latencies = []
    for _ in range(repeats):
        started = time.perf_counter()
        status, body = await conn.request("GET", path, {"Authorization": f"Bearer {token}"})
        latencies.append((time.perf_counter() - started) * 1000)
        assert status == 200, (status, body[:200])
    conn.close()
    return latencies


async def post_labels(
    port: int, project_id: int, tokens: list[str], shots: np.ndarray, seconds: float, rate: float | None = None
):
    """Each client posts labels on its own shots for `seconds`, one request in flight per client.

    rate None: closed loop, each client sends as soon as its previous answer came (capacity).
    rate R: open loop, the clients together send R labels/s on a fixed schedule; a latency is measured
    from the scheduled send time, so a server that falls behind is charged for the wait (no coordinated
    omission).
    """
    path = f"/api/v1/projects/{project_id}/labels/"
    latencies, errors, statuses = [], 0, {}
    t0 = time.perf_counter() + 0.2
    deadline = t0 + seconds
    per_client = np.array_split(shots, len(tokens))
    interval = len(tokens) / rate if rate else 0.0

    async def client(index: int, token: str, my_shots: np.ndarray):
        nonlocal errors
        conn = await Connection(port).open()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        for i, shot in enumerate(my_shots):
            scheduled = t0 + (i + index / len(tokens)) * interval if rate else time.perf_counter()
            if scheduled >= deadline:
                break
            if (delay := scheduled - time.perf_counter()) > 0:
                await asyncio.sleep(delay)
            body = json.dumps({"shot": int(shot), "value": "positive" if i % 2 else "negative", "rank": i + 1})
            try:
                status, _ = await conn.request("POST", path, headers, body.encode())
            except (OSError, asyncio.IncompleteReadError):
                errors += 1
                conn = await Connection(port).open()
                continue
            latencies.append((time.perf_counter() - scheduled) * 1000)
            statuses[status] = statuses.get(status, 0) + 1
            if status not in (200, 201):
                errors += 1
        conn.close()

    await asyncio.gather(*(client(i, t, s) for i, (t, s) in enumerate(zip(tokens, per_client, strict=True))))
    elapsed = time.perf_counter() - t0
    return latencies, errors, statuses, elapsed


def emit_percentiles(metric: str, latencies: list[float], baselines: dict[int, float], **extra) -> None:
    """p50 and p95 of `latencies` (ms), each against its baseline (ratio = baseline / value)."""
    for q, base in baselines.items():
        value = percentile(latencies, q)
        emit(
            bench="api",
            metric=f"{metric}_p{q}",
            value=round(value, 1),
            unit="ms",
            baseline=round(base, 1),
            ratio=round(base / value, 2),
            **extra,
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="100k shots, 10 s of label POSTs")
    parser.add_argument("--n", type=int, default=None, help="shots in the catalog (default 1M, quick 100k)")
    parser.add_argument("--seconds", type=float, default=None, help="duration of the label POST load")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--rate", type=float, default=300.0, help="offered label POSTs per second (open loop)")
    parser.add_argument("--light-rate", type=float, default=60.0, help="a second, lighter open-loop rate")
    parser.add_argument("--labels-only", action="store_true", help="measure only the label POSTs")
    args = parser.parse_args()
    n = args.n or (100_000 if args.quick else 1_000_000)
    seconds = args.seconds or (10.0 if args.quick else 30.0)
    boot("api")
    os.environ["VA_API_RATE_EXPORT"] = "0"  # the benchmark repeats exports; throttling is not measured here
    # Label POSTs stay throttled (its Redis counter is part of their cost), under a limit no phase reaches:
    # the one-client baseline alone posts more than the default 1200/min on its token.
    os.environ["VA_API_RATE_WRITE"] = "1000000"
    os.environ["VA_DB_POOL"] = "1"  # the ASGI server pools its database connections (see settings)
    # The server runs the production profile (DEBUG off), on plain HTTP over loopback.
    os.environ.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": "bench-only-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1",
            "VA_SECURE_SSL_REDIRECT": "0",
            "VA_STATIC_ROOT": os.path.join(os.environ["VA_VAR_DIR"], "static"),
        }
    )
    world = setup(n)
    emit(
        bench="api",
        metric="setup_load_shots",
        value=round(world["load_s"], 1),
        unit="s",
        baseline=None,
        ratio=None,
        n_shots=n,
        matrix_snapshot_s=round(world["matrix_s"], 1),
    )
    port = free_port()
    server = start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "va_site.asgi:application",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--lifespan",
            "off",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        "web",
    )
    if not wait_for_http("127.0.0.1", port, timeout=60):
        raise SystemExit("the ASGI server did not start")
    time.sleep(2.0 if args.workers > 1 else 0.5)  # let every worker process come up
    if not args.labels_only:
        measure_reads(port, server.pid, world, n, quick=args.quick)
    measure_label_posts(port, server.pid, world, args, seconds)


def measure_reads(port: int, server_pid: int, world: dict, n: int, *, quick: bool) -> None:
    project, token = world["project"], world["manager_token"]
    # 1. whole-catalog export
    export_path = f"/api/v1/projects/{project.id}/scores/export/?format=csv"
    asyncio.run(export_once(port, export_path, token))  # warm: page the matrix in, import everything
    with MemoryWatch(server_pid) as memory:
        rows, size, elapsed = asyncio.run(export_once(port, export_path, token))
    assert rows == n, (rows, n)
    baseline_rate = naive_export_rate(world["corpus"], world["weights"], world["bias"], max_rows=min(n, 200_000))
    rate = rows / elapsed
    emit(
        bench="api",
        metric="score_export_rows_per_s",
        value=round(rate),
        unit="rows/s",
        baseline=round(baseline_rate),
        ratio=round(rate / baseline_rate, 1),
        n_shots=n,
        mb=round(size / 2**20, 1),
        seconds=round(elapsed, 3),
        baseline_is="ORM iterator + per-row Python score and csv row (in-process)",
        goal=">= 300000",
    )
    emit(
        bench="api",
        metric="score_export_server_peak_anon_mb",
        value=round(memory.peak_anon / 2**20, 1),
        unit="MB",
        baseline=round(memory.before_anon / 2**20, 1),
        ratio=None,
        n_shots=n,
        baseline_is="the server's private memory before the export",
        peak_rss_mb=round(memory.peak_rss / 2**20, 1),
        rss_before_mb=round(memory.before_rss / 2**20, 1),
        note="RSS includes the memory-mapped corpus matrix (shared page cache, file-backed)",
    )

    # 2. top-k
    repeats = 20 if quick else 50
    latencies = asyncio.run(top_k_latencies(port, f"/api/v1/projects/{project.id}/scores/top/?k=100", token, repeats))
    sql_ms = min(sql_top_k_ms(world["corpus"], world["weights"], world["bias"]) for _ in range(2))
    emit_percentiles(
        "top_k",
        latencies,
        {q: sql_ms for q in (50, 95)},
        n_shots=n,
        k=100,
        samples=repeats,
        baseline_is="PostgreSQL inner-product ORDER BY … LIMIT 100 (best of 2)",
    )


def cpu_seconds(pids_of) -> float:
    """User + system CPU seconds so far of the processes `pids_of()` names (those that vanish are skipped)."""
    total = 0.0
    for pid in pids_of():
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def server_pids(root: int) -> list[int]:
    return [root, *(child.pid for child in psutil.Process(root).children(recursive=True))]


def postgres_pids() -> list[int]:
    return [proc.pid for proc in psutil.process_iter(["name"]) if (proc.info["name"] or "").startswith("postgres")]


def with_cpu(run, server_pid: int):
    """Run `run()`; return its result and the CPU ms the server and PostgreSQL spent meanwhile."""
    server_before, pg_before = cpu_seconds(lambda: server_pids(server_pid)), cpu_seconds(postgres_pids)
    result = run()
    server_ms = (cpu_seconds(lambda: server_pids(server_pid)) - server_before) * 1000
    return result, server_ms, (cpu_seconds(postgres_pids) - pg_before) * 1000


def measure_label_posts(port: int, server_pid: int, world: dict, args: argparse.Namespace, seconds: float) -> None:
    """50 clients at the goal's rate (open loop), at a light rate, at full speed (closed loop); one client."""
    project = world["project"]
    rng = np.random.default_rng(7)
    shots = np.array_split(rng.permutation(world["shot_ids"]), 4)
    warm = rng.permutation(world["shot_ids"])[:200]  # each worker's first label POST pays one-time costs
    asyncio.run(post_labels(port, project.id, world["tokens"][:8], warm, 2.0))
    single, single_errors, _, single_s = asyncio.run(
        post_labels(port, project.id, world["tokens"][:1], shots[0], min(5.0, seconds))
    )
    single_rate = len(single) / single_s

    def load(my_shots: np.ndarray, rate: float | None):
        return lambda: asyncio.run(post_labels(port, project.id, world["tokens"], my_shots, seconds, rate=rate))

    runs = {"open": load(shots[1], args.rate), "open_light": load(shots[2], args.light_rate)}
    runs["closed"] = load(shots[3], None)
    for loop, run in runs.items():
        (latencies, errors, statuses, elapsed), server_ms, pg_ms = with_cpu(run, server_pid)
        throughput = len(latencies) / elapsed
        common = {"clients": CLIENTS, "workers": args.workers, "loop": loop, "errors": errors, "statuses": statuses}
        # CPU per label: steadier than rates on a shared machine (the server and PostgreSQL, all processes)
        common["server_cpu_ms_per_label"] = round(server_ms / max(len(latencies), 1), 2)
        common["postgres_cpu_ms_per_label"] = round(pg_ms / max(len(latencies), 1), 2)
        if loop.startswith("open"):
            common["offered_rate"] = args.rate if loop == "open" else args.light_rate
        emit(
            bench="api",
            metric=f"label_post_throughput_{loop}",
            value=round(throughput, 1),
            unit="labels/s",
            baseline=round(single_rate, 1),
            ratio=round(throughput / single_rate, 2),
            requests=len(latencies),
            seconds=round(elapsed, 1),
            baseline_is="one client posting sequentially",
            goal=">= 300",
            **common,
        )
        emit_percentiles(
            f"label_post_{loop}",
            latencies,
            {q: percentile(single, q) for q in (50, 95)},
            baseline_errors=single_errors,
            baseline_is="one client posting sequentially",
            goal="p95 <= 50",
            **common,
        )
        if errors or single_errors:
            log = open(os.path.join(os.environ["VA_VAR_DIR"], "web.log")).read()  # noqa: SIM115
            print("--- server log (tail) ---\n" + log[-6000:], file=sys.stderr)


if __name__ == "__main__":
    main()
