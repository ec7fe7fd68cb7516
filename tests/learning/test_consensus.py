from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pytest

from models_app.learning.consensus import Vote, consensus, consensus_arrays

T0 = datetime(2025, 1, 1)


def t(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_majority_decides():
    rows = [
        (1, "ann", "positive", False, t(0)),
        (1, "bob", "positive", False, t(1)),
        (1, "cat", "negative", False, t(2)),
        (2, "ann", "negative", False, t(0)),
        (2, "bob", "negative", False, t(1)),
    ]
    assert consensus(rows) == {1: True, 2: False}


def test_tie_is_excluded():
    rows = [(1, "ann", "positive", False, t(0)), (1, "bob", "negative", False, t(1))]
    assert consensus(rows) == {}


def test_unsure_votes_are_ignored():
    rows = [
        (1, "ann", "positive", False, t(0)),
        (1, "bob", "unsure", False, t(1)),
        (1, "cat", "unsure", False, t(2)),
        (2, "ann", "unsure", False, t(0)),
    ]
    assert consensus(rows) == {1: True}


def test_reviewer_decision_wins_over_majority():
    rows = [
        (1, "ann", "positive", False, t(0)),
        (1, "bob", "positive", False, t(1)),
        (1, "rev", "negative", True, t(2)),
        (2, "ann", "positive", False, t(0)),
        (2, "bob", "negative", False, t(1)),
        (2, "rev", "positive", True, t(5)),
    ]
    assert consensus(rows) == {1: False, 2: True}


def test_latest_reviewer_decision_wins_regardless_of_row_order():
    rows = [
        (1, "rev2", "positive", True, t(9)),
        (1, "rev1", "negative", True, t(3)),
        (1, "ann", "negative", False, t(0)),
    ]
    assert consensus(rows) == {1: True}
    assert consensus(list(reversed(rows))) == {1: True}


def test_reviewer_unsure_removes_shot_from_training():
    rows = [(1, "ann", "positive", False, t(0)), (1, "rev", "unsure", True, t(1))]
    assert consensus(rows) == {}


def test_each_annotator_counts_once_with_their_latest_vote():
    rows = [
        (1, "ann", "positive", False, t(0)),
        (1, "ann", "positive", False, t(1)),
        (1, "ann", "negative", False, t(5)),  # ann changed her mind
        (1, "bob", "negative", False, t(2)),
    ]
    assert consensus(rows) == {1: False}


def test_accepts_objects_and_votes_and_rejects_unknown_values():
    @dataclass
    class Row:
        shot_id: int
        user_id: int
        value: str
        is_reviewer_decision: bool
        timestamp: float

    rows = [Row(3, 1, "positive", False, 1.0), Vote(3, 2, "positive", False, 2.0), (4, 1, "negative", False, 0.0)]
    assert consensus(rows) == {3: True, 4: False}
    with pytest.raises(ValueError, match="unknown label value"):
        consensus([(1, 1, "maybe", False, 0.0)])


def test_consensus_arrays_are_sorted_by_shot_id():
    rows = [(9, 1, "positive", False, 0), (2, 1, "negative", False, 0), (5, 1, "positive", False, 0)]
    shot_ids, y = consensus_arrays(rows)
    assert shot_ids.dtype == np.int64 and y.dtype == bool
    assert shot_ids.tolist() == [2, 5, 9] and y.tolist() == [False, True, True]
