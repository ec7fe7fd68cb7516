"""Overlapping assignment: which labeled shots go to more annotators, so agreement can be measured.

A project's `OverlapPolicy` says what share of shots (`rate`) is labeled by several people and how many
(`annotators`, 2 or 3). A shot is in the overlap sample when a keyed 64-bit hash of (project, shot) falls
below rate × 2⁶⁴: deterministic, the same in every process, and independent of when or by whom the shot
was labeled (no annotator can steer which of their shots get checked).

Routing, for one user:
- a shot the user labeled never comes back to them (in no feed, no search);
- a labeled shot in the sample stays open to other users until `annotators` different people labeled it,
  or a reviewer decided it; it is served by the "overlap" feed and is not hidden from the other feeds or
  search;
- every other labeled shot is hidden from everyone, as before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q

from annotation import realtime
from annotation.access import CAN_MANAGE, access_project
from annotation.models import Label, OverlapPolicy
from models_app.learning import seed_from
from models_app.learning.feeds import hash_keys

OVERLAP_FEED = "overlap"
MAX_RATE = 1.0


def sample_keys(project_id: int, shot_ids) -> np.ndarray:
    """The uint64 key of each shot in the project's overlap sample order (smaller = earlier)."""
    return hash_keys(np.asarray(shot_ids, dtype=np.int64), seed_from(f"overlap:{int(project_id)}"))


def in_sample(project_id: int, shot_ids, rate: float) -> np.ndarray:
    """Whether each shot is in the project's overlap sample at this rate (a bool per shot)."""
    keys = sample_keys(project_id, shot_ids)
    if rate <= 0:
        return np.zeros(len(keys), dtype=bool)
    if rate >= 1:
        return np.ones(len(keys), dtype=bool)
    return keys < np.uint64(int(rate * 2.0**64))


def policy_of(project_id: int) -> OverlapPolicy:
    """The project's policy, or the default (no overlap) unsaved."""
    return OverlapPolicy.objects.filter(project_id=project_id).first() or OverlapPolicy(project_id=project_id)


@dataclass(frozen=True)
class Routing:
    """For one user in one project: labeled shots hidden from them, and those open to them for overlap."""

    hidden: frozenset[int]
    open: tuple[int, ...]  # in sample order


def routing_for(project_id: int, user_id: int, shot_ids=None) -> Routing:
    """Route the project's labeled shots (or only those among `shot_ids`) for a user."""
    labels = Label.objects.filter(project_id=project_id)
    if shot_ids is not None:
        labels = labels.filter(shot_id__in=list(shot_ids))
    rows = list(
        labels.values("shot_id")
        .annotate(
            people=Count("user_id", distinct=True, filter=Q(is_review=False)),
            mine=Count("id", filter=Q(user_id=user_id)),
            reviewed=Count("id", filter=Q(is_review=True)),
        )
        .values_list("shot_id", "people", "mine", "reviewed")
    )
    if not rows:
        return Routing(hidden=frozenset(), open=())
    policy = policy_of(project_id)
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    people, mine, reviewed = (np.fromiter((r[i] for r in rows), dtype=np.int64, count=len(rows)) for i in (1, 2, 3))
    is_open = in_sample(project_id, ids, policy.rate) & (mine == 0) & (reviewed == 0) & (people < policy.annotators)
    open_ids = ids[is_open]
    order = np.argsort(sample_keys(project_id, open_ids), kind="stable")
    return Routing(hidden=frozenset(ids[~is_open].tolist()), open=tuple(open_ids[order].tolist()))


@transaction.atomic
def overlap_set(*, user, project_id: int, rate: float, annotators: int) -> OverlapPolicy:
    """Set the project's overlap rate (0…1) and annotators per overlapped shot (2 or 3). Managers only."""
    project, _ = access_project(user, project_id, allowed=CAN_MANAGE, lock=True)
    errors = {}
    if not (isinstance(rate, int | float) and 0.0 <= rate <= MAX_RATE):
        errors["rate"] = "the overlap rate must be between 0 % and 100 %"
    if annotators not in (2, 3):
        errors["annotators"] = "each overlapped shot needs 2 or 3 annotators"
    if errors:
        raise ValidationError(errors)
    policy, _ = OverlapPolicy.objects.update_or_create(
        project=project, defaults={"rate": float(rate), "annotators": int(annotators), "updated_by": user}
    )
    payload = {"rate": policy.rate, "annotators": policy.annotators}
    transaction.on_commit(lambda: realtime.project_event_send(project.id, "overlap.changed", payload), robust=True)
    return policy
