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
