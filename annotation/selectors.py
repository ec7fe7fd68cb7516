"""Every read the views, API and consumers use, already scoped to what the user may see."""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from annotation.access import CAN_VIEW, access_corpus, access_project, role_of
from annotation.errors import NotFound, RoleRequired
from annotation.models import ClassifierVersion, Label, LabelEvent, Membership, Project, Role
from models_app.models import Corpus, Shot, Video


def project_list(*, user) -> QuerySet[Project]:
    """Projects the user is a member of (all projects for staff), with label progress."""
    if not user.is_authenticated:
        return Project.objects.none()
    projects = Project.objects.select_related("corpus")
    if not user.is_staff:
        projects = projects.filter(memberships__user=user)
    return projects.annotate(
        label_count=Count("labels", distinct=True),
        positive_count=Count("labels", filter=Q(labels__value="positive"), distinct=True),
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
    return CorpusView(
        corpus=corpus,
        can_upload=can_upload,
        videos=list(Video.objects.filter(corpus=corpus).annotate(shot_count=Count("shots")).order_by("-created_at")),
        projects=list(projects),
        shot_count=Shot.objects.filter(video__corpus=corpus).count(),
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
