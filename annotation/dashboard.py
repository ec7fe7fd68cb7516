"""Reads for managers: the progress / model quality / agreement dashboard and the audit activity.

Every selector authorizes (dashboards: managers and staff; activity: reviewers too) and returns plain
data plus `tables`: {name: Table} — what the page shows is exactly what the CSV export writes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from annotation import charts, overlap
from annotation.access import CAN_MANAGE, CAN_REVIEW, access_project
from annotation.agreement import annotator_pace
from annotation.models import (
    AgreementReport,
    ClassifierVersion,
    Label,
    LabelEvent,
    LabelSource,
    LabelValue,
    OverlapPolicy,
    Project,
)
from annotation.training import training_votes
from models_app import learning


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: list[tuple]

    @property
    def labels(self) -> list[str]:
        return [h.replace("_", " ") for h in self.header]


@dataclass(frozen=True)
class Progress:
    counts: dict  # current labels: positive / negative / unsure / shots; consensus positives / negatives
    tables: dict[str, Table]
    labels_per_day_svg: str


@dataclass(frozen=True)
class ModelQuality:
    latest: ClassifierVersion | None
    tables: dict[str, Table]
    quality_svg: str


@dataclass(frozen=True)
class Agreement:
    report: dict | None
    computed_at: dt.datetime | None
    policy: OverlapPolicy
    tables: dict[str, Table]


@dataclass(frozen=True)
class Dashboard:
    project: Project
    progress: Progress
    model: ModelQuality
    agreement: Agreement
    tables: dict[str, Table] = field(default_factory=dict)


PARTS = ("progress", "model", "agreement")
METRIC_NAMES = {"raw_agreement": "raw agreement", "krippendorff_alpha": "Krippendorff's alpha (nominal)"}


def dashboard_get(*, user, project_id: int, parts: tuple[str, ...] = PARTS) -> Dashboard:
    """The manager dashboard of a project, or only some of its parts (for live partial refreshes)."""
    project, _ = access_project(user, project_id, allowed=CAN_MANAGE)
    progress = _progress(project) if "progress" in parts else None
    model = _model_quality(project) if "model" in parts else None
    agreement = _agreement(project) if "agreement" in parts else None
    tables = {}
    for part in (progress, model, agreement):
        tables.update(part.tables if part else {})
    return Dashboard(project=project, progress=progress, model=model, agreement=agreement, tables=tables)


def _progress(project: Project) -> Progress:
    labels = Label.objects.filter(project=project)
    counts = labels.aggregate(
        positive=Count("id", filter=Q(value=LabelValue.POSITIVE)),
        negative=Count("id", filter=Q(value=LabelValue.NEGATIVE)),
        unsure=Count("id", filter=Q(value=LabelValue.UNSURE)),
        shots=Count("shot_id", distinct=True),
    )
    decided = learning.consensus(training_votes(project.id))
    counts["consensus_positive"] = sum(decided.values())
    counts["consensus_negative"] = len(decided) - counts["consensus_positive"]

    per_day = (
        LabelEvent.objects.filter(project=project)
        .annotate(day=TruncDate("created_at"))
        .values_list("day", "user__username")
        .annotate(n=Count("id"))
        .order_by("day", "user__username")
    )
    per_day = list(per_day)
    days = sorted({d for d, _, _ in per_day})
    names = sorted({u for _, u, _ in per_day})
    series = {name: [0] * len(days) for name in names}
    for day, name, n in per_day:
        series[name][days.index(day)] = n
    svg = charts.stacked_bars(
        "Label changes per day per annotator", [d.isoformat() for d in days], series, "label changes"
    )

    per_user = defaultdict(lambda: defaultdict(int))
    for name, value, n in labels.values_list("user__username", "value").annotate(n=Count("id")):
        per_user[name][value] = n
    events = LabelEvent.objects.filter(project=project).values_list("user__username", "created_at")
    pace = {p.annotator: p for p in annotator_pace((u, t.timestamp()) for u, t in events)}
    annotator_rows = []
    for name in sorted(set(per_user) | set(pace)):
        p = pace.get(name)
        values = per_user[name]
        annotator_rows.append(
            (
                name,
                sum(values.values()),
                values[LabelValue.POSITIVE],
                values[LabelValue.NEGATIVE],
                values[LabelValue.UNSURE],
                p.labels if p else 0,
                _round(p.labels_per_hour if p else None, 1),
                _round(p.median_seconds if p else None, 1),
            )
        )
    return Progress(
        counts=counts,
        labels_per_day_svg=svg,
        tables={
            "labels_per_day": Table(
                ("day", "annotator", "label_changes"), [(d.isoformat(), u, n) for d, u, n in per_day]
            ),
            "annotators": Table(
                (
                    "annotator",
                    "current_labels",
                    "positive",
                    "negative",
                    "unsure",
                    "label_changes",
                    "labels_per_hour",
                    "median_seconds_per_label",
                ),
                annotator_rows,
            ),
        },
    )


def _model_quality(project: Project) -> ModelQuality:
    versions = list(
        ClassifierVersion.objects.filter(project=project, status=ClassifierVersion.Status.READY)
        .only("number", "metrics", "created_at", "published")
        .order_by("number")
    )
    rows = []
    for v in versions:
        m = v.metrics
        positives, negatives = m.get("positives", m.get("n_pos")), m.get("negatives", m.get("n_neg"))
        labels = (positives or 0) + (negatives or 0)
        rows.append(
            (
                v.number,
                labels,
                positives,
                negatives,
                _round(m.get("cv_ap"), 4),
                _round(m.get("coverage"), 4),
                v.published,
                v.created_at.isoformat(timespec="seconds"),
            )
        )
    series = {
        "CV average precision": [(r[1], r[4]) for r in rows if r[4] is not None],
        "coverage": [(r[1], r[5]) for r in rows if r[5] is not None],
    }
    svg = charts.line_chart("Model quality against training labels", series, "training labels", "score", y_max=1.0)
    return ModelQuality(
        latest=versions[-1] if versions else None,
        quality_svg=svg,
        tables={
            "versions": Table(
                (
                    "version",
                    "training_labels",
                    "positives",
                    "negatives",
                    "cv_ap",
                    "coverage",
                    "published",
                    "created_at",
                ),
                rows,
            )
        },
    )


def _agreement(project: Project) -> Agreement:
    stored = AgreementReport.objects.filter(project=project).first()
    report = stored.report if stored else None
    project_rows, pair_rows = [], []
    if report:
        names = dict(
            get_user_model()
            .objects.filter(pk__in=[p[k] for p in report["pairs"] for k in ("a", "b")])
            .values_list("pk", "username")
        )
        for metric, e in report["project"].items():
            project_rows.append(
                (
                    METRIC_NAMES.get(metric, metric),
                    _round(e["value"], 4),
                    e["n_shots"],
                    _round(e["ci_low"], 4),
                    _round(e["ci_high"], 4),
                )
            )
        for p in report["pairs"]:
            raw, kappa = p["raw_agreement"], p["cohen_kappa"]
            pair_rows.append(
                (
                    names.get(p["a"], p["a"]),
                    names.get(p["b"], p["b"]),
                    raw["n_shots"],
                    _round(raw["value"], 4),
                    _round(raw["ci_low"], 4),
                    _round(raw["ci_high"], 4),
                    _round(kappa["value"], 4),
                    _round(kappa["ci_low"], 4),
                    _round(kappa["ci_high"], 4),
                )
            )
    return Agreement(
        report=report,
        computed_at=stored.computed_at if stored else None,
        policy=overlap.policy_of(project.id),
        tables={
            "agreement": Table(("metric", "value", "shots", "ci_low", "ci_high"), project_rows),
            "agreement_pairs": Table(
                (
                    "annotator_a",
                    "annotator_b",
                    "shared_shots",
                    "raw_agreement",
                    "raw_ci_low",
                    "raw_ci_high",
                    "cohen_kappa",
                    "kappa_ci_low",
                    "kappa_ci_high",
                ),
                pair_rows,
            ),
        },
    )


def _round(value, digits: int):
    return None if value is None else round(float(value), digits)


# -- activity (audit trail) --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityFilter:
    username: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None  # inclusive
    source: str = ""
    value: str = ""
    shot_id: int | None = None


ACTIVITY_HEADER = (
    "event",
    "time",
    "annotator",
    "shot",
    "old_value",
    "new_value",
    "source",
    "query",
    "version",
    "score",
    "rank",
    "page",
)


def activity_list(*, user, project_id: int, filters: ActivityFilter = ActivityFilter()) -> QuerySet[LabelEvent]:
    """The project's label events, newest first, filtered; reviewers and managers."""
    project, _ = access_project(user, project_id, allowed=CAN_REVIEW)
    events = LabelEvent.objects.filter(project=project).select_related("user", "classifier_version")
    if filters.username:
        events = events.filter(user__username=filters.username)
    tz = timezone.get_current_timezone()
    if filters.date_from:
        events = events.filter(created_at__gte=dt.datetime.combine(filters.date_from, dt.time.min, tzinfo=tz))
    if filters.date_to:
        end = dt.datetime.combine(filters.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        events = events.filter(created_at__lt=end)
    if filters.source:
        events = events.filter(source=filters.source)
    if filters.value:
        events = events.filter(new_value=filters.value)
    if filters.shot_id is not None:
        events = events.filter(shot_id=filters.shot_id)
    return events.order_by("-id")


def activity_row(event: LabelEvent) -> tuple:
    return (
        event.id,
        event.created_at.isoformat(timespec="seconds"),
        event.user.get_username(),
        event.shot_id,
        event.old_value,
        event.new_value,
        event.source,
        event.query,
        event.classifier_version.number if event.classifier_version else "",
        "" if event.score is None else event.score,
        "" if event.rank is None else event.rank,
        event.page,
    )


def activity_choices(*, user, project_id: int) -> dict:
    """Values for the activity filter form: the project's annotators, sources, label values."""
    project, _ = access_project(user, project_id, allowed=CAN_REVIEW)
    names = LabelEvent.objects.filter(project=project).values_list("user__username", flat=True).distinct()
    return {
        "project": project,
        "usernames": sorted(names),
        "sources": LabelSource.choices,
        "values": LabelValue.choices,
    }
