"""Replays VA's experiment 1 (Ziai & Vartakavi, arXiv 2402.06560) on any corpus with ground-truth labels.

Protocol, per label and seed:
1. The label's ground-truth shots are split, stratified, into a held-out validation set
   (`validation_fraction`, 20% as in VA) and a training pool.
2. A simulated annotator labels `step` (d = 25) pool shots at a time, chosen by a strategy (strategies.py);
   model-based strategies retrain the probe after every step.
3. At n ∈ `ns` labels (25, 50, 100, 500, 1000; capped at the pool size) a probe is trained on the labels so
   far and its average precision on the validation set is recorded. A labeled set with a single class
   cannot be trained: its AP is NaN and is counted in `n_failed`.
4. `baseline_ap` is the AP of random scores on the same validation set (VA's `_ap_baseline`).

Differences from VA's notebooks: the probe is train_probe (class-balanced logistic regression, fixed C)
rather than LogisticRegressionCV; the VA arm is simulated with the four feeds instead of replaying the
recorded sessions of VA's annotators; RCC/ZSC/CC draw from the ground-truth pool instead of VA's separately
collected `cmp/` annotations.
"""

from __future__ import annotations

import csv
import json
import logging
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score

from .feeds import seed_from
from .probe import DEFAULT_C, train_probe
from .readers import GroundTruth, LabelSet
from .scoring import score_matrix
from .strategies import PoolState, Strategy, make_strategy

logger = logging.getLogger(__name__)

DEFAULT_NS = (25, 50, 100, 500, 1000)
DEFAULT_STRATEGIES = ("va_feeds", "random", "zero_shot", "zero_shot_random", "uncertainty")
BASELINE_STRATEGIES = ("random", "zero_shot", "zero_shot_random")  # VA's RCC, ZSC, CC
_NEEDS_TEXT = ("zero_shot", "zero_shot_random")


@dataclass(frozen=True)
class SimulationConfig:
    ns: tuple[int, ...] = DEFAULT_NS
    step: int = 25
    seeds: tuple[int, ...] = (0, 1, 2)
    strategies: tuple[str, ...] = DEFAULT_STRATEGIES
    validation_fraction: float = 0.2
    C: float = DEFAULT_C
    baseline_draws: int = 200

    def __post_init__(self) -> None:
        if self.step < 1 or not self.ns or min(self.ns) < 1:
            raise ValueError("step and every n must be >= 1")
        if not 0 < self.validation_fraction < 1:
            raise ValueError("validation_fraction must be in (0, 1)")
        for name in self.strategies:
            make_strategy(name)  # fail early on a typo


@dataclass(frozen=True)
class RunRecord:
    label: str
    strategy: str
    seed: int
    n: int  # requested number of labels
    n_labeled: int  # actually labeled (capped by the pool)
    n_pos: int
    n_neg: int
    ap: float  # NaN when the labeled set had one class
    baseline_ap: float


@dataclass(frozen=True)
class SummaryRow:
    label: str
    strategy: str
    n: int
    ap_mean: float
    ap_std: float
    n_runs: int
    n_failed: int
    baseline_ap: float


