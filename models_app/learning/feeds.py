"""The four annotation feeds (VA's active-learning step), selected from corpus scores.

- top_positive: highest logits (does the model have the concept?)
- top_negative: lowest logits (is it missing something?)
- borderline:   smallest |logit − threshold| (edge cases; threshold 0 logit = probability 0.5)
- random:       a uniform sample (diversity, calibration)

Every feed excludes shots already labeled in the project (by anyone). Feeds are computed independently, so a
shot may appear in two feeds of a tiny corpus; on real corpora they do not meet.

Determinism (pagination over a stored feed must not shift): ties are broken by ascending shot id, and the
random feed ranks shots by a keyed 64-bit hash of (seed, shot id). With a seed fixed per project the random
feed stays the same across retrains except that labeled shots drop out and the next ones move up; derive the
seed from the classifier version instead (`seed_from`) to get a fresh sample per version.

Speed: no full sort. Each feed finds its k best keys by thresholding (a strided sample estimates a cut that
keeps a few thousand candidates, verified exact, falling back to np.argpartition) and sorts only those.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields

import numpy as np

FEED_NAMES = ("top_positive", "top_negative", "borderline", "random")
MAX_FEED_SIZE = 500
DEFAULT_FEED_SIZE = 100

_SAMPLE_SIZE = 16_384  # strided sample used to estimate the candidate cut
_MIN_CANDIDATES = 2_048


@dataclass(frozen=True)
class FeedSizes:
    """How many shots each feed holds (0 … MAX_FEED_SIZE)."""

    top_positive: int = DEFAULT_FEED_SIZE
    top_negative: int = DEFAULT_FEED_SIZE
    borderline: int = DEFAULT_FEED_SIZE
    random: int = DEFAULT_FEED_SIZE

    def __post_init__(self) -> None:
        for f in fields(self):
            size = getattr(self, f.name)
            if not (isinstance(size, int | np.integer) and 0 <= size <= MAX_FEED_SIZE):
                raise ValueError(f"feed size {f.name}={size!r} must be an int in [0, {MAX_FEED_SIZE}]")

    @classmethod
    def uniform(cls, size: int) -> FeedSizes:
        return cls(size, size, size, size)


@dataclass(frozen=True, eq=False)
class Feed:
    """One feed, in display order: shot ids (int64) and their logits (float32)."""

    name: str
    shot_ids: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.shot_ids)

    def page(self, offset: int, limit: int) -> Feed:
        """Slice for offset/limit pagination over the stored feed."""
        if offset < 0 or limit < 0:
            raise ValueError("offset and limit must be >= 0")
        sl = slice(offset, offset + limit)
        return Feed(self.name, self.shot_ids[sl], self.scores[sl])

    def to_dict(self) -> dict:
        return {"name": self.name, "shot_ids": self.shot_ids.tolist(), "scores": self.scores.tolist()}


@dataclass(frozen=True, eq=False)
class Feeds:
    top_positive: Feed
    top_negative: Feed
    borderline: Feed
    random: Feed

    def __getitem__(self, name: str) -> Feed:
        if name not in FEED_NAMES:
            raise KeyError(name)
        return getattr(self, name)

    def items(self) -> Iterator[tuple[str, Feed]]:
        for name in FEED_NAMES:
            yield name, getattr(self, name)

    def to_dict(self) -> dict[str, dict]:
        return {name: feed.to_dict() for name, feed in self.items()}


def seed_from(text: str) -> int:
    """A 63-bit seed from any string (project id, classifier version, …), stable across processes."""
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def build_feeds(
    scores: np.ndarray,
    shot_ids: np.ndarray,
    labeled_shot_ids: np.ndarray,
    *,
    sizes: FeedSizes = FeedSizes(),
    threshold: float = 0.0,
    seed: int = 0,
    random_keys: np.ndarray | None = None,
) -> Feeds:
    """The four feeds over a scored corpus.

    scores: float32 (n,) logits, row-aligned with `shot_ids` (int64, strictly increasing, as CorpusMatrix).
    labeled_shot_ids: shots labeled in the project by anyone (any value, unsure included); ids not in the
    corpus are ignored.
    random_keys: `hash_keys(shot_ids, seed)` when the caller caches it (FeedEngine does); else computed.
    """
    scores = np.asarray(scores)
    shot_ids = np.asarray(shot_ids, dtype=np.int64)
    if scores.shape != shot_ids.shape:
        raise ValueError("scores and shot_ids must be row-aligned")
    if np.isnan(scores).any():
        raise ValueError("scores contain NaN")
    excluded = labeled_rows(shot_ids, labeled_shot_ids)

    def make(name: str, key: Callable[[], np.ndarray], k: int) -> Feed:
        rows = smallest_k_rows(key(), k, excluded) if k > 0 else np.empty(0, dtype=np.int64)
        return Feed(name, shot_ids[rows], scores[rows].astype(np.float32, copy=False))

    thr = np.float32(threshold)
    return Feeds(
        top_positive=make("top_positive", lambda: np.negative(scores), sizes.top_positive),
        top_negative=make("top_negative", lambda: scores, sizes.top_negative),
        borderline=make("borderline", lambda: np.abs(scores - thr), sizes.borderline),
        random=make("random", lambda: hash_keys(shot_ids, seed) if random_keys is None else random_keys, sizes.random),
    )


def labeled_rows(shot_ids: np.ndarray, labeled_shot_ids: np.ndarray) -> np.ndarray:
    """Sorted unique rows of the labeled shots that the corpus holds."""
    labeled = np.unique(np.asarray(labeled_shot_ids, dtype=np.int64))
    rows = np.searchsorted(shot_ids, labeled)
    inside = rows < len(shot_ids)
    rows, labeled = rows[inside], labeled[inside]
    return rows[shot_ids[rows] == labeled]


def smallest_k_rows(key: np.ndarray, k: int, excluded_rows: np.ndarray) -> np.ndarray:
    """Rows of the k smallest `key` values outside `excluded_rows` (sorted), ordered by (key, row)."""
    n = len(key)
    k = min(k, n - len(excluded_rows))
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    candidates = _candidates(key, k, excluded_rows)
    order = np.lexsort((candidates, key[candidates]))
    return candidates[order[:k]]


def _candidates(key: np.ndarray, k: int, excluded_rows: np.ndarray) -> np.ndarray:
    """A small superset of the k best unexcluded rows: every row with key <= cut, for a verified cut."""
    n = len(key)
    need = k + len(excluded_rows)
    if n > 4 * _SAMPLE_SIZE and need < n // 8:
        sample = key[:: n // _SAMPLE_SIZE]
        frac = max(need, _MIN_CANDIDATES) / n
        for factor in (2.0, 8.0):
            idx = min(int(frac * factor * len(sample)), len(sample) - 1)
            cut = np.partition(sample, idx)[idx]
            rows = np.flatnonzero(key <= cut)
            rows = _drop(rows, excluded_rows)
            # Exact: every unexcluded row outside `rows` has key > cut >= any key inside.
            if len(rows) >= k:
                return rows
    part = np.argpartition(key, need - 1)[:need] if need < n else np.arange(n)
    # Rows tied with the need-th key may fall on either side of argpartition: take them all.
    cut = key[part].max()
    rows = np.flatnonzero(key <= cut)
    return _drop(rows, excluded_rows)


def _drop(rows: np.ndarray, excluded_rows: np.ndarray) -> np.ndarray:
    if len(excluded_rows) == 0:
        return rows
    return rows[~np.isin(rows, excluded_rows, assume_unique=True)]


def hash_keys(shot_ids: np.ndarray, seed: int) -> np.ndarray:
    """SplitMix64 of (shot id XOR mixed seed): a uniform, reproducible random rank for each shot."""
    salt = _splitmix64(np.array([seed & _MASK64], dtype=np.uint64))[0]
    return _splitmix64(np.asarray(shot_ids).astype(np.uint64) ^ salt)


_MASK64 = 0xFFFFFFFFFFFFFFFF


def _splitmix64(z: np.ndarray) -> np.ndarray:
    """The SplitMix64 finaliser, vectorised; uint64 arithmetic wraps modulo 2**64 (in place on `z`)."""
    z += np.uint64(0x9E3779B97F4A7C15)
    z ^= z >> np.uint64(30)
    z *= np.uint64(0xBF58476D1CE4E5B9)
    z ^= z >> np.uint64(27)
    z *= np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return z
