"""Every read the views, API and consumers use, already scoped to what the user may see."""

import json
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KT

from annotation.access import CAN_VIEW, access_corpus, access_project, role_of
from annotation.errors import NotFound, RoleRequired
from annotation.models import ClassifierVersion, Label, LabelEvent, LabelSource, LabelValue, Membership, Project, Role
from annotation.shot_scores import latest_version, version_probabilities
from models_app import learning
from models_app.models import Corpus, Shot, Video


def project_list(*, user) -> QuerySet[Project]:
    """Projects the user is a member of (all projects for staff), with label progress."""
    if not user.is_authenticated:
        return Project.objects.none()
    projects = Project.objects.select_related("corpus")
    if not user.is_staff:
        projects = projects.filter(memberships__user=user)
    ready = ClassifierVersion.objects.filter(project=OuterRef("pk"), status=ClassifierVersion.Status.READY)
    return projects.annotate(
        label_count=Count("labels", distinct=True),
        positive_count=Count("labels", filter=Q(labels__value="positive"), distinct=True),
        labeled_shot_count=Count("labels__shot", distinct=True),
        model_number=Subquery(ready.values("number")[:1]),
        model_ap=Subquery(ready.values("metrics__cv_ap")[:1]),
    ).order_by("name")


@dataclass(frozen=True)
class ProjectView:
    project: Project
    role: Role
    label_count: int
    labeled_shot_count: int
    member_count: int

    @property
    def can_label(self) -> bool:
        return self.role in {Role.ANNOTATOR, Role.REVIEWER, Role.MANAGER}

    @property
    def can_manage(self) -> bool:
        return self.role == Role.MANAGER


@dataclass(frozen=True)
class ProjectRole:
    """A project and the user's role in it, without the counts (for pages and fragments that show none)."""

    project: Project
    role: Role

    can_label = ProjectView.can_label
    can_manage = ProjectView.can_manage


def project_role(*, user, project_id: int) -> ProjectRole:
    project, role = access_project(user, project_id, allowed=CAN_VIEW)
    return ProjectRole(project=project, role=role)


def project_get(*, user, project_id: int) -> ProjectView:
    project, role = access_project(user, project_id, allowed=CAN_VIEW)
    labels = Label.objects.filter(project=project)
    return ProjectView(
        project=project,
        role=role,
        label_count=labels.count(),
        labeled_shot_count=labels.values("shot_id").distinct().count(),
        member_count=Membership.objects.filter(project=project).count(),
    )


def user_can_view_project(*, user, project_id: int) -> bool:
    return role_of(user, project_id) is not None


def membership_list(*, user, project_id: int) -> QuerySet[Membership]:
    project, _ = access_project(user, project_id, allowed=CAN_VIEW)
    return Membership.objects.filter(project=project).select_related("user").order_by("role", "user__username")


def label_list(*, user, project_id: int) -> QuerySet[Label]:
    project, _ = access_project(user, project_id, allowed=CAN_VIEW)
    return Label.objects.filter(project=project).select_related("user", "shot__video").order_by("-updated_at")


def shot_label_history(*, user, project_id: int, shot_id: int) -> QuerySet[LabelEvent]:
    """The audit trail of one shot in one project, oldest first."""
    project, _ = access_project(user, project_id, allowed=CAN_VIEW)
    if not Shot.objects.filter(pk=shot_id, video__corpus_id=project.corpus_id).exists():
        raise NotFound("shot not found in this project's corpus")
    return LabelEvent.objects.filter(project=project, shot_id=shot_id).select_related("user").order_by("id")


def media_url(path: str) -> str:
    return settings.MEDIA_URL.rstrip("/") + "/" + path if path else ""


@dataclass(frozen=True)
class ShotCard:
    """One shot as a card: what it is, who labeled it how, what the model thinks, and where it was shown."""

    shot: Shot
    my_label: str  # "" when I have not labeled it
    others: dict  # {"positive": n, "negative": n, "unsure": n} over the other annotators
    consensus: str  # "positive" | "negative" | "" (no training label yet)
    model_score: float | None  # probability under the latest ready version
    provenance: dict  # posted back with a label: source, query, rank, score, classifier_version

    @property
    def thumbnail_url(self) -> str:
        return media_url(self.shot.thumbnail)

    @property
    def preview_url(self) -> str:
        return media_url(self.shot.preview)

    def _given(self) -> dict:
        return {k: v for k, v in self.provenance.items() if v not in (None, "")}

    @property
    def post_values(self) -> str:
        """JSON for hx-vals: what a label post sends besides the value."""
        return json.dumps({"shot": self.shot.id, **self._given()})

    @property
    def provenance_query(self) -> str:
        return urlencode(self._given())