@dataclass
class SimulationResult:
    config: SimulationConfig
    records: list[RunRecord] = field(default_factory=list)

    def summary(self) -> list[SummaryRow]:
        groups: dict[tuple[str, str, int], list[RunRecord]] = {}
        for r in self.records:
            groups.setdefault((r.label, r.strategy, r.n), []).append(r)
        rows = []
        for (label, strategy, n), recs in sorted(groups.items()):
            aps = np.array([r.ap for r in recs], dtype=float)
            ok = aps[~np.isnan(aps)]
            rows.append(
                SummaryRow(
                    label=label,
                    strategy=strategy,
                    n=n,
                    ap_mean=float(ok.mean()) if len(ok) else math.nan,
                    ap_std=float(ok.std()) if len(ok) else math.nan,
                    n_runs=len(recs),
                    n_failed=int(np.isnan(aps).sum()),
                    baseline_ap=float(np.mean([r.baseline_ap for r in recs])),
                )
            )
        return rows

    def mean_over_labels(self) -> dict[str, dict[int, float]]:
        """strategy → n → AP averaged over labels (each label's mean over seeds), plus 'baseline'."""
        summary = self.summary()
        out: dict[str, dict[int, list[float]]] = {}
        for row in summary:
            out.setdefault(row.strategy, {}).setdefault(row.n, []).append(row.ap_mean)
        baseline = {(r.label, r.n): r.baseline_ap for r in summary}  # one value per label and n
        for (_label, n), ap in baseline.items():
            out.setdefault("baseline", {}).setdefault(n, []).append(ap)
        return {s: {n: _nanmean(v) for n, v in sorted(by_n.items())} for s, by_n in out.items()}

    def va_improvement(self) -> dict[int, float]:
        """n → median over labels of AP(va_feeds) − max AP of the baselines (RCC, ZSC, CC) that ran."""
        by_key = {(r.label, r.strategy, r.n): r.ap_mean for r in self.summary()}
        gains: dict[int, list[float]] = {}
        for label, strategy, n in by_key:
            if strategy != "va_feeds":
                continue
            others = [by_key.get((label, b, n), math.nan) for b in BASELINE_STRATEGIES]
            others = [x for x in others if not math.isnan(x)]
            if others and not math.isnan(by_key[(label, strategy, n)]):
                gains.setdefault(n, []).append(by_key[(label, strategy, n)] - max(others))
        return {n: float(np.median(v)) for n, v in sorted(gains.items())}

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """results.csv (one row per run), summary.csv, results.json and ap_vs_n.png in `out_dir`."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {
            "records_csv": out / "results.csv",
            "summary_csv": out / "summary.csv",
            "json": out / "results.json",
            "plot": out / "ap_vs_n.png",
        }
        _write_csv(paths["records_csv"], [asdict(r) for r in self.records], RunRecord)
        summary = self.summary()
        _write_csv(paths["summary_csv"], [asdict(r) for r in summary], SummaryRow)
        doc = {
            "config": asdict(self.config),
            "summary": [asdict(r) for r in summary],
            "mean_over_labels": {s: {str(n): v for n, v in d.items()} for s, d in self.mean_over_labels().items()},
            "va_improvement_median": {str(n): v for n, v in self.va_improvement().items()},
            "records": [asdict(r) for r in self.records],
        }
        paths["json"].write_text(json.dumps(_nan_to_none(doc), indent=1))
        plot_results(self, paths["plot"])
        return paths


def run_simulation(
    truth: GroundTruth,
    config: SimulationConfig = SimulationConfig(),
    *,
    labels: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> SimulationResult:
    result = SimulationResult(config)
    for label in labels or sorted(truth.labels):
        if progress:
            progress(label)
        text = truth.text_embeddings.get(label)
        result.records.extend(simulate_label(truth.vectors, truth.labels[label], text, config, label=label))
    return result


def simulate_label(
    vectors: np.ndarray,
    label_set: LabelSet,
    text_embedding: np.ndarray | None,
    config: SimulationConfig,
    *,
    label: str = "",
) -> list[RunRecord]:
    pos, neg = label_set.pos_rows, label_set.neg_rows
    if len(pos) < 2 or len(neg) < 2:
        logger.warning("label %s skipped: needs >= 2 positives and >= 2 negatives", label)
        return []
    records: list[RunRecord] = []
    for seed in config.seeds:
        rng = np.random.default_rng([seed, seed_from(label)])
        pool_rows, y_pool, val_rows, y_val = _split(pos, neg, config.validation_fraction, rng)
        X_pool = np.ascontiguousarray(vectors[pool_rows], dtype=np.float32)
        X_val = np.ascontiguousarray(vectors[val_rows], dtype=np.float32)
        baseline = random_score_ap(y_val, config.baseline_draws, rng)
        random_order = rng.permutation(len(pool_rows)).astype(np.int64)
        zs_order = None
        if text_embedding is not None:
            zs_order = np.argsort(-_cosine(X_pool, text_embedding), kind="stable").astype(np.int64)
        for name in config.strategies:
            if name in _NEEDS_TEXT and zs_order is None:
                logger.warning("label %s: strategy %s skipped (no text embedding)", label, name)
                continue
            state = PoolState(len(pool_rows), np.zeros(len(pool_rows), bool), random_order, zs_order, seed=seed)
            curve = _run_strategy(make_strategy(name), state, X_pool, y_pool, X_val, y_val, config)
            for n, (n_labeled, n_pos, ap) in curve.items():
                records.append(RunRecord(label, name, seed, n, n_labeled, n_pos, n_labeled - n_pos, ap, baseline))
    return records


def _run_strategy(
    strategy: Strategy,
    state: PoolState,
    X_pool: np.ndarray,
    y_pool: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    config: SimulationConfig,
) -> dict[int, tuple[int, int, float]]:
    """requested n → (n labeled, n positive, validation AP)."""
    checkpoints = sorted({min(n, state.n_pool) for n in config.ns})
    order: list[int] = []
    probe = None
    curve: dict[int, tuple[int, int, float]] = {}
    for target in checkpoints:
        while len(order) < target:
            if strategy.uses_model:
                y_lab = y_pool[order]
                if 0 < y_lab.sum() < len(y_lab):
                    probe = train_probe(X_pool[order], y_lab, C=config.C, warm_start=probe)
                    state.scores = score_matrix(X_pool, probe.weights, probe.bias)
            picks = strategy.select(state, min(config.step, target - len(order)))
            if len(picks) == 0:
                break
            state.labeled[picks] = True
            order.extend(picks.tolist())
        ap = _validation_ap(X_pool[order], y_pool[order], X_val, y_val, config.C)
        for n in config.ns:
            if min(n, state.n_pool) == target:
                curve[n] = (len(order), int(y_pool[order].sum()), ap)
    return curve


def _validation_ap(X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray, C: float) -> float:
    if not 0 < y.sum() < len(y):
        return math.nan
    probe = train_probe(X, y, C=C)
    return float(average_precision_score(y_val, probe.decision_function(X_val)))


def random_score_ap(y_val: np.ndarray, draws: int, rng: np.random.Generator) -> float:
    """Expected AP of random scores: the positive rate for large sets, else the mean over random draws."""
    if len(y_val) >= 1000 or draws <= 0:
        return float(np.mean(y_val))
    return float(np.mean([average_precision_score(y_val, rng.random(len(y_val))) for _ in range(draws)]))


def _split(
    pos: np.ndarray, neg: np.ndarray, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stratified split (at least one of each class on both sides) → pool rows, pool y, val rows, val y."""
    pools, vals = [], []
    for rows in (pos, neg):
        perm = rng.permutation(rows)
        n_val = min(max(1, round(fraction * len(rows))), len(rows) - 1)
        vals.append(perm[:n_val])
        pools.append(perm[n_val:])
    pool_rows = np.concatenate(pools)
    val_rows = np.concatenate(vals)
    y_pool = np.concatenate([np.ones(len(pools[0]), bool), np.zeros(len(pools[1]), bool)])
    y_val = np.concatenate([np.ones(len(vals[0]), bool), np.zeros(len(vals[1]), bool)])
    return pool_rows, y_pool, val_rows, y_val


