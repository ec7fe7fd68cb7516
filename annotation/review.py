"""Reads of the Review tab: every labeled shot of a project, filtered, with votes, consensus and model score.

Filters narrow the set of shots; a shot matches when any of its labels (or audit events, for the source
filter) matches. The consensus and model-disagreement filters need every candidate's votes and vector,
which is cheap at the scale of a project's labels (thousands), not the corpus.
"""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, fields

from django.core.exceptions import ValidationError
from django.db.models import Count, Max

from annotation.access import CAN_VIEW, access_project
from annotation.models import ClassifierVersion, Label, LabelEvent, LabelSource, LabelValue
from annotation.selectors import consensus_values, votes_by_shot
from annotation.shot_scores import latest_version, version_probabilities
from models_app.models import Shot

PER_PAGE = 50


@dataclass(frozen=True)
class ReviewFilters:
    value: str = ""
    annotator: int | None = None
    source: str = ""
    query: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    disagree: bool = False  # annotators disagree (positive vs negative)
    model_disagrees: bool = False  # consensus differs from the latest model's call

    @classmethod
    def from_query(cls, params) -> "ReviewFilters":
        """Parse GET parameters; bad values raise ValidationError naming the field."""

        def date(name):
            raw = params.get(name, "")
            try:
                return dt.date.fromisoformat(raw) if raw else None
            except ValueError as exc:
                raise ValidationError({name: f"{raw!r} is not a date (YYYY-MM-DD)"}) from exc

        value, source = params.get("value", ""), params.get("source", "")
        if value and value not in LabelValue.values:
            raise ValidationError({"value": f"{value!r} is not a label value"})
        if source and source not in LabelSource.values:
            raise ValidationError({"source": f"{source!r} is not a label source"})
        annotator = params.get("annotator", "")
        if annotator and not annotator.isdigit():
            raise ValidationError({"annotator": f"{annotator!r} is not a user id"})
        return cls(
            value=value,
            annotator=int(annotator) if annotator else None,
            source=source,
            query=params.get("query", "").strip()[:200],
            since=date("since"),
            until=date("until"),
            disagree=params.get("disagree") in ("1", "on", "true"),
            model_disagrees=params.get("model_disagrees") in ("1", "on", "true"),
        )

    def as_query(self) -> dict:
        pairs = {f.name: getattr(self, f.name) for f in fields(self)}
        return {k: ("1" if v is True else str(v)) for k, v in pairs.items() if v not in (None, "", False)}


@dataclass(frozen=True)
class ReviewRow:
    shot: Shot
    votes: list  # (username, value, is_review, updated_at) per annotator, by username
    consensus: str
    model_score: float | None
    updated_at: dt.datetime


@dataclass(frozen=True)
class ReviewPage:
    rows: list[ReviewRow]
    total: int
    page: int
    pages: int
    version: ClassifierVersion | None


def _filtered_shot_ids(project_id: int, filters: ReviewFilters, version) -> list[int]:
    """Matching shots, most recently labeled first."""
    labels = Label.objects.filter(project_id=project_id)
    if filters.value:
        labels = labels.filter(value=filters.value)
    if filters.annotator:
        labels = labels.filter(user_id=filters.annotator)
    if filters.since:
        labels = labels.filter(updated_at__date__gte=filters.since)
    if filters.until:
        labels = labels.filter(updated_at__date__lte=filters.until)
    if filters.source or filters.query:
        events = LabelEvent.objects.filter(project_id=project_id)
        if filters.source:
            events = events.filter(source=filters.source)
        if filters.query:
            events = events.filter(query__icontains=filters.query)
        labels = labels.filter(shot_id__in=events.values("shot_id"))
    if filters.disagree:
        split = (
            Label.objects.filter(project_id=project_id, value__in=[LabelValue.POSITIVE, LabelValue.NEGATIVE])
            .values("shot_id")
            .annotate(kinds=Count("value", distinct=True))
            .filter(kinds__gt=1)
        )
        labels = labels.filter(shot_id__in=split.values("shot_id"))
    ordered = labels.values("shot_id").annotate(last=Max("updated_at")).order_by("-last", "-shot_id")
    shot_ids = [row["shot_id"] for row in ordered]
    if filters.model_disagrees:
        if version is None:
            return []
        consensus_of = consensus_values(votes_by_shot(project_id, shot_ids))
        scores = version_probabilities(version, list(consensus_of))
        shot_ids = [
            s
            for s in shot_ids
            if s in consensus_of and s in scores and (scores[s] >= 0.5) != (consensus_of[s] == LabelValue.POSITIVE)
        ]
    return shot_ids


def _rows(project_id: int, shot_ids: list[int], version) -> list[ReviewRow]:
    shots = Shot.objects.select_related("video").in_bulk(shot_ids)
    votes = votes_by_shot(project_id, shot_ids)
    consensus_of = consensus_values(votes)
    scores = version_probabilities(version, shot_ids) if version else {}
    rows = []
    for sid in shot_ids:
        shot_votes = sorted(votes.get(sid, ()), key=lambda v: v[5])
        rows.append(
            ReviewRow(
                shot=shots[sid],
                votes=[(name, value, review, at) for _s, _u, value, review, at, name in shot_votes],
                consensus=consensus_of.get(sid, ""),
                model_score=scores.get(sid),
                updated_at=max(v[4] for v in shot_votes),
            )
        )
    return rows


def review_page(*, user, project_id: int, filters: ReviewFilters, page: int = 1) -> ReviewPage:
    project, _ = access_project(user, project_id, allowed=CAN_VIEW)
    version = latest_version(project.id)
    shot_ids = _filtered_shot_ids(project.id, filters, version)
    pages = max(1, -(-len(shot_ids) // PER_PAGE))
    page = min(max(1, page), pages)
    chunk = shot_ids[(page - 1) * PER_PAGE : page * PER_PAGE]
    return ReviewPage(_rows(project.id, chunk, version), len(shot_ids), page, pages, version)


EXPORT_HEADER = ["shot_id", "video", "start_s", "end_s", "annotator", "value", "is_review", "updated_at"]
EXPORT_HEADER += ["consensus", "model_score", "model_version"]


def review_export(*, user, project_id: int, filters: ReviewFilters, chunk: int = 500) -> Iterator[list]:
    """One row per (shot, annotator) label of the filtered shots, header first; read in chunks.

    Access is checked now, not when the stream is first read, so a refusal is a clean 404/403.
    """
    project, _ = access_project(user, project_id, allowed=CAN_VIEW)
    version = latest_version(project.id)
    shot_ids = _filtered_shot_ids(project.id, filters, version)
    return _export_rows(project.id, shot_ids, version, chunk)


def _export_rows(project_id: int, shot_ids: list[int], version, chunk: int) -> Iterator[list]:
    yield EXPORT_HEADER
    for start in range(0, len(shot_ids), chunk):
        for row in _rows(project_id, shot_ids[start : start + chunk], version):
            for username, value, is_review, updated_at in row.votes:
                yield [
                    row.shot.id,
                    row.shot.video.title or row.shot.video.source,
                    f"{row.shot.start_s:.3f}",
                    f"{row.shot.end_s:.3f}",
                    username,
                    value,
                    int(is_review),
                    updated_at.isoformat(),
                    row.consensus,
                    "" if row.model_score is None else f"{row.model_score:.6f}",
                    version.number if version else "",
                ]
