"""Training labels from several annotators' votes on the same shots.

Rules, per shot:
1. Reviewer decisions win: the latest reviewer decision (by timestamp) decides. If that decision is
   `unsure`, the shot is left out of training (a reviewer who says "can't tell" overrides the votes).
2. Otherwise each annotator's latest vote counts once; `unsure` votes are ignored; the majority of
   positive vs negative decides.
3. A tie (including a shot with only `unsure` votes) leaves the shot out of training: an arbitrary pick
   would teach the model noise. Such shots still count as labeled for the feeds (they are not shown again).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np

POSITIVE, NEGATIVE, UNSURE = "positive", "negative", "unsure"
_VALUES = (POSITIVE, NEGATIVE, UNSURE)


class Vote(NamedTuple):
    shot_id: int
    user_id: Hashable
    value: str  # "positive" | "negative" | "unsure"
    is_reviewer_decision: bool
    timestamp: datetime | float


def _as_vote(row: Any) -> Vote:
    if isinstance(row, Vote):
        return row
    if isinstance(row, tuple | list):
        return Vote(*row)
    return Vote(row.shot_id, row.user_id, row.value, row.is_reviewer_decision, row.timestamp)


def consensus(labels: Iterable[Any]) -> dict[int, bool]:
    """{shot_id: True (positive) | False (negative)} for the shots that have a training label.

    labels: rows of (shot_id, user_id, value, is_reviewer_decision, timestamp) — tuples, `Vote`s, or objects
    with those attributes (e.g. Label rows from the ORM's values_list).
    """
    latest_review: dict[int, Vote] = {}
    latest_vote: dict[tuple[int, Hashable], Vote] = {}
    for row in labels:
        vote = _as_vote(row)
        if vote.value not in _VALUES:
            raise ValueError(f"unknown label value {vote.value!r}")
        if vote.is_reviewer_decision:
            prev = latest_review.get(vote.shot_id)
            if prev is None or vote.timestamp >= prev.timestamp:
                latest_review[vote.shot_id] = vote
        else:
            key = (vote.shot_id, vote.user_id)
            prev = latest_vote.get(key)
            if prev is None or vote.timestamp >= prev.timestamp:
                latest_vote[key] = vote

    tally: dict[int, int] = {}  # positives minus negatives
    for (shot_id, _user), vote in latest_vote.items():
        step = 1 if vote.value == POSITIVE else -1 if vote.value == NEGATIVE else 0
        tally[shot_id] = tally.get(shot_id, 0) + step

    result = {shot_id: margin > 0 for shot_id, margin in tally.items() if margin != 0}
    for shot_id, vote in latest_review.items():
        if vote.value == UNSURE:
            result.pop(shot_id, None)
        else:
            result[shot_id] = vote.value == POSITIVE
    return result


def consensus_arrays(labels: Iterable[Any]) -> tuple[np.ndarray, np.ndarray]:
    """The consensus as (shot_ids int64 sorted, y bool), ready for CorpusMatrix.rows_for and train_probe."""
    decided = consensus(labels)
    shot_ids = np.fromiter(decided.keys(), dtype=np.int64, count=len(decided))
    y = np.fromiter(decided.values(), dtype=bool, count=len(decided))
    order = np.argsort(shot_ids, kind="stable")
    return shot_ids[order], y[order]
