"""The learning engine: pure numpy / scikit-learn code, no Django (DESIGN.md §3, §5).

It takes arrays (embeddings, shot ids, labels) and returns arrays (weights, scores, shot ids):

- matrix.py     CorpusMatrix: sorted shot ids + (n, d) float32 vectors, memory-mapped snapshots with a version
- probe.py      train_probe → Probe (class-balanced logistic regression)
- scoring.py    score_matrix (logits), sigmoid
- feeds.py      build_feeds → Feeds (top positive, top negative, borderline, random)
- engine.py     FeedEngine.update: labels → probe → scores → feeds, the hot path in one call
- consensus.py  consensus: one training label per shot from many annotators' votes
- metrics.py    cross-validated AP, label counts, cluster coverage (VA's data score)
- simulate.py   VA experiment-1 simulator (strategies.py, readers.py, synthetic.py)
"""

from .consensus import Vote, consensus, consensus_arrays
from .engine import FeedEngine, FeedsUpdate
from .feeds import FEED_NAMES, MAX_FEED_SIZE, Feed, Feeds, FeedSizes, build_feeds, seed_from
from .matrix import CorpusMatrix, MatrixWriter, is_stale, stored_version
from .metrics import (
    ClassifierMetrics,
    Clustering,
    CrossValidatedAP,
    classifier_metrics,
    cluster_corpus,
    coverage,
    cross_validated_ap,
    va_diversity,
)
from .probe import MissingClassError, Probe, train_probe
from .scoring import score_matrix, sigmoid

__all__ = [
    "FEED_NAMES",
    "MAX_FEED_SIZE",
    "ClassifierMetrics",
    "Clustering",
    "CorpusMatrix",
    "CrossValidatedAP",
    "Feed",
    "FeedEngine",
    "FeedSizes",
    "Feeds",
    "FeedsUpdate",
    "MatrixWriter",
    "MissingClassError",
    "Probe",
    "Vote",
    "build_feeds",
    "classifier_metrics",
    "cluster_corpus",
    "consensus",
    "consensus_arrays",
    "coverage",
    "cross_validated_ap",
    "is_stale",
    "score_matrix",
    "seed_from",
    "sigmoid",
    "stored_version",
    "train_probe",
    "va_diversity",
]
