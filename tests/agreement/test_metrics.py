"""Agreement metrics against hand-computed examples, edge cases, and the bootstrap (pure, no database)."""

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from annotation.agreement import (
    agreement_report,
    cohen_kappa,
    krippendorff_alpha,
    pair_estimates,
    project_estimates,
    raw_agreement,
)
from annotation.agreement.metrics import _kappa_from_confusion, _Units

P, N, U = "positive", "negative", "unsure"

# Two annotators, ten shots. Agree on 8 (4 PP, 4 NN), disagree on 2 (PN, NP).
# p_o = 0.8; both say P half the time, so p_e = 0.5·0.5 + 0.5·0.5 = 0.5 and κ = (0.8 − 0.5)/0.5 = 0.6.
# α: n = 20 values, n_P = n_N = 10, Σ o_cc = 4·2 + 4·2 = 16 → α = 1 − 19·(20 − 16)/(400 − 200) = 0.62.
A = [P, P, P, P, P, N, N, N, N, N]
B = [P, P, P, P, N, N, N, N, N, P]

# Three annotators, missing ratings and `unsure`:
#   s1: a P, b P, c P   s2: a P, b N   s3: a N, b N, c N   s4: a U, c U   s5: a P (alone: not pairable)
# Pairable values: n_P = 4, n_N = 4, n_U = 2, n = 10; Σ o_cc = 3 + 0 + 3 + 2 = 8
# α = 1 − 9·(10 − 8)/(100 − 36) = 1 − 18/64 = 0.71875. Raw (mean share of agreeing pairs): (1+0+1+1)/4.
# Pairs: a–b on s1,s2,s3: raw 2/3, p_e = 2/3·1/3 + 1/3·2/3 = 4/9, κ = (2/3 − 4/9)/(5/9) = 0.4;
#        a–c on s1,s3,s4: raw 1, κ 1;  b–c on s1,s3: raw 1, κ 1.
THREE = [
    (1, "a", P), (1, "b", P), (1, "c", P),
    (2, "a", P), (2, "b", N),
    (3, "a", N), (3, "b", N), (3, "c", N),
    (4, "a", U), (4, "c", U),
    (5, "a", P),
]  # fmt: skip


def two(a, b):
    return [(i, "a", v) for i, v in enumerate(a)] + [(i, "b", v) for i, v in enumerate(b)]


def test_two_annotators_by_hand():
    assert raw_agreement(A, B) == pytest.approx(0.8)
    assert cohen_kappa(A, B) == pytest.approx(0.6)
    assert krippendorff_alpha(two(A, B)) == pytest.approx(0.62)


def test_three_annotators_with_missing_ratings_by_hand():
    assert krippendorff_alpha(THREE) == pytest.approx(0.71875)
    report = agreement_report(THREE, n_boot=200)
    assert report["n_annotators"] == 3 and report["n_ratings"] == 11
    assert report["n_shots_overlapped"] == 4  # s5 has one rating
    assert report["project"]["raw_agreement"]["value"] == pytest.approx(0.75)
    assert report["project"]["krippendorff_alpha"]["value"] == pytest.approx(0.71875)
    pairs = {(p["a"], p["b"]): p for p in report["pairs"]}
    assert set(pairs) == {("a", "b"), ("a", "c"), ("b", "c")}
    assert pairs["a", "b"]["raw_agreement"]["value"] == pytest.approx(2 / 3)
    assert pairs["a", "b"]["cohen_kappa"]["value"] == pytest.approx(0.4)
    assert pairs["a", "b"]["cohen_kappa"]["n_shots"] == 3
    assert pairs["a", "c"]["cohen_kappa"]["value"] == pytest.approx(1.0)
    assert pairs["b", "c"]["cohen_kappa"]["n_shots"] == 2


def test_one_class_only_leaves_kappa_and_alpha_undefined():
    same = [P] * 6
    assert raw_agreement(same, same) == 1.0
    assert cohen_kappa(same, same) is None
    assert krippendorff_alpha(two(same, same)) is None
    estimates = pair_estimates(same, same, n_boot=100)
    assert estimates["cohen_kappa"].value is None and estimates["cohen_kappa"].ci_low is None
    assert estimates["cohen_kappa"].n_shots == 6
    assert estimates["raw_agreement"].to_dict() == {"value": 1.0, "n_shots": 6, "ci_low": 1.0, "ci_high": 1.0}


