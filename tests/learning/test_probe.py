import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from models_app.learning.probe import MissingClassError, Probe, train_probe
from models_app.learning.scoring import score_matrix, sigmoid
from models_app.learning.synthetic import make_planted_dataset


@pytest.fixture
def planted():
    """2000 clustered 32-d unit vectors and a planted linear concept (≈15% positive)."""
    return make_planted_dataset()


def test_probe_learns_planted_concept(planted):
    X, y, _ = planted
    rng = np.random.default_rng(0)
    train = rng.choice(len(X), size=300, replace=False)
    test = np.setdiff1d(np.arange(len(X)), train)
    probe = train_probe(X[train], y[train])
    ap = average_precision_score(y[test], probe.decision_function(X[test]))
    assert ap > 0.8
    assert ap > 3 * y[test].mean()  # far above random scores
    assert probe.weights.dtype == np.float32 and probe.weights.shape == (32,)
    assert (probe.n_pos, probe.n_neg) == (int(y[train].sum()), int((~y[train]).sum()))
    assert probe.converged


def test_probe_weights_point_along_the_concept(planted):
    X, y, direction = planted
    probe = train_probe(X, y)
    cosine = probe.weights @ direction / np.linalg.norm(probe.weights)
    assert cosine > 0.8


@pytest.mark.parametrize("y", [np.ones(6, bool), np.zeros(6, bool), np.array([], bool)])
def test_missing_class_raises(y):
    X = np.random.default_rng(0).standard_normal((len(y), 4)).astype(np.float32)
    with pytest.raises(MissingClassError, match="at least 1 positive and 1 negative"):
        train_probe(X, y)


def test_one_positive_one_negative_ranks_by_difference_vector():
    rng = np.random.default_rng(3)
    x_pos, x_neg = rng.standard_normal((2, 16)).astype(np.float32)
    probe = train_probe(np.stack([x_pos, x_neg]), np.array([True, False]))
    diff = x_pos - x_neg
    cosine = probe.weights @ diff / (np.linalg.norm(probe.weights) * np.linalg.norm(diff))
    assert cosine > 0.999
    # The 0-logit boundary is the perpendicular bisector of the two labeled shots.
    midpoint = (x_pos + x_neg) / 2
    assert abs(float(probe.decision_function(midpoint)[0])) < 1e-3
    assert probe.decision_function(x_pos)[0] > 0 > probe.decision_function(x_neg)[0]


def test_label_encodings_agree(planted):
    X, y, _ = planted
    a = train_probe(X[:200], y[:200])
    b = train_probe(X[:200], np.where(y[:200], 1, -1))
    c = train_probe(X[:200], y[:200].astype(int))
    np.testing.assert_allclose(a.weights, b.weights, rtol=1e-5)
    np.testing.assert_allclose(a.weights, c.weights, rtol=1e-5)
    with pytest.raises(ValueError, match="labels must be"):
        train_probe(X[:3], np.array([0, 1, 2]))


def test_warm_start_reaches_the_same_solution_in_fewer_iterations(planted):
    X, y, _ = planted
    first = train_probe(X[:400], y[:400], tol=1e-6, max_iter=1000)
    cold = train_probe(X[:410], y[:410], tol=1e-6, max_iter=1000)
    warm = train_probe(X[:410], y[:410], tol=1e-6, max_iter=1000, warm_start=first)
    assert warm.n_iter < cold.n_iter
    np.testing.assert_allclose(warm.weights, cold.weights, atol=2e-2 * np.abs(cold.weights).max())


def test_balanced_class_weight_moves_boundary_toward_minority(planted):
    X, y, _ = planted
    balanced = train_probe(X, y)
    plain = train_probe(X, y, class_weight=None)
    # Rare positives: unweighted training predicts fewer positives than balanced training.
    assert (plain.decision_function(X) > 0).sum() < (balanced.decision_function(X) > 0).sum()


def test_rejects_nan_and_shape_mismatch():
    X = np.ones((4, 3), np.float32)
    y = np.array([True, False, True, False])
    with pytest.raises(ValueError):
        train_probe(X[:3], y)
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        train_probe(X, y)


def test_probe_dict_roundtrip(planted):
    X, y, _ = planted
    probe = train_probe(X[:100], y[:100])
    again = Probe.from_dict(probe.to_dict())
    np.testing.assert_array_equal(again.weights, probe.weights)
    assert again.bias == probe.bias and again.n_pos == probe.n_pos and again.C == probe.C


def test_score_matrix_matches_float64_reference_across_chunks():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((1001, 24)).astype(np.float32)
    w = rng.standard_normal(24).astype(np.float32)
    expected = X.astype(np.float64) @ w.astype(np.float64) + 0.5
    for chunk in (1, 7, 1000, 5000):
        got = score_matrix(X, w, 0.5, chunk_rows=chunk)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    out = np.empty(1001, np.float32)
    assert score_matrix(X.astype(np.float64), w, 0.5, out=out) is out
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError):
        score_matrix(X, w[:5])


def test_sigmoid_is_stable_and_monotone():
    z = np.array([-1000, -20, 0, 20, 1000], np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        p = sigmoid(z)
    np.testing.assert_allclose(p, [0, 1 / (1 + np.exp(20)), 0.5, 1 / (1 + np.exp(-20)), 1], atol=1e-7)
    assert np.all(np.diff(p) >= 0)
