"""The hot path in one call: consensus labels → probe → corpus scores → four feeds (DESIGN.md §5).

A worker keeps one FeedEngine per corpus matrix it has loaded; the engine reuses its score buffer (no 4 MB
allocation per retrain at 1M shots) and caches the random-feed hash keys per seed.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from .feeds import Feeds, FeedSizes, build_feeds, hash_keys
from .matrix import CorpusMatrix
from .probe import DEFAULT_C, Probe, train_probe
from .scoring import score_matrix


@dataclass(frozen=True, eq=False)
class FeedsUpdate:
    probe: Probe
    feeds: Feeds
    scores: np.ndarray  # float32 (n,) logits row-aligned with matrix.shot_ids; the engine's buffer
    n_missing: int  # training labels on shots the matrix does not hold (matrix older than the labels)
    timings_ms: dict[str, float] = field(default_factory=dict)


class FeedEngine:
    """Per-corpus, per-process state for retraining and feed selection. Not thread-safe (one task at a time)."""

    def __init__(self, matrix: CorpusMatrix, *, cached_seeds: int = 2) -> None:
        self.matrix = matrix
        self._scores = np.empty(matrix.n, dtype=np.float32)
        self._random_keys: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cached_seeds = cached_seeds

    def random_keys(self, seed: int) -> np.ndarray:
        keys = self._random_keys.pop(seed, None)
        if keys is None:
            keys = hash_keys(self.matrix.shot_ids, seed)
        self._random_keys[seed] = keys
        while len(self._random_keys) > self._cached_seeds:
            self._random_keys.popitem(last=False)
        return keys

    def update(
        self,
        train_shot_ids: np.ndarray,
        train_labels: np.ndarray,
        *,
        excluded_shot_ids: np.ndarray | None = None,
        sizes: FeedSizes = FeedSizes(),
        seed: int = 0,
        C: float = DEFAULT_C,
        warm_start: Probe | None = None,
        threshold: float = 0.0,
    ) -> FeedsUpdate:
        """Trains on (train_shot_ids, train_labels) — the consensus — scores the corpus, builds the feeds.

        excluded_shot_ids: every shot labeled in the project by anyone, unsure and tied ones included
        (defaults to the training shots). Raises MissingClassError without a positive and a negative.
        The returned `scores` array is overwritten by the next update: copy it to keep it.
        """
        t0 = time.perf_counter()
        rows, found = self.matrix.lookup(train_shot_ids)
        labels = np.asarray(train_labels)
        probe = train_probe(self.matrix.vectors[rows[found]], labels[found], C=C, warm_start=warm_start)
        t1 = time.perf_counter()
        scores = score_matrix(self.matrix.vectors, probe.weights, probe.bias, out=self._scores)
        t2 = time.perf_counter()
        feeds = build_feeds(
            scores,
            self.matrix.shot_ids,
            train_shot_ids if excluded_shot_ids is None else excluded_shot_ids,
            sizes=sizes,
            threshold=threshold,
            seed=seed,
            random_keys=self.random_keys(seed),
        )
        t3 = time.perf_counter()
        timings = {"train": (t1 - t0) * 1e3, "score": (t2 - t1) * 1e3, "select": (t3 - t2) * 1e3}
        return FeedsUpdate(probe, feeds, scores, int(len(found) - found.sum()), timings)