def votes_by_shot(project_id: int, shot_ids) -> dict[int, list[tuple]]:
    votes: dict[int, list[tuple]] = {}
    rows = Label.objects.filter(project_id=project_id, shot_id__in=list(shot_ids)).values_list(
        "shot_id", "user_id", "value", "is_review", "updated_at", "user__username"
    )
    for row in rows:
        votes.setdefault(row[0], []).append(row)
    return votes


def consensus_values(votes: dict[int, list[tuple]]) -> dict[int, str]:
    decided = learning.consensus(row[:5] for rows in votes.values() for row in rows)
    return {sid: LabelValue.POSITIVE if positive else LabelValue.NEGATIVE for sid, positive in decided.items()}


def shot_cards(
    *,
    user,
    project_id: int,
    shot_ids: list[int],
    source: str,
    query: str = "",
    ranks: dict[int, int] | None = None,
    scores: dict[int, float] | None = None,
    version_id: int | None = None,
) -> list[ShotCard]:
    """Cards for shots of the project's corpus, in the given order (unknown ids are dropped)."""
    project, _ = access_project(user, project_id, allowed=CAN_VIEW)
    shots = Shot.objects.select_related("video").filter(pk__in=shot_ids, video__corpus_id=project.corpus_id)
    by_id = {shot.id: shot for shot in shots}
    votes = votes_by_shot(project.id, by_id)
    consensus_of = consensus_values(votes)
    version = latest_version(project.id)
    model = version_probabilities(version, by_id) if version else {}
    ranks, scores = ranks or {}, scores or {}
    cards = []
    for sid in shot_ids:
        if sid not in by_id:
            continue
        mine, others = "", {value: 0 for value in LabelValue.values}
        for _shot, voter, value, _review, _at, _name in votes.get(sid, ()):
            if voter == user.id:
                mine = value
            else:
                others[value] += 1
        provenance = {"source": source, "query": query, "rank": ranks.get(sid), "score": scores.get(sid)}
        provenance["classifier_version"] = version_id
        cards.append(ShotCard(by_id[sid], mine, others, consensus_of.get(sid, ""), model.get(sid), provenance))
    return cards


def shot_detail(
    *, user, project_id: int, shot_id: int, source: str = LabelSource.OTHER, **where_shown
) -> tuple[ShotCard, QuerySet[LabelEvent]]:
    """The panel's card, carrying where the shot was shown (`shot_cards`' provenance arguments), so labels
    made from the panel record the feed or query, rank, score and model version like the card's own."""
    history = shot_label_history(user=user, project_id=project_id, shot_id=shot_id)
    cards = shot_cards(user=user, project_id=project_id, shot_ids=[shot_id], source=source, **where_shown)
    return cards[0], history


@dataclass(frozen=True)
class ModelStatus:
    state: str  # "waiting" (needs both classes) | "training" | "ready" | "failed"
    number: int | None
    cv_ap: float | None
    label_count: int
    error: str = ""


def model_status(*, user, project_id: int) -> ModelStatus:
    """What the status chip says: is a retrain pending, and how good is the newest model."""
    project, _ = access_project(user, project_id, allowed=CAN_VIEW)
    labels = Label.objects.filter(project=project)
    label_count = labels.count()
    latest = (
        ClassifierVersion.objects.filter(project=project)
        .values("number", "status", "metrics", "error", last_event=KT("trained_on__last_event_id"))
        .first()
    )
    newest_event = LabelEvent.objects.filter(project=project).aggregate(newest=Max("id"))["newest"] or 0
    both_classes = (
        labels.filter(value=LabelValue.POSITIVE).exists() and labels.filter(value=LabelValue.NEGATIVE).exists()
    )
    if latest is None:
        return ModelStatus("training" if both_classes else "waiting", None, None, label_count)
    stale = int(latest["last_event"] or 0) < newest_event
    if stale and both_classes:
        state = "training"
    elif latest["status"] == ClassifierVersion.Status.FAILED:
        state = "failed"
    elif not both_classes and latest["status"] != ClassifierVersion.Status.READY:
        state = "waiting"
    else:
        state = "ready"
    ready = latest if latest["status"] == ClassifierVersion.Status.READY else None
    if ready is None:
        ready = (
            ClassifierVersion.objects.filter(project=project, status=ClassifierVersion.Status.READY)
            .values("number", "metrics")
            .first()
        )
    return ModelStatus(
        state=state,
        number=ready["number"] if ready else None,
        cv_ap=(ready["metrics"] or {}).get("cv_ap") if ready else None,
        label_count=label_count,
        error=latest["error"] if state == "failed" else "",
    )


