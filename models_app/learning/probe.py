"""Linear probe: class-balanced L2 logistic regression on frozen embeddings (scikit-learn, lbfgs).

Why these choices (the whole label → feeds path has 300 ms at 1M shots, DESIGN.md §5):
- Labels are few (tens to a few thousand) and d ≈ 512, so lbfgs converges in 5–20 iterations of two small
  matrix products each; its cost is mostly scikit-learn's fixed overhead (a few ms). liblinear is slower
  past a few hundred labels and newton-cholesky pays for a d × d Hessian.
- BLAS is held to one thread while fitting: the matrices are tiny, and OpenBLAS threads that spin-wait on a
  busy 2-core machine made a 5 ms fit take 100–400 ms in measurements. (The limit is process-wide for the
  duration of the fit; a Celery prefork worker runs one task at a time.)
- `warm_start` starts lbfgs from the previous version's weights: one new label moves the optimum little.
- `class_weight="balanced"`: feeds and searches produce very unbalanced label sets.
- C = 10 by default: unit-norm embeddings have small coordinates, and in simulations (simulate.py, 64–256-d
  planted concepts) C = 10 beat scikit-learn's C = 1 from 100 labels on and tied below. metrics.select_C
  re-picks C per project by cross-validation, off the critical path, for the next version to use.

Very few labels: training starts at 1 positive + 1 negative. With exactly those two, the optimum is
w ∝ (x_pos − x_neg) and b = −w·(x_pos + x_neg)/2 (the two balanced residuals are equal and the intercept is
not penalised): shots are ranked by how much more they resemble the positive than the negative, and the
0-logit boundary is the perpendicular bisector. With a handful of labels the L2 penalty dominates and w stays
close to the difference of the (class-weighted) means. That is a usable first ranking for the feeds, not a
calibrated classifier (its probabilities mean little), and cross-validated metrics appear only from 5 labels per
class (metrics.py). A class with no labels at all raises MissingClassError.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from .scoring import blas_limit, score_matrix, sigmoid

DEFAULT_C = 10.0
DEFAULT_MAX_ITER = 200
DEFAULT_TOL = 1e-4


class MissingClassError(ValueError):
    """Training needs at least one positive and one negative label."""


@dataclass(frozen=True, eq=False)
class Probe:
    """A trained linear classifier: logit(x) = weights · x + bias."""

    weights: np.ndarray  # float32 (d,)
    bias: float
    n_pos: int
    n_neg: int
    C: float = DEFAULT_C
    n_iter: int = 0
    converged: bool = True

    @property
    def dim(self) -> int:
        return int(self.weights.shape[0])

    def decision_function(self, vectors: np.ndarray) -> np.ndarray:
        return score_matrix(np.atleast_2d(vectors), self.weights, self.bias)

    def predict_proba(self, vectors: np.ndarray) -> np.ndarray:
        return sigmoid(self.decision_function(vectors))

    def to_dict(self) -> dict:
        """JSON-friendly form (e.g. for ClassifierVersion.weights)."""
        return {
            "weights": self.weights.tolist(),
            "bias": self.bias,
            "n_pos": self.n_pos,
            "n_neg": self.n_neg,
            "C": self.C,
            "n_iter": self.n_iter,
            "converged": self.converged,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Probe:
        return cls(
            weights=np.asarray(data["weights"], dtype=np.float32),
            bias=float(data["bias"]),
            n_pos=int(data["n_pos"]),
            n_neg=int(data["n_neg"]),
            C=float(data.get("C", DEFAULT_C)),
            n_iter=int(data.get("n_iter", 0)),
            converged=bool(data.get("converged", True)),
        )


def as_binary_labels(y: np.ndarray) -> np.ndarray:
    """Bool array from bools, 0/1 or ±1; anything else is an error (no silent guessing)."""
    arr = np.asarray(y).ravel()
    if arr.dtype == bool:
        return arr
    values = set(np.unique(arr).tolist())
    if values <= {0, 1}:
        return arr == 1
    if values <= {-1, 1}:
        return arr == 1
    raise ValueError(f"labels must be bool, 0/1 or -1/1, got values {sorted(values)[:5]}")


def check_classes(y: np.ndarray) -> tuple[int, int]:
    """(n_pos, n_neg); MissingClassError when either is zero."""
    n_pos = int(np.count_nonzero(y))
    n_neg = int(len(y) - n_pos)
    if n_pos == 0 or n_neg == 0:
        raise MissingClassError(
            f"training needs at least 1 positive and 1 negative label, got {n_pos} positive and {n_neg} negative"
        )
    return n_pos, n_neg


def train_probe(
    X: np.ndarray,
    y: np.ndarray,
    *,
    C: float = DEFAULT_C,
    max_iter: int = DEFAULT_MAX_ITER,
    tol: float = DEFAULT_TOL,
    warm_start: Probe | None = None,
    class_weight: str | None = "balanced",
) -> Probe:
    """Fits a class-balanced L2 logistic regression on (X, y); `unsure` labels must already be dropped.

    X: (n, d) embeddings of the labeled shots; y: bool (or 0/1, ±1) consensus labels, True = positive.
    warm_start: a previous Probe of the same dimension to start the optimiser from.
    """
    X = np.ascontiguousarray(X, dtype=np.float32)
    y = as_binary_labels(y)
    if X.ndim != 2 or len(X) != len(y):
        raise ValueError(f"X must be (n, d) with n == len(y); got {X.shape} and {len(y)} labels")
    n_pos, n_neg = check_classes(y)
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or infinite values")

    model = LogisticRegression(
        C=C, class_weight=class_weight, solver="lbfgs", max_iter=max_iter, tol=tol, warm_start=True
    )
    if warm_start is not None and warm_start.dim == X.shape[1]:
        model.coef_ = warm_start.weights.astype(np.float32)[None, :]
        model.intercept_ = np.array([warm_start.bias], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # reported through Probe.converged instead
        with blas_limit(1):
            model.fit(X, y)
    n_iter = int(np.max(model.n_iter_))
    return Probe(
        weights=np.ascontiguousarray(model.coef_[0], dtype=np.float32),
        bias=float(model.intercept_[0]),
        n_pos=n_pos,
        n_neg=n_neg,
        C=float(C),
        n_iter=n_iter,
        converged=n_iter < max_iter,
    )
