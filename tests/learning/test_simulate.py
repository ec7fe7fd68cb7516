import csv
import json
import math

import numpy as np
import pytest

from benchmarks.active_learning import main as active_learning_main
from models_app.learning.readers import LabelSet
from models_app.learning.simulate import SimulationConfig, run_simulation, simulate_label
from models_app.learning.strategies import PoolState, VAFeedsStrategy, make_strategy
from models_app.learning.synthetic import make_synthetic_ground_truth

NS = (25, 50, 100, 200)


@pytest.fixture(scope="module")
def truth():
    return make_synthetic_ground_truth(
        n_shots=6_000, dim=48, labels=("cars", "smoke"), prevalence=0.1, n_annotated=1_500, seed=3
    )


@pytest.fixture(scope="module")
def result(truth):
    return run_simulation(truth, SimulationConfig(ns=NS, seeds=(0, 1)))


def test_learning_strategies_beat_random_scores(result):
    summary = result.summary()
    for row in summary:
        assert row.n_failed == 0, row
        if row.strategy in ("va_feeds", "uncertainty") and row.n >= 50:
            # planted concept, 10% positive: random scores give AP ≈ 0.1
            assert row.ap_mean > row.baseline_ap + 0.3, row
            assert row.ap_mean > 2.5 * row.baseline_ap, row


def test_va_feeds_learn_with_more_labels_and_match_random_sampling(result):
    means = result.mean_over_labels()
    va, rcc = means["va_feeds"], means["random"]
    assert va[200] > va[25] + 0.1
    assert va[200] >= rcc[200] - 0.05
    assert 0.05 < means["baseline"][100] < 0.2


def test_records_count_labels_and_both_classes(result, truth):
    for r in result.records:
        assert r.n_labeled == r.n  # pool (1200) is larger than every n
        assert r.n_pos + r.n_neg == r.n_labeled
    va = [r for r in result.records if r.strategy == "va_feeds" and r.n == 200]
    rcc = [r for r in result.records if r.strategy == "random" and r.n == 200]
    # feeds find positives much faster than random sampling of a 10%-positive pool
    assert sum(r.n_pos for r in va) > 2 * sum(r.n_pos for r in rcc)


def test_n_is_capped_by_the_pool_and_single_class_is_nan():
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((60, 8)).astype(np.float32)
    labels = LabelSet(pos_rows=np.arange(0, 10), neg_rows=np.arange(10, 60))
    config = SimulationConfig(ns=(5, 1000), step=5, seeds=(0,), strategies=("zero_shot", "random"))
    text = -vectors[:10].mean(0)  # points away from the positives: its top-5 are all negatives
    records = simulate_label(vectors, labels, text, config, label="x")
    by = {(r.strategy, r.n): r for r in records}
    assert by[("random", 1000)].n_labeled == 48  # 80% of 60
    assert by[("zero_shot", 5)].n_pos == 0 and math.isnan(by[("zero_shot", 5)].ap)
    assert not math.isnan(by[("random", 1000)].ap)


def test_outputs_are_written(result, tmp_path):
    paths = result.write(tmp_path)
    rows = list(csv.DictReader(paths["summary_csv"].read_text().splitlines()))
    assert {r["strategy"] for r in rows} == {"va_feeds", "random", "zero_shot", "zero_shot_random", "uncertainty"}
    assert len(list(csv.DictReader(paths["records_csv"].read_text().splitlines()))) == len(result.records)
    doc = json.loads(paths["json"].read_text())
    assert doc["config"]["ns"] == list(NS) and set(doc["va_improvement_median"]) == {str(n) for n in NS}
    assert paths["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_va_feeds_strategy_mixes_the_four_feeds():
    rng = np.random.default_rng(1)
    n = 400
    scores = rng.standard_normal(n).astype(np.float32)
    labeled = np.zeros(n, bool)
    labeled[:50] = True
    state = PoolState(n, labeled, rng.permutation(n), None, scores=scores, seed=0)
    picks = VAFeedsStrategy().select(state, 8)
    assert len(picks) == len(set(picks.tolist())) == 8
    assert not labeled[picks].any()
    unl = np.flatnonzero(~labeled)
    top2 = unl[np.argsort(-scores[unl])[:2]]
    bottom2 = unl[np.argsort(scores[unl])[:2]]
    border2 = unl[np.argsort(np.abs(scores[unl]))[:2]]
    assert set(top2) | set(bottom2) | set(border2) <= set(picks.tolist())


def test_unknown_strategy_is_rejected():
    with pytest.raises(ValueError, match="unknown strategy"):
        make_strategy("oracle")
    with pytest.raises(ValueError):
        SimulationConfig(strategies=("oracle",))


def test_cli_synthetic_quick(tmp_path, capsys):
    assert active_learning_main(["--synthetic", "--quick", "--synthetic-labels", "1", "--out", str(tmp_path)]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert {line["metric"] for line in lines} >= {"ap@25/va_feeds", "ap@100/random"}
    assert all(line["bench"] == "active_learning" for line in lines)
    assert (tmp_path / "ap_vs_n.png").exists()