def test_a_single_shared_shot():
    # Agreeing on it: one category, κ and α undefined. Disagreeing: p_o = 0, p_e = 0 → κ = 0;
    # α = 1 − 1·(2 − 0)/(4 − 2) = 0.
    assert cohen_kappa([P], [P]) is None
    assert cohen_kappa([P], [N]) == pytest.approx(0.0)
    assert krippendorff_alpha([(7, "a", P), (7, "b", N)]) == pytest.approx(0.0)
    report = agreement_report([(7, "a", P), (7, "b", N), (8, "a", N)], n_boot=50)
    assert report["n_shots_overlapped"] == 1
    (pair,) = report["pairs"]
    assert pair["cohen_kappa"] == {"value": 0.0, "n_shots": 1, "ci_low": 0.0, "ci_high": 0.0}


def test_no_overlap_gives_empty_estimates():
    report = agreement_report([(1, "a", P), (2, "b", N)], n_boot=50)
    assert report["pairs"] == [] and report["n_shots_overlapped"] == 0
    assert report["project"]["krippendorff_alpha"] == {"value": None, "n_shots": 0, "ci_low": None, "ci_high": None}
    assert report["project"]["raw_agreement"]["value"] is None


def test_unknown_values_are_refused():
    with pytest.raises(ValueError, match="maybe"):
        cohen_kappa([P], ["maybe"])


def random_ratings(seed, n_shots=60, annotators="abcd", p_rate=0.7):
    rng = np.random.default_rng(seed)
    truth = rng.random(n_shots) < 0.4
    ratings = []
    for s in range(n_shots):
        for a in annotators:
            if rng.random() < p_rate:
                flip = rng.random() < 0.2
                value = U if rng.random() < 0.05 else (P if truth[s] != flip else N)
                ratings.append((s, a, value))
    return ratings


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_library_values_on_random_data(seed):
    """Our wrappers give the libraries' values on realistic data (and the report uses them)."""
    ratings = random_ratings(seed)
    by = {}
    for s, a, v in ratings:
        by.setdefault(a, {})[s] = v
    common = sorted(by["a"].keys() & by["b"].keys())
    a, b = [by["a"][s] for s in common], [by["b"][s] for s in common]
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))
    shots = sorted({s for s, _, _ in ratings})
    codes = {P: 0, N: 1, U: 2}
    data = np.full((4, len(shots)), np.nan)
    for s, ann, v in ratings:
        data["abcd".index(ann), shots.index(s)] = codes[v]
    assert krippendorff_alpha(ratings) == pytest.approx(krippendorff.alpha(data, level_of_measurement="nominal"))


def test_closed_form_replicates_match_the_libraries_on_explicit_resamples():
    """The bootstrap's vectorised κ and α equal scikit-learn's and krippendorff's on the resampled data."""
    ratings = random_ratings(5)
    units = _Units.build(ratings)
    rng = np.random.default_rng(0)
    weights = rng.multinomial(units.n, np.full(units.n, 1 / units.n), size=5).astype(float)
    alphas = units.alpha_replicates(weights)
    for w, alpha in zip(weights, alphas, strict=True):
        resampled = [
            (f"{shot}-{k}", annotator, value)
            for (shot, votes), count in zip(units.ratings, w.astype(int), strict=True)
            for k in range(count)
            for annotator, value in ((a, (P, N, U)[code]) for a, code in votes.items())
        ]
        assert alpha == pytest.approx(krippendorff_alpha(resampled))
    a = np.array([0, 0, 1, 1, 2, 0, 1, 1])
    b = np.array([0, 1, 1, 1, 2, 0, 0, 1])
    for w in rng.multinomial(8, np.full(8, 1 / 8), size=5):
        ya, yb = np.repeat(a, w), np.repeat(b, w)
        confusion = np.zeros((1, 3, 3))
        np.add.at(confusion[0], (ya, yb), 1 / len(ya))
        expected = cohen_kappa_score(ya, yb, labels=[0, 1, 2]) if len(set(ya) | set(yb)) > 1 else np.nan
        assert _kappa_from_confusion(confusion)[0] == pytest.approx(expected, nan_ok=True)


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    ratings = random_ratings(3, n_shots=200)
    first = project_estimates(ratings, n_boot=400, seed=11)
    assert project_estimates(ratings, n_boot=400, seed=11) == first
    other = project_estimates(ratings, n_boot=400, seed=12)
    assert other["krippendorff_alpha"].ci_low != first["krippendorff_alpha"].ci_low
    for estimate in first.values():
        assert estimate.ci_low < estimate.value < estimate.ci_high
        assert estimate.ci_high - estimate.ci_low < 0.4
    narrow = project_estimates(ratings, n_boot=400, seed=11, confidence=0.5)["krippendorff_alpha"]
    assert narrow.ci_high - narrow.ci_low < first["krippendorff_alpha"].ci_high - first["krippendorff_alpha"].ci_low
