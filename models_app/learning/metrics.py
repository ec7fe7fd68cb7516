"""Metrics recorded with each classifier version; computed off the critical path (after feeds are pushed).

- Cross-validated average precision: stratified k-fold over the consensus labels, only when there are at
  least `min_per_class` (5) labels of each class — below that the folds would hold 0–1 positives and the
  number would be noise, so the result is None with a reason.
- Label counts: positives, negatives (and unsure, passed in by the caller).
- Coverage of the corpus' clusters. The corpus is clustered once (MiniBatchKMeans on a sample; the
  assignment of every shot is cached with the CorpusMatrix). Two scores:
    * `coverage`: fraction of clusters that hold at least one positive and at least one negative label.
    * `diversity`: VA's "data score" as defined in the code released with the paper (Netflix
      videoannotator, `LabeledDataset.data_score`): per cluster, the positive count and the negative count
      are each capped at `cap`, and the score is (Σ min(pos_c, cap) + Σ min(neg_c, cap)) / (2 · K · cap).
      VA uses K = 10 clusters and cap = 10; 1.0 means every cluster has ≥ cap labels of each class.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
from sklearn.cluster import MiniBatchKMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import average_precision_score
from sklearn.model_selection import StratifiedKFold

from .probe import DEFAULT_C, as_binary_labels, train_probe

MIN_PER_CLASS_FOR_CV = 5
DEFAULT_N_CLUSTERS = 64
VA_DIVERSITY_CAP = 10


@dataclass(frozen=True)
class CrossValidatedAP:
    mean: float | None
    std: float | None
    fold_aps: tuple[float, ...] = ()
    n_splits: int = 0
    reason: str = ""  # why `mean` is None


@dataclass(frozen=True)
class ClassifierMetrics:
    n_pos: int
    n_neg: int
    n_unsure: int
    cv_ap: float | None
    cv_ap_std: float | None
    cv_reason: str
    coverage: float | None
    diversity: float | None
    n_clusters: int
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def cross_validated_ap(
    X: np.ndarray,
    y: np.ndarray,
    *,
    n_splits: int = 5,
    min_per_class: int = MIN_PER_CLASS_FOR_CV,
    C: float = DEFAULT_C,
    seed: int = 0,
) -> CrossValidatedAP:
    """Mean/std of average precision over stratified folds, training the same probe as production."""
    y = as_binary_labels(y)
    n_pos = int(np.count_nonzero(y))
    n_neg = len(y) - n_pos
    if min(n_pos, n_neg) < min_per_class:
        return CrossValidatedAP(
            None, None, reason=f"needs >= {min_per_class} labels per class, has {n_pos} pos / {n_neg} neg"
        )
    splits = min(n_splits, n_pos, n_neg)
    X = np.ascontiguousarray(X, dtype=np.float32)
    folds = StratifiedKFold(n_splits=splits, shuffle=True, random_state=seed)
    aps = []
    for train_idx, test_idx in folds.split(X, y):
        probe = train_probe(X[train_idx], y[train_idx], C=C)
        aps.append(float(average_precision_score(y[test_idx], probe.decision_function(X[test_idx]))))
    return CrossValidatedAP(float(np.mean(aps)), float(np.std(aps)), tuple(aps), splits)


def select_C(
    X: np.ndarray, y: np.ndarray, Cs: tuple[float, ...] = (0.1, 1.0, 10.0, 100.0), *, seed: int = 0
) -> tuple[float | None, dict[float, float | None]]:
    """Best C by cross-validated AP (None when CV is not possible); feed it to the next train_probe call."""
    results = {C: cross_validated_ap(X, y, C=C, seed=seed).mean for C in Cs}
    scored = {C: ap for C, ap in results.items() if ap is not None}
    return (max(scored, key=scored.__getitem__) if scored else None), results


@dataclass(frozen=True, eq=False)
class Clustering:
    centroids: np.ndarray  # float32 (k, d)
    assignments: np.ndarray  # int32 (n,) cluster of each corpus row

    @property
    def n_clusters(self) -> int:
        return len(self.centroids)


def cluster_corpus(
    vectors: np.ndarray,
    *,
    n_clusters: int = DEFAULT_N_CLUSTERS,
    sample_size: int = 50_000,
    seed: int = 0,
    chunk_rows: int = 65_536,
) -> Clustering:
    """k-means on a sample of the corpus, then every row assigned to its nearest centroid (chunked)."""
    n = len(vectors)
    k = min(n_clusters, n)
    rng = np.random.default_rng(seed)
    sample_rows = np.sort(rng.choice(n, size=min(sample_size, n), replace=False))
    sample = np.asarray(vectors[sample_rows], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        km = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=4096).fit(sample)
    centroids = km.cluster_centers_.astype(np.float32)
    return Clustering(centroids, assign_clusters(vectors, centroids, chunk_rows=chunk_rows))


def assign_clusters(vectors: np.ndarray, centroids: np.ndarray, *, chunk_rows: int = 65_536) -> np.ndarray:
    """Nearest centroid per row: argmax of x·c − |c|²/2 (same argmin as Euclidean distance)."""
    half_norms = 0.5 * np.einsum("kd,kd->k", centroids, centroids)
    out = np.empty(len(vectors), dtype=np.int32)
    for start in range(0, len(vectors), chunk_rows):
        block = np.asarray(vectors[start : start + chunk_rows], dtype=np.float32)
        out[start : start + len(block)] = np.argmax(block @ centroids.T - half_norms, axis=1)
    return out


def coverage(pos_clusters: np.ndarray, neg_clusters: np.ndarray, n_clusters: int) -> float:
    """Fraction of the n_clusters clusters holding at least one positive and one negative label."""
    both = np.intersect1d(np.asarray(pos_clusters), np.asarray(neg_clusters))
    return len(both) / n_clusters


def va_diversity(
    pos_clusters: np.ndarray, neg_clusters: np.ndarray, n_clusters: int, cap: int = VA_DIVERSITY_CAP
) -> float:
    """VA's data score: per-cluster label counts of each class, capped at `cap`, over 2·K·cap."""

    def part(clusters: np.ndarray) -> int:
        counts = np.bincount(np.asarray(clusters, dtype=np.int64), minlength=n_clusters)
        return int(np.minimum(counts, cap).sum())

    return (part(pos_clusters) + part(neg_clusters)) / (2 * n_clusters * cap)


