"""The disagreement review queue: shots whose labels need a reviewer's decision.

A shot is in the queue when
- its annotators disagree (their current labels are not all the same value), or
- its consensus label (models_app.learning.consensus) contradicts a confident score of the latest ready
  model (probability ≥ confidence for a negative consensus, ≤ 1 − confidence for a positive one),
and no reviewer has decided it since its latest annotator label. The decision is recorded with
`services.label_set(..., source=review, page="review-queue")`: it lands in the audit trail, and the
consensus rule lets it win.
"""

from __future__ import annotations

from dataclasses import dataclass

from annotation.access import CAN_REVIEW, access_project
from annotation.models import ClassifierVersion, Label, Project
from annotation.shot_scores import latest_version, version_probabilities
from models_app import learning
from models_app.models import Shot

DISAGREEMENT = "disagreement"
MODEL = "model"
REASONS = {DISAGREEMENT: "annotators disagree", MODEL: "model contradicts the consensus"}
DEFAULT_CONFIDENCE = 0.9
PAGE_SIZE = 25


@dataclass(frozen=True)
class QueueItem:
    shot: Shot
    reasons: tuple[str, ...]  # keys of REASONS
    votes: tuple[tuple[str, str], ...]  # (username, value) of each annotator, by name
    consensus: str | None  # "positive" / "negative" / None (tie, unsure only)
    model_score: float | None  # probability of positive under `version`

    @property
    def reason_texts(self) -> list[str]:
        return [REASONS[r] for r in self.reasons]


@dataclass(frozen=True)
class ReviewQueue:
    project: Project
    items: list[QueueItem]
    total: int
    counts: dict[str, int]  # per reason, over the whole queue
    version: ClassifierVersion | None
    confidence: float
    reason: str
    offset: int
    limit: int

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.limit if self.offset + self.limit < self.total else None


def review_queue(
    *,
    user,
    project_id: int,
    reason: str = "",
    confidence: float = DEFAULT_CONFIDENCE,
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> ReviewQueue:
    """The queue, newest labeled first; `reason` ("disagreement" or "model") keeps only those items."""
    project, _ = access_project(user, project_id, allowed=CAN_REVIEW)
    if reason and reason not in REASONS:
        raise ValueError(f"reason must be one of {', '.join(REASONS)}")
    if not 0.5 < confidence < 1.0:
        raise ValueError("confidence must be strictly between 0.5 and 1")
    rows = list(
        Label.objects.filter(project=project).values_list(
            "shot_id", "user_id", "user__username", "value", "is_review", "updated_at"
        )
    )
    votes: dict[int, dict[str, str]] = {}
    last_vote, last_review = {}, {}
    for shot_id, _uid, name, value, is_review, at in rows:
        if is_review:
            last_review[shot_id] = max(at, last_review.get(shot_id, at))
        else:
            votes.setdefault(shot_id, {})[name] = value
            last_vote[shot_id] = max(at, last_vote.get(shot_id, at))
    open_shots = [s for s in votes if s not in last_review or last_review[s] < last_vote[s]]
    decided = learning.consensus(r[:2] + r[3:] for r in rows)
    version = latest_version(project.id)
    scores = version_probabilities(version, open_shots) if version else {}

    found = []
    for shot_id in open_shots:
        why = []
        if len(set(votes[shot_id].values())) > 1:
            why.append(DISAGREEMENT)
        p = scores.get(shot_id)
        if p is not None and shot_id in decided and (p >= confidence if not decided[shot_id] else p <= 1 - confidence):
            why.append(MODEL)
        if why:
            found.append((last_vote[shot_id], shot_id, tuple(why)))
    counts = {key: sum(key in why for _, _, why in found) for key in REASONS}
    if reason:
        found = [f for f in found if reason in f[2]]
    found.sort(key=lambda f: (f[0], f[1]), reverse=True)
    page = found[offset : offset + limit]
    shots = Shot.objects.select_related("video").in_bulk([s for _, s, _ in page])
    items = [
        QueueItem(
            shot=shots[shot_id],
            reasons=why,
            votes=tuple(sorted(votes[shot_id].items())),
            consensus=None if shot_id not in decided else ("positive" if decided[shot_id] else "negative"),
            model_score=scores.get(shot_id),
        )
        for _, shot_id, why in page
    ]
    return ReviewQueue(
        project=project,
        items=items,
        total=len(found),
        counts=counts,
        version=version,
        confidence=confidence,
        reason=reason,
        offset=offset,
        limit=limit,
    )
