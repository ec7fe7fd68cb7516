"""Inter-annotator agreement on binary-label projects, with bootstrap confidence intervals.

Input: ratings `(shot_id, annotator, value)`, one per (shot, annotator) — each annotator's current label.
Values are nominal categories (positive, negative, unsure: "can't tell" is an answer annotators can
disagree on). Only shots rated by at least two annotators carry information about agreement.

- raw agreement (project): mean over shots of the share of agreeing annotator pairs on that shot;
  (pair): share of the pair's common shots on which they gave the same value.
- Cohen's κ (pair): scikit-learn's `cohen_kappa_score` over the pair's common shots.
- Krippendorff's α (project, every annotator, missing ratings allowed): the `krippendorff` package,
  nominal level.
Each comes as an `Estimate`: the value (None where the statistic is undefined, e.g. every rating in one
category makes chance agreement 1 and κ, α 0/0), the number of shots it rests on, and a percentile
bootstrap interval over shots (resampled with replacement, seeded, so a report is reproducible).

The point estimates come from the libraries; the bootstrap replicates use the same formulas in
closed form over resampling weights (one matrix product for all replicates), which the tests check
against the libraries on explicit resamples.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterable
from dataclasses import asdict, dataclass
from typing import NamedTuple

import krippendorff
import numpy as np
from sklearn.metrics import cohen_kappa_score

CATEGORIES = ("positive", "negative", "unsure")
_INDEX = {value: i for i, value in enumerate(CATEGORIES)}
_C = len(CATEGORIES)
_CHUNK = 128  # bootstrap replicates per weight matrix (bounds memory at CHUNK × shots)


class Rating(NamedTuple):
    shot_id: int
    annotator: Hashable
    value: str


@dataclass(frozen=True)
class Estimate:
    value: float | None
    n_shots: int
    ci_low: float | None = None
    ci_high: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


# -- point estimates ---------------------------------------------------------------------------------


def raw_agreement(a: Iterable[str], b: Iterable[str]) -> float | None:
    """Share of shots on which two annotators gave the same value (None without common shots)."""
    ya, yb = _codes(a), _codes(b)
    return float(np.mean(ya == yb)) if len(ya) else None


def cohen_kappa(a: Iterable[str], b: Iterable[str]) -> float | None:
    """Cohen's κ of two annotators over their common shots; None where chance agreement is 1."""
    ya, yb = _codes(a), _codes(b)
    if len(ya) == 0 or _kappa_undefined(ya, yb):
        return None
    return float(cohen_kappa_score(ya, yb, labels=list(range(_C))))


def krippendorff_alpha(ratings: Iterable[Rating]) -> float | None:
    """Krippendorff's α (nominal) over every annotator; None where it is undefined (one category only,
    or no shot rated twice)."""
    units = _Units.build(ratings)
    if not units.alpha_defined():
        return None
    return float(
        krippendorff.alpha(
            reliability_data=units.reliability_data(), level_of_measurement="nominal", value_domain=list(range(_C))
        )
    )


# -- estimates with intervals --------------------------------------------------------------------------


def project_estimates(
    ratings: Iterable[Rating], *, n_boot: int = 1000, confidence: float = 0.95, seed: int = 0
) -> dict[str, Estimate]:
    """{"raw_agreement": …, "krippendorff_alpha": …} over all annotators."""
    ratings = list(ratings)
    units = _Units.build(ratings)
    per_unit_agreement = units.agreeing_pair_share()
    raw_value = float(per_unit_agreement.mean()) if units.n else None
    alpha_value = krippendorff_alpha(ratings)
    weights = list(_weights(units.n, n_boot, np.random.default_rng(seed)))
    raw_reps = np.concatenate([w @ per_unit_agreement / units.n for w in weights]) if units.n else np.empty(0)
    alpha_reps = np.concatenate([units.alpha_replicates(w) for w in weights]) if units.n else np.empty(0)
    return {
        "raw_agreement": _estimate(raw_value, units.n, raw_reps, confidence),
        "krippendorff_alpha": _estimate(alpha_value, units.n, alpha_reps, confidence),
    }