def _cosine(X: np.ndarray, v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32).ravel()
    norms = np.linalg.norm(X, axis=1) * max(float(np.linalg.norm(v)), 1e-12)
    return (X @ v) / np.maximum(norms, 1e-12)


def plot_results(result: SimulationResult, path: str | Path) -> None:
    """AP vs number of labels per strategy: one panel per label (up to 6), else the mean over labels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = result.summary()
    labels = sorted({r.label for r in summary})
    panels: list[tuple[str, list[SummaryRow]]]
    if 0 < len(labels) <= 6:
        panels = [(label, [r for r in summary if r.label == label]) for label in labels]
    else:
        means = result.mean_over_labels()
        panels = [
            (
                f"mean over {len(labels)} labels",
                [
                    SummaryRow("*", s, n, ap, 0.0, 0, 0, means["baseline"].get(n, math.nan))
                    for s, by_n in means.items()
                    if s != "baseline"
                    for n, ap in by_n.items()
                ],
            )
        ]
    fig, axes = plt.subplots(1, max(len(panels), 1), figsize=(5 * max(len(panels), 1), 4), squeeze=False)
    for ax, (title, rows) in zip(axes[0], panels, strict=False):
        for strategy in dict.fromkeys(r.strategy for r in rows):
            pts = sorted((r.n, r.ap_mean, r.ap_std) for r in rows if r.strategy == strategy)
            ns, mean, std = (np.array(x, dtype=float) for x in zip(*pts, strict=True))
            ax.plot(ns, mean, marker="o", label=strategy)
            ax.fill_between(ns, mean - std, mean + std, alpha=0.15)
        base = sorted({(r.n, r.baseline_ap) for r in rows})
        if base:
            ax.plot([b[0] for b in base], [b[1] for b in base], "k--", label="random scores")
        ax.set_xscale("log")
        ax.set_xlabel("labels (n)")
        ax.set_ylabel("average precision (held-out 20%)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _write_csv(path: Path, rows: list[dict], cls: type) -> None:
    names = [f for f in cls.__dataclass_fields__]
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=names)
        writer.writeheader()
        writer.writerows(rows)


def _nanmean(values: list[float]) -> float:
    arr = np.asarray(values, dtype=float)
    arr = arr[~np.isnan(arr)]
    return float(arr.mean()) if len(arr) else math.nan


def _nan_to_none(obj):
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_nan_to_none(v) for v in obj]
    return obj