def label_counts(y: np.ndarray) -> tuple[int, int]:
    y = as_binary_labels(y)
    n_pos = int(np.count_nonzero(y))
    return n_pos, len(y) - n_pos


def classifier_metrics(
    X: np.ndarray,
    y: np.ndarray,
    *,
    label_clusters: np.ndarray | None = None,
    n_clusters: int = 0,
    n_unsure: int = 0,
    C: float = DEFAULT_C,
    seed: int = 0,
) -> ClassifierMetrics:
    """All metrics for one classifier version.

    X, y: embeddings and consensus labels of the training set; label_clusters: the cluster of each of those
    rows (CorpusMatrix.clusters[rows]) or None when the corpus is not clustered yet.
    """
    y = as_binary_labels(y)
    n_pos, n_neg = label_counts(y)
    cv = cross_validated_ap(X, y, C=C, seed=seed)
    cov = div = None
    if label_clusters is not None and n_clusters > 0:
        label_clusters = np.asarray(label_clusters)
        cov = coverage(label_clusters[y], label_clusters[~y], n_clusters)
        div = va_diversity(label_clusters[y], label_clusters[~y], n_clusters)
    return ClassifierMetrics(
        n_pos=n_pos,
        n_neg=n_neg,
        n_unsure=n_unsure,
        cv_ap=cv.mean,
        cv_ap_std=cv.std,
        cv_reason=cv.reason,
        coverage=cov,
        diversity=div,
        n_clusters=n_clusters,
        extra={"cv_fold_aps": list(cv.fold_aps), "cv_n_splits": cv.n_splits},
    )