def pair_estimates(
    a: Iterable[str], b: Iterable[str], *, n_boot: int = 1000, confidence: float = 0.95, seed: int = 0
) -> dict[str, Estimate]:
    """{"raw_agreement": …, "cohen_kappa": …} of two annotators' values on their common shots."""
    ya, yb = _codes(a), _codes(b)
    n = len(ya)
    cells = np.zeros((n, _C * _C))
    cells[np.arange(n), ya * _C + yb] = 1.0
    raw_reps, kappa_reps = [], []
    for w in _weights(n, n_boot, np.random.default_rng(seed)):
        confusion = (w @ cells).reshape(-1, _C, _C) / n
        raw_reps.append(np.trace(confusion, axis1=1, axis2=2))
        kappa_reps.append(_kappa_from_confusion(confusion))
    raw_reps = np.concatenate(raw_reps) if raw_reps else np.empty(0)
    kappa_reps = np.concatenate(kappa_reps) if kappa_reps else np.empty(0)
    return {
        "raw_agreement": _estimate(float(np.mean(ya == yb)) if n else None, n, raw_reps, confidence),
        "cohen_kappa": _estimate(cohen_kappa(a, b) if n else None, n, kappa_reps, confidence),
    }


def agreement_report(ratings: Iterable[Rating], *, n_boot: int = 1000, confidence: float = 0.95, seed: int = 0) -> dict:
    """The project report the worker stores: overall estimates and one row per annotator pair that
    shares at least one shot. JSON-ready (annotators as given, e.g. user ids)."""
    ratings = [Rating(*r) for r in ratings]
    by_annotator: dict[Hashable, dict[int, str]] = {}
    for shot_id, annotator, value in ratings:
        by_annotator.setdefault(annotator, {})[shot_id] = value
    pairs = []
    for index, (a, b) in enumerate(itertools.combinations(sorted(by_annotator, key=str), 2)):
        common = sorted(by_annotator[a].keys() & by_annotator[b].keys())
        if not common:
            continue
        estimates = pair_estimates(
            [by_annotator[a][s] for s in common],
            [by_annotator[b][s] for s in common],
            n_boot=n_boot,
            confidence=confidence,
            seed=seed + 1 + index,
        )
        pairs.append({"a": a, "b": b, **{k: e.to_dict() for k, e in estimates.items()}})
    overall = project_estimates(ratings, n_boot=n_boot, confidence=confidence, seed=seed)
    return {
        "n_ratings": len(ratings),
        "n_annotators": len(by_annotator),
        "n_shots_overlapped": overall["raw_agreement"].n_shots,
        "project": {k: e.to_dict() for k, e in overall.items()},
        "pairs": pairs,
        "categories": list(CATEGORIES),
        "n_boot": n_boot,
        "confidence": confidence,
        "seed": seed,
    }


# -- internals ------------------------------------------------------------------------------------------


def _codes(values: Iterable[str]) -> np.ndarray:
    try:
        return np.fromiter((_INDEX[v] for v in values), dtype=np.int64)
    except KeyError as exc:
        raise ValueError(f"unknown label value {exc.args[0]!r}; expected one of {CATEGORIES}") from None


def _kappa_undefined(ya: np.ndarray, yb: np.ndarray) -> bool:
    # Chance agreement p_e = Σ_c pa_c pb_c is 1 only when both used one and the same category.
    return len(np.unique(ya)) == 1 and np.array_equal(np.unique(ya), np.unique(yb))