@dataclass(frozen=True)
class CorpusView:
    corpus: Corpus
    can_upload: bool
    videos: list
    projects: list
    shot_count: int


def corpus_get(*, user, corpus_id: int) -> CorpusView:
    corpus = access_corpus(user, corpus_id)
    try:
        access_corpus(user, corpus_id, manage=True)
        can_upload = True
    except RoleRequired:
        can_upload = False
    projects = project_list(user=user).filter(corpus=corpus)
    videos = list(Video.objects.filter(corpus=corpus).annotate(shot_count=Count("shots")).order_by("-created_at"))
    return CorpusView(
        corpus=corpus,
        can_upload=can_upload,
        videos=videos,
        projects=list(projects),
        shot_count=sum(video.shot_count for video in videos),
    )


def user_can_view_corpus(*, user, corpus_id: int) -> bool:
    try:
        access_corpus(user, corpus_id)
    except NotFound:
        return False
    return True


def version_list(*, user, project_id: int, limit: int = 20) -> list[ClassifierVersion]:
    """The project's latest classifier versions, failed ones included (they say why)."""
    project, _ = access_project(user, project_id, allowed=CAN_VIEW)
    return list(ClassifierVersion.objects.filter(project=project).defer("weights", "feeds", "trained_on")[:limit])


# --- REST API reads (issue #6) -------------------------------------------------------------------


def corpus_list(*, user) -> QuerySet[Corpus]:
    """Corpora the user sees: staff all; others those with a project they are a member of."""
    if not user.is_authenticated or not user.is_active:
        return Corpus.objects.none()
    if user.is_staff:
        return Corpus.objects.all()
    return Corpus.objects.filter(id__in=Membership.objects.filter(user=user).values("project__corpus_id"))


def video_list(*, user, corpus_id: int) -> QuerySet[Video]:
    corpus = access_corpus(user, corpus_id)
    return Video.objects.filter(corpus=corpus)


def video_get(*, user, video_id: int) -> Video:
    video = Video.objects.filter(pk=video_id).only("corpus_id").first()
    if video is None or not user_can_view_corpus(user=user, corpus_id=video.corpus_id):
        raise NotFound("video not found")
    return Video.objects.get(pk=video_id)


def shot_list(*, user, video_id: int) -> QuerySet[Shot]:
    video = video_get(user=user, video_id=video_id)
    return Shot.objects.filter(video=video)


def shot_get(*, user, shot_id: int) -> Shot:
    shot = Shot.objects.select_related("video").filter(pk=shot_id).first()
    if shot is None or not user_can_view_corpus(user=user, corpus_id=shot.video.corpus_id):
        raise NotFound("shot not found")
    return shot


def label_get(*, user, project_id: int, label_id: int) -> Label:
    project, _ = access_project(user, project_id, allowed=CAN_VIEW)
    label = Label.objects.select_related("user").filter(pk=label_id, project=project).first()
    if label is None:
        raise NotFound("label not found")
    return label


def label_filter(
    *,
    user,
    project_id: int,
    value: str | None = None,
    user_id: int | None = None,
    shot_id: int | None = None,
    is_review: bool | None = None,
    updated_since=None,
) -> QuerySet[Label]:
    """The project's current labels, filtered (every filter optional)."""
    labels = label_list(user=user, project_id=project_id).select_related(None).select_related("user")
    if value:
        labels = labels.filter(value=value)
    if user_id is not None:
        labels = labels.filter(user_id=user_id)
    if shot_id is not None:
        labels = labels.filter(shot_id=shot_id)
    if is_review is not None:
        labels = labels.filter(is_review=is_review)
    if updated_since is not None:
        labels = labels.filter(updated_at__gte=updated_since)
    return labels


def version_get(*, user, project_id: int, version_id: int) -> ClassifierVersion:
    project, _ = access_project(user, project_id, allowed=CAN_VIEW)
    version = ClassifierVersion.objects.filter(pk=version_id, project=project).defer("weights", "feeds").first()
    if version is None:
        raise NotFound("version not found")
    return version


def version_queryset(*, user, project_id: int) -> QuerySet[ClassifierVersion]:
    project, _ = access_project(user, project_id, allowed=CAN_VIEW)
    return ClassifierVersion.objects.filter(project=project).defer("weights", "feeds")
