"""Annotator pace from label timestamps: labels per hour and median seconds per label.

The time between two consecutive labels of one annotator is the time the second one took, unless it is
longer than `break_s` (a pause: a meeting, the end of a day), in which case it counts for neither.
labels per hour = timed labels / their total time; median seconds per label = median of those gaps.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import asdict, dataclass

import numpy as np

DEFAULT_BREAK_S = 300.0


@dataclass(frozen=True)
class Pace:
    annotator: Hashable
    labels: int  # every label event
    timed_labels: int  # those that follow another within break_s
    active_seconds: float
    labels_per_hour: float | None
    median_seconds: float | None

    def to_dict(self) -> dict:
        return asdict(self)


def annotator_pace(events: Iterable[tuple[Hashable, float]], *, break_s: float = DEFAULT_BREAK_S) -> list[Pace]:
    """events: (annotator, unix seconds) of each label change. One Pace per annotator, sorted by name."""
    times: dict[Hashable, list[float]] = {}
    for annotator, t in events:
        times.setdefault(annotator, []).append(float(t))
    result = []
    for annotator in sorted(times, key=str):
        stamps = np.sort(np.asarray(times[annotator]))
        gaps = np.diff(stamps)
        gaps = gaps[gaps <= break_s]
        active = float(gaps.sum())
        result.append(
            Pace(
                annotator=annotator,
                labels=len(stamps),
                timed_labels=len(gaps),
                active_seconds=active,
                labels_per_hour=len(gaps) / active * 3600 if active > 0 else None,
                median_seconds=float(np.median(gaps)) if len(gaps) else None,
            )
        )
    return result