def _kappa_from_confusion(confusion: np.ndarray) -> np.ndarray:
    """κ = (p_o − p_e) / (1 − p_e) per replicate; NaN where p_e = 1 (undefined)."""
    p_o = np.trace(confusion, axis1=1, axis2=2)
    p_e = np.einsum("bi,bi->b", confusion.sum(axis=2), confusion.sum(axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = (p_o - p_e) / (1.0 - p_e)
    kappa[np.isclose(p_e, 1.0)] = np.nan
    return kappa


@dataclass(frozen=True)
class _Units:
    """Shots rated by ≥ 2 annotators, as per-shot category counts (n_shots × categories)."""

    shot_ids: tuple
    counts: np.ndarray
    annotators: list
    ratings: list

    @classmethod
    def build(cls, ratings: Iterable[Rating]) -> _Units:
        ratings = [Rating(*r) for r in ratings]
        per_shot: dict[int, dict[Hashable, int]] = {}
        for shot_id, annotator, value in ratings:
            per_shot.setdefault(shot_id, {})[annotator] = _codes([value])[0]
        shots = sorted((s for s, votes in per_shot.items() if len(votes) >= 2), key=str)
        counts = np.zeros((len(shots), _C))
        for row, shot_id in enumerate(shots):
            for code in per_shot[shot_id].values():
                counts[row, code] += 1
        annotators = sorted({a for s in shots for a in per_shot[s]}, key=str)
        kept = [(s, per_shot[s]) for s in shots]
        return cls(tuple(shots), counts, annotators, kept)

    @property
    def n(self) -> int:
        return len(self.shot_ids)

    def agreeing_pair_share(self) -> np.ndarray:
        m = self.counts.sum(axis=1)
        return (self.counts * (self.counts - 1)).sum(axis=1) / (m * (m - 1)) if self.n else np.empty(0)

    def _coincidence_parts(self) -> tuple[np.ndarray, np.ndarray]:
        """Per shot: Σ_c o_cc contribution, and its n_c (all pairable, so every rating counts)."""
        m = self.counts.sum(axis=1)
        diagonal = (self.counts * (self.counts - 1)).sum(axis=1) / (m - 1)
        return diagonal, self.counts

    def alpha_defined(self) -> bool:
        totals = self.counts.sum(axis=0)
        return self.n > 0 and np.count_nonzero(totals) > 1

    def alpha_replicates(self, weights: np.ndarray) -> np.ndarray:
        """α = 1 − (n − 1)(n − Σ o_cc) / (n² − Σ n_c²) for each row of resampling weights."""
        diagonal, counts = self._coincidence_parts()
        o_cc = weights @ diagonal
        n_c = weights @ counts
        n = n_c.sum(axis=1)
        expected = n**2 - (n_c**2).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            alpha = 1.0 - (n - 1) * (n - o_cc) / expected
        alpha[np.isclose(expected, 0.0)] = np.nan
        return alpha

    def reliability_data(self) -> np.ndarray:
        """annotators × shots, category codes, NaN where the annotator did not rate the shot."""
        column = {a: i for i, a in enumerate(self.annotators)}
        data = np.full((len(self.annotators), self.n), np.nan)
        for j, (_shot, votes) in enumerate(self.ratings):
            for annotator, code in votes.items():
                data[column[annotator], j] = code
        return data


def _weights(n: int, n_boot: int, rng: np.random.Generator):
    """Bootstrap resamples of n shots as count vectors (chunks of ≤ _CHUNK replicates × n)."""
    if n == 0 or n_boot <= 0:
        return
    p = np.full(n, 1.0 / n)
    for start in range(0, n_boot, _CHUNK):
        yield rng.multinomial(n, p, size=min(_CHUNK, n_boot - start)).astype(np.float64)


def _estimate(value: float | None, n: int, replicates: np.ndarray, confidence: float) -> Estimate:
    finite = replicates[np.isfinite(replicates)]
    if value is None or len(finite) == 0:
        return Estimate(value=value, n_shots=n)
    tail = (1.0 - confidence) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return Estimate(value=value, n_shots=n, ci_low=float(low), ci_high=float(high))
