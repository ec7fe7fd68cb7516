import numpy as np
import pytest

from models_app.learning.feeds import (
    FEED_NAMES,
    MAX_FEED_SIZE,
    FeedSizes,
    build_feeds,
    hash_keys,
    seed_from,
    smallest_k_rows,
)


def corpus(n: int, seed: int = 0, *, ties: bool = False):
    rng = np.random.default_rng(seed)
    shot_ids = np.sort(rng.choice(10 * n, size=n, replace=False)).astype(np.int64)
    scores = rng.standard_normal(n).astype(np.float32)
    if ties:
        scores = np.round(scores, 1)  # many exact ties
    labeled = rng.choice(shot_ids, size=n // 10, replace=False)
    return shot_ids, scores, labeled


def brute_force(shot_ids, scores, labeled, key, k):
    """Reference: Python sort of (key, shot id) over the unlabeled shots."""
    labeled = set(labeled.tolist())
    items = sorted((float(key[i]), int(shot_ids[i])) for i in range(len(shot_ids)) if int(shot_ids[i]) not in labeled)
    return [sid for _, sid in items[:k]]


@pytest.mark.parametrize("n", [50, 3_000, 200_000])  # 200k takes the thresholded-candidates path
@pytest.mark.parametrize("ties", [False, True])
def test_feeds_match_brute_force(n, ties):
    shot_ids, scores, labeled = corpus(n, seed=n, ties=ties)
    k = 40
    feeds = build_feeds(scores, shot_ids, labeled, sizes=FeedSizes.uniform(k), threshold=0.3)
    assert feeds.top_positive.shot_ids.tolist() == brute_force(shot_ids, scores, labeled, -scores, k)
    assert feeds.top_negative.shot_ids.tolist() == brute_force(shot_ids, scores, labeled, scores, k)
    borderline_key = np.abs(scores - np.float32(0.3))
    assert feeds.borderline.shot_ids.tolist() == brute_force(shot_ids, scores, labeled, borderline_key, k)
    if n <= 3_000:
        hashed = hash_keys(shot_ids, 0)
        assert feeds.random.shot_ids.tolist() == brute_force(shot_ids, scores, labeled, hashed, k)


def test_feeds_exclude_labeled_and_honour_sizes():
    shot_ids, scores, labeled = corpus(5_000, seed=1)
    sizes = FeedSizes(top_positive=10, top_negative=0, borderline=7, random=123)
    feeds = build_feeds(scores, shot_ids, labeled, sizes=sizes, seed=5)
    for name, feed in feeds.items():
        assert len(feed) == getattr(sizes, name)
        assert not np.isin(feed.shot_ids, labeled).any()
        assert len(np.unique(feed.shot_ids)) == len(feed)
        # scores travel with their shots
        np.testing.assert_array_equal(feed.scores, scores[np.searchsorted(shot_ids, feed.shot_ids)])
    assert np.all(np.diff(feeds.top_positive.scores) <= 0)
    assert np.all(np.diff(np.abs(feeds.borderline.scores)) >= 0)


def test_labeled_ids_outside_corpus_are_ignored_and_small_corpus_is_exhausted():
    shot_ids = np.array([2, 4, 6, 8], np.int64)
    scores = np.array([0.1, -2.0, 3.0, 0.5], np.float32)
    feeds = build_feeds(scores, shot_ids, np.array([6, 99, -1]), sizes=FeedSizes.uniform(10))
    assert feeds.top_positive.shot_ids.tolist() == [8, 2, 4]
    assert feeds.top_negative.shot_ids.tolist() == [4, 2, 8]
    assert feeds.borderline.shot_ids.tolist() == [2, 8, 4]
    assert sorted(feeds.random.shot_ids.tolist()) == [2, 4, 8]
    everything = build_feeds(scores, shot_ids, shot_ids)
    assert all(len(feed) == 0 for _, feed in everything.items())


def test_feeds_are_deterministic_and_paginate_stably():
    shot_ids, scores, labeled = corpus(20_000, seed=2, ties=True)
    a = build_feeds(scores, shot_ids, labeled, seed=11)
    b = build_feeds(scores.copy(), shot_ids.copy(), labeled[::-1].copy(), seed=11)
    for name in FEED_NAMES:
        np.testing.assert_array_equal(a[name].shot_ids, b[name].shot_ids)
        pages = [a[name].page(offset, 30).shot_ids for offset in range(0, 100, 30)]
        np.testing.assert_array_equal(np.concatenate(pages), a[name].shot_ids)


def test_random_feed_is_stable_per_seed_and_only_drops_newly_labeled():
    shot_ids, scores, labeled = corpus(20_000, seed=3)
    first = build_feeds(scores, shot_ids, labeled, seed=seed_from("project-7")).random
    again = build_feeds(-scores, shot_ids, labeled, seed=seed_from("project-7")).random  # retrained model
    np.testing.assert_array_equal(first.shot_ids, again.shot_ids)
    other = build_feeds(scores, shot_ids, labeled, seed=seed_from("project-8")).random
    assert len(np.intersect1d(first.shot_ids, other.shot_ids)) < 10
    # Label three shots of the random feed: they leave, the rest keep their order, three new ones come last.
    newly = first.shot_ids[[0, 5, 9]]
    after = build_feeds(scores, shot_ids, np.concatenate([labeled, newly]), seed=seed_from("project-7")).random
    kept = first.shot_ids[~np.isin(first.shot_ids, newly)]
    np.testing.assert_array_equal(after.shot_ids[: len(kept)], kept)
    assert not np.isin(after.shot_ids, newly).any()


def test_random_feed_is_roughly_uniform():
    shot_ids = np.arange(100_000, dtype=np.int64)
    picks = np.concatenate(
        [
            build_feeds(
                np.zeros(len(shot_ids), np.float32), shot_ids, [], seed=s, sizes=FeedSizes.uniform(500)
            ).random.shot_ids
            for s in range(20)
        ]
    )
    counts = np.bincount(picks // 10_000, minlength=10)  # 10 000 picks over 10 equal bins
    assert counts.min() > 850 and counts.max() < 1150


def test_feed_sizes_are_validated():
    FeedSizes.uniform(MAX_FEED_SIZE)
    with pytest.raises(ValueError):
        FeedSizes(top_positive=MAX_FEED_SIZE + 1)
    with pytest.raises(ValueError):
        FeedSizes(random=-1)


def test_nan_scores_and_misaligned_inputs_are_rejected():
    with pytest.raises(ValueError, match="NaN"):
        build_feeds(np.array([0.0, np.nan], np.float32), np.array([1, 2]), [])
    with pytest.raises(ValueError):
        build_feeds(np.zeros(3, np.float32), np.array([1, 2]), [])


def test_smallest_k_rows_handles_heavy_exclusion_on_large_arrays():
    rng = np.random.default_rng(4)
    key = rng.random(300_000).astype(np.float32)
    excluded = np.sort(np.argsort(key)[:5_000])  # the 5000 best rows are excluded
    rows = smallest_k_rows(key, 25, excluded)
    order = np.argsort(key, kind="stable")
    np.testing.assert_array_equal(rows, order[5_000:5_025])
