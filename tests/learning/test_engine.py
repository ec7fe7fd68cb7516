import numpy as np
import pytest

from models_app.learning.engine import FeedEngine
from models_app.learning.feeds import FeedSizes, build_feeds
from models_app.learning.matrix import CorpusMatrix
from models_app.learning.probe import MissingClassError, train_probe
from models_app.learning.scoring import score_matrix
from models_app.learning.synthetic import make_planted_dataset


@pytest.fixture
def planted():
    """2000 clustered 32-d unit vectors and a planted linear concept (≈15% positive)."""
    return make_planted_dataset()


@pytest.fixture
def matrix(planted):
    X, y, _ = planted
    ids = np.arange(len(X), dtype=np.int64) * 7 + 3
    return CorpusMatrix.from_arrays(ids, X, version="t"), y


def test_update_equals_the_pipeline_done_by_hand(matrix):
    m, y = matrix
    rows = np.arange(0, 2000, 10)
    unsure = m.shot_ids[[1, 2, 3]]
    engine = FeedEngine(m)
    sizes = FeedSizes(5, 6, 7, 8)
    update = engine.update(
        m.shot_ids[rows], y[rows], excluded_shot_ids=np.concatenate([m.shot_ids[rows], unsure]), sizes=sizes, seed=9
    )
    probe = train_probe(m.vectors[rows], y[rows])
    np.testing.assert_allclose(update.probe.weights, probe.weights, rtol=1e-5)
    scores = score_matrix(m.vectors, probe.weights, probe.bias)
    np.testing.assert_allclose(update.scores, scores, rtol=1e-4, atol=1e-4)
    by_hand = build_feeds(update.scores, m.shot_ids, np.concatenate([m.shot_ids[rows], unsure]), sizes=sizes, seed=9)
    for name, feed in update.feeds.items():
        np.testing.assert_array_equal(feed.shot_ids, by_hand[name].shot_ids)
        assert not np.isin(feed.shot_ids, unsure).any()
    assert update.n_missing == 0 and set(update.timings_ms) == {"train", "score", "select"}


def test_update_skips_labels_on_shots_the_matrix_lacks_and_reuses_buffers(matrix):
    m, y = matrix
    rows = np.arange(0, 2000, 10)
    engine = FeedEngine(m)
    ids = np.concatenate([m.shot_ids[rows], [10**9, 10**9 + 1]])
    first = engine.update(ids, np.concatenate([y[rows], [True, False]]), seed=1)
    assert first.n_missing == 2
    assert not np.isin(first.feeds.top_positive.shot_ids, ids).any()
    second = engine.update(m.shot_ids[rows], ~y[rows], seed=1, warm_start=first.probe)
    assert second.scores is first.scores  # same buffer, overwritten
    np.testing.assert_array_equal(first.feeds.random.shot_ids, second.feeds.random.shot_ids)
    with pytest.raises(MissingClassError):
        engine.update(m.shot_ids[:3], np.ones(3, bool))
