"""How a simulated annotator picks the next shots to label (VA experiment 1 and its baselines).

All strategies pick from the *pool*: the training split of the shots that have ground truth (only those can
be "labeled" by a simulated annotator). Ranking the pool is the same as walking a corpus-wide feed and
skipping shots without ground truth.

- va_feeds (VA): the four feeds of feeds.py over the current probe's scores, mixed in equal parts per step.
- uncertainty: pure uncertainty sampling, the shots closest to the decision boundary.
- random (VA's RCC baseline): a uniform random order.
- zero_shot (ZSC): by cosine similarity to the label's text embedding.
- zero_shot_random (CC): half zero-shot, half random, interleaved.

Cold start of the model-based strategies: until the labeled set has a positive and a negative no probe can
be trained, so they label like a user starting with search: the zero_shot_random order (zero-shot finds
positives, random finds negatives); with no text embedding, the random order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import zip_longest

import numpy as np

from .feeds import FEED_NAMES, FeedSizes, build_feeds


@dataclass
class PoolState:
    """What a strategy may look at: never the labels of unlabeled pool rows."""

    n_pool: int
    labeled: np.ndarray  # bool (n_pool,)
    random_order: np.ndarray  # int64 permutation of the pool, fixed per seed
    zero_shot_order: np.ndarray | None  # pool rows by descending text similarity
    scores: np.ndarray | None = None  # current probe logits over the pool, None before the first probe
    seed: int = 0
    _mixed: np.ndarray | None = field(default=None, repr=False)

    @property
    def mixed_order(self) -> np.ndarray:
        """zero-shot and random orders interleaved (first occurrence kept)."""
        if self._mixed is None:
            if self.zero_shot_order is None:
                self._mixed = self.random_order
            else:
                both = np.column_stack([self.zero_shot_order, self.random_order]).ravel()
                _, first = np.unique(both, return_index=True)
                self._mixed = both[np.sort(first)]
        return self._mixed


def next_unlabeled(order: np.ndarray, labeled: np.ndarray, k: int) -> np.ndarray:
    return order[~labeled[order]][:k]


class Strategy:
    name = ""
    uses_model = False

    def select(self, state: PoolState, k: int) -> np.ndarray:
        raise NotImplementedError


class RandomStrategy(Strategy):
    name = "random"

    def select(self, state: PoolState, k: int) -> np.ndarray:
        return next_unlabeled(state.random_order, state.labeled, k)


class ZeroShotStrategy(Strategy):
    name = "zero_shot"

    def select(self, state: PoolState, k: int) -> np.ndarray:
        if state.zero_shot_order is None:
            raise ValueError("zero_shot needs a text embedding for the label")
        return next_unlabeled(state.zero_shot_order, state.labeled, k)


class ZeroShotRandomStrategy(Strategy):
    name = "zero_shot_random"

    def select(self, state: PoolState, k: int) -> np.ndarray:
        if state.zero_shot_order is None:
            raise ValueError("zero_shot_random needs a text embedding for the label")
        return next_unlabeled(state.mixed_order, state.labeled, k)


class UncertaintyStrategy(Strategy):
    name = "uncertainty"
    uses_model = True

    def select(self, state: PoolState, k: int) -> np.ndarray:
        if state.scores is None:
            return next_unlabeled(state.mixed_order, state.labeled, k)
        key = np.abs(state.scores)
        key[state.labeled] = np.inf
        rows = np.argsort(key, kind="stable")[:k]
        return rows[np.isfinite(key[rows])]


class VAFeedsStrategy(Strategy):
    """Equal parts of top-positive, top-negative, borderline and random per step (configurable weights)."""

    name = "va_feeds"
    uses_model = True

    def __init__(self, weights: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)) -> None:
        self.weights = np.asarray(weights, dtype=float)

    def select(self, state: PoolState, k: int) -> np.ndarray:
        if state.scores is None:
            return next_unlabeled(state.mixed_order, state.labeled, k)
        quotas = _split(k, self.weights)
        pool_ids = np.arange(state.n_pool, dtype=np.int64)
        feeds = build_feeds(
            state.scores,
            pool_ids,
            np.flatnonzero(state.labeled),
            sizes=FeedSizes(*(min(k, 500) for _ in FEED_NAMES)),
            seed=state.seed,
        )
        # Each feed's quota first; then, if feeds overlapped, fill up from the feeds in turn.
        picked: dict[int, None] = {}
        for name, quota in zip(FEED_NAMES, quotas, strict=True):
            taken = 0
            for row in feeds[name].shot_ids.tolist():
                if taken == quota:
                    break
                if row not in picked:
                    picked[row] = None
                    taken += 1
        for rows in zip_longest(*(feeds[name].shot_ids.tolist() for name in FEED_NAMES)):
            for row in rows:
                if row is not None and len(picked) < k:
                    picked.setdefault(row, None)
        return np.fromiter(picked, dtype=np.int64, count=len(picked))[:k]


def _split(k: int, weights: np.ndarray) -> list[int]:
    """k split in proportion to weights, remainders to the first feeds (largest-remainder would also do)."""
    raw = k * weights / weights.sum()
    quotas = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - quotas), kind="stable")[: k - quotas.sum()]:
        quotas[i] += 1
    return quotas.tolist()


STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls
    for cls in (VAFeedsStrategy, RandomStrategy, ZeroShotStrategy, ZeroShotRandomStrategy, UncertaintyStrategy)
}


def make_strategy(name: str) -> Strategy:
    try:
        return STRATEGIES[name]()
    except KeyError:
        raise ValueError(f"unknown strategy {name!r}; choose from {sorted(STRATEGIES)}") from None
