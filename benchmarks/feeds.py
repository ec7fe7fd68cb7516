"""Benchmark: "labels changed" → "four feeds ready" (train + score + select), ours vs naive VA.

    python -m benchmarks.feeds            # 10k, 100k and 1M shots of 512-d vectors
    python -m benchmarks.feeds --quick    # 100k only

Each size's corpus is written once as a CorpusMatrix snapshot; each implementation then runs in its own
child process that memory-maps it (as a worker does), so peak RSS is measured per implementation. Every
repetition adds a few labels (the "labels changed" event) and times the whole path from the consensus
labels (shot ids + values) to the four feeds of 100 shots each.

- ours: FeedEngine.update = CorpusMatrix.lookup → train_probe (lbfgs, warm start) → score_matrix
  (float32 matvec into a reused buffer) → build_feeds (thresholded selection, no full sort).
- baseline, the naive VA implementation: LogisticRegressionCV (5-fold stratified CV scoring average
  precision, VA's defaults otherwise), predict_proba over the whole corpus, full sorts for the feeds.

Prints JSON lines {"bench", "metric", "value", "unit", "baseline", "ratio", ...}; ratio = baseline / value.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from models_app.learning.engine import FeedEngine
from models_app.learning.feeds import FeedSizes, seed_from
from models_app.learning.matrix import CorpusMatrix, MatrixWriter
from models_app.learning.scoring import score_matrix
from models_app.learning.synthetic import clustered_vectors, unit_rows

DIM = 512
FEED_SIZE = 100
TARGET_P50_MS = {100_000: 60.0, 1_000_000: 300.0}
TARGET_PEAK_MB = {1_000_000: 2500.0}


def write_corpus(directory: Path, n: int, dim: int, seed: int = 0) -> None:
    """Synthetic clustered unit vectors, streamed into a snapshot without holding the whole matrix."""
    chunk = 131_072
    with MatrixWriter(directory, n=n, dim=dim, version=f"bench-{n}-{dim}-{seed}") as writer:
        for start in range(0, n, chunk):
            stop = min(start + chunk, n)
            ids = np.arange(start, stop, dtype=np.int64) * 3 + 1  # sparse ids, as after deletions
            writer.append(ids, clustered_vectors(stop - start, dim, seed=seed * 1_000_003 + start))
        writer.commit()


class LabelStream:
    """Labels arriving over time: a planted concept decides each newly labeled shot's value."""

    def __init__(self, matrix: CorpusMatrix, n_start: int, step: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        direction = unit_rows(rng.standard_normal((1, matrix.dim)).astype(np.float32))[0]
        # The concept's projection for every shot (n floats): no copy of the matrix in the harness.
        self.projection = score_matrix(matrix.vectors, direction)
        self.cut = float(np.quantile(self.projection, 0.9))
        self.matrix, self.step, self.rng = matrix, step, rng
        # Half of the first labels from the top of the concept (as from a search), half at random.
        top = np.argpartition(-self.projection, n_start // 2)[: n_start // 2]
        rest = rng.choice(matrix.n, size=n_start - len(top), replace=False)
        self.rows = list(dict.fromkeys(np.concatenate([top, rest]).tolist()))

    def advance(self) -> tuple[np.ndarray, np.ndarray]:
        """Adds `step` labels; returns (labeled shot ids, values) as the consensus would, sorted by id."""
        self.rows.extend(self.rng.choice(self.matrix.n, size=self.step, replace=False).tolist())
        self.rows = list(dict.fromkeys(self.rows))
        rows = np.sort(np.asarray(self.rows, dtype=np.int64))
        return self.matrix.shot_ids[rows], self.projection[rows] >= self.cut


def run_ours(matrix: CorpusMatrix, stream: LabelStream, reps: int, warmup: int) -> dict:
    engine = FeedEngine(matrix)
    sizes = FeedSizes.uniform(FEED_SIZE)
    seed = seed_from("project-1")
    probe = None
    totals, parts = [], []
    for i in range(warmup + reps):
        shot_ids, y = stream.advance()
        t0 = time.perf_counter()
        update = engine.update(shot_ids, y, sizes=sizes, seed=seed, warm_start=probe)
        t1 = time.perf_counter()
        probe = update.probe
        assert all(len(f) == FEED_SIZE for _, f in update.feeds.items()) and update.n_missing == 0
        if i >= warmup:
            totals.append(t1 - t0)
            parts.append([update.timings_ms[k] for k in ("train", "score", "select")])
    p = np.median(np.asarray(parts), axis=0)
    return {"times": totals, "train_ms": p[0], "score_ms": p[1], "select_ms": p[2]}


def run_baseline(matrix: CorpusMatrix, stream: LabelStream, reps: int, warmup: int) -> dict:
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import StratifiedKFold

    totals = []
    rng = np.random.default_rng(0)
    for i in range(warmup + reps):
        shot_ids, y = stream.advance()
        t0 = time.perf_counter()
        rows = matrix.rows_for(shot_ids)
        model = LogisticRegressionCV(
            cv=StratifiedKFold(n_splits=5, shuffle=True, random_state=0),
            scoring="average_precision",
            max_iter=1000,
            n_jobs=-1,  # VA's config.N_JOBS
            l1_ratios=(0.0,),
            use_legacy_attributes=False,
        )
        model.fit(matrix.vectors[rows], y)
        proba = model.predict_proba(matrix.vectors)[:, 1]
        labeled = np.zeros(matrix.n, dtype=bool)
        labeled[rows] = True
        by_score = np.argsort(-proba, kind="stable")
        by_score = by_score[~labeled[by_score]]
        by_margin = np.argsort(np.abs(proba - 0.5), kind="stable")
        by_margin = by_margin[~labeled[by_margin]]
        feeds = {
            "top_positive": matrix.shot_ids[by_score[:FEED_SIZE]],
            "top_negative": matrix.shot_ids[by_score[::-1][:FEED_SIZE]],
            "borderline": matrix.shot_ids[by_margin[:FEED_SIZE]],
            "random": matrix.shot_ids[rng.choice(np.flatnonzero(~labeled), size=FEED_SIZE, replace=False)],
        }
        t1 = time.perf_counter()
        assert all(len(f) == FEED_SIZE for f in feeds.values())
        if i >= warmup:
            totals.append(t1 - t0)
    return {"times": totals}


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM), mapped file pages included.

    Not getrusage's ru_maxrss: Linux carries the spawning parent's high-water mark across exec into it.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def worker(args: argparse.Namespace) -> None:
    matrix = CorpusMatrix.load(args.dir, mmap=True)
    score_matrix(matrix.vectors, np.ones(matrix.dim, np.float32))  # page the mapped file in, like a warm worker
    stream = LabelStream(matrix, n_start=args.labels, step=args.label_step)
    run = run_ours if args.worker == "ours" else run_baseline
    result = run(matrix, stream, reps=args.reps, warmup=args.warmup)
    result["peak_rss_mb"] = peak_rss_mb()
    result["n_labels_end"] = len(stream.rows)
    print(json.dumps(result))


def spawn(kind: str, directory: Path, args: argparse.Namespace, reps: int) -> dict:
    options = {"--worker": kind, "--dir": directory, "--reps": reps, "--warmup": args.warmup}
    options.update({"--labels": args.labels, "--label-step": args.label_step})
    cmd = [sys.executable, "-m", "benchmarks.feeds", *(str(x) for item in options.items() for x in item)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_size(n: int, args: argparse.Namespace) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="va-bench-feeds-") as tmp:
        write_corpus(Path(tmp), n, args.dim)
        ours = spawn("ours", Path(tmp), args, args.reps)
        base = spawn("baseline", Path(tmp), args, args.baseline_reps)
    extra = {
        "n_shots": n,
        "dim": args.dim,
        "n_labels": f"{args.labels}..{ours['n_labels_end']}",
        "feed_size": FEED_SIZE,
        # Other processes on this 2-core machine inflate times; the 1-minute load average says how busy it was.
        "loadavg": round(os.getloadavg()[0], 2),
    }
    lines = []
    for q in (50, 95):
        value = float(np.percentile(ours["times"], q)) * 1e3
        baseline = float(np.percentile(base["times"], q)) * 1e3
        line = {
            "bench": "feeds",
            "metric": f"labels_to_feeds_p{q}",
            "value": round(value, 2),
            "unit": "ms",
            "baseline": round(baseline, 2),
            "ratio": round(baseline / value, 1),
            **extra,
            "reps": len(ours["times"]),
            "baseline_reps": len(base["times"]),
        }
        if q == 50:
            line.update({k: round(ours[k], 2) for k in ("train_ms", "score_ms", "select_ms")})
            if n in TARGET_P50_MS:
                line["target"] = TARGET_P50_MS[n]
        lines.append(line)
    mem = {
        "bench": "feeds",
        "metric": "worker_peak_rss",
        "value": round(ours["peak_rss_mb"]),
        "unit": "MB",
        "baseline": round(base["peak_rss_mb"]),
        "ratio": round(base["peak_rss_mb"] / ours["peak_rss_mb"], 2),
        **extra,
    }
    if n in TARGET_PEAK_MB:
        mem["target"] = TARGET_PEAK_MB[n]
    lines.append(mem)
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100k shots only")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--dim", type=int, default=DIM)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--baseline-reps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--labels", type=int, default=200, help="labels at the start")
    parser.add_argument("--label-step", type=int, default=5, help="labels added per repetition")
    parser.add_argument("--worker", choices=("ours", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return
    sizes = [100_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    for n in sizes:
        for line in bench_size(n, args):
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
