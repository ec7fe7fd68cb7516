import numpy as np
import pytest

from models_app.learning.metrics import (
    assign_clusters,
    classifier_metrics,
    cluster_corpus,
    coverage,
    cross_validated_ap,
    select_C,
    va_diversity,
)
from models_app.learning.synthetic import make_planted_dataset


@pytest.fixture
def planted():
    """2000 clustered 32-d unit vectors and a planted linear concept (≈15% positive)."""
    return make_planted_dataset()


def test_cv_ap_is_none_below_five_per_class(planted):
    X, y, _ = planted
    pos, neg = np.flatnonzero(y)[:4], np.flatnonzero(~y)[:50]
    rows = np.concatenate([pos, neg])
    result = cross_validated_ap(X[rows], y[rows])
    assert result.mean is None and result.std is None
    assert "4 pos / 50 neg" in result.reason


def test_cv_ap_on_planted_concept(planted):
    X, y, _ = planted
    rows = np.concatenate([np.flatnonzero(y)[:5], np.flatnonzero(~y)[:60]])
    small = cross_validated_ap(X[rows], y[rows])
    assert small.n_splits == 5 and len(small.fold_aps) == 5 and small.mean is not None
    rows = np.arange(600)
    result = cross_validated_ap(X[rows], y[rows])
    assert result.mean > 0.8 > 3 * y[rows].mean()
    assert result.reason == ""
    # random labels give chance-level AP: the metric is not flattering by construction
    shuffled = np.random.default_rng(0).permutation(y[rows])
    assert cross_validated_ap(X[rows], shuffled).mean < 0.35


def test_select_c_returns_a_grid_value(planted):
    X, y, _ = planted
    best, by_c = select_C(X[:400], y[:400], Cs=(0.01, 10.0))
    assert best in by_c and set(by_c) == {0.01, 10.0}
    assert select_C(X[:5], np.array([1, 0, 0, 0, 0], bool))[0] is None


def test_coverage_on_hand_built_example():
    # 4 clusters: 0 has both classes, 1 only positives, 2 only negatives, 3 nothing.
    assert coverage(np.array([0, 0, 1]), np.array([0, 2, 2]), 4) == 0.25
    assert coverage(np.array([0, 1, 2, 3]), np.array([3, 2, 1, 0]), 4) == 1.0
    assert coverage(np.array([], int), np.array([0]), 4) == 0.0


def test_va_diversity_follows_va_data_score():
    # K=2 clusters, cap=2: positives 3 in c0 (capped 2) + 1 in c1; negatives 1 in c0 → (3 + 1) / (2*2*2)
    assert va_diversity(np.array([0, 0, 0, 1]), np.array([0]), 2, cap=2) == pytest.approx(0.5)
    full = np.repeat(np.arange(10), 10)
    assert va_diversity(full, full, 10) == 1.0


def test_cluster_corpus_assigns_every_row_to_its_nearest_centroid():
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((5, 8)).astype(np.float32) * 10
    X = (centres[rng.integers(0, 5, 3000)] + rng.standard_normal((3000, 8))).astype(np.float32)
    clustering = cluster_corpus(X, n_clusters=5, sample_size=1000, chunk_rows=700)
    d2 = ((X[:, None, :] - clustering.centroids[None, :, :]) ** 2).sum(-1)
    np.testing.assert_array_equal(clustering.assignments, d2.argmin(1))
    assert clustering.n_clusters == 5 and len(np.unique(clustering.assignments)) == 5
    np.testing.assert_array_equal(assign_clusters(X[:10], clustering.centroids), clustering.assignments[:10])


def test_classifier_metrics_bundle(planted):
    X, y, _ = planted
    rows = np.arange(300)
    clusters = np.arange(len(X)) % 6
    m = classifier_metrics(X[rows], y[rows], label_clusters=clusters[rows], n_clusters=6, n_unsure=3)
    assert (m.n_pos, m.n_neg, m.n_unsure) == (int(y[rows].sum()), int((~y[rows]).sum()), 3)
    assert m.cv_ap is not None and 0 <= m.coverage <= 1 and 0 <= m.diversity <= 1
    assert m.to_dict()["n_clusters"] == 6
    none = classifier_metrics(X[:3], np.array([True, False, True]))
    assert none.cv_ap is None and none.coverage is None and none.cv_reason
