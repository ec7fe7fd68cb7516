"""Who may do what in a project. `access_project` authorizes and, optionally, locks in one call."""

from annotation.errors import NotFound, RoleRequired
from annotation.models import Membership, Project, Role
from models_app.models import Corpus

# What each role may do. Staff users act as managers of every project.
CAN_VIEW = {Role.VIEWER, Role.ANNOTATOR, Role.REVIEWER, Role.MANAGER}
CAN_LABEL = {Role.ANNOTATOR, Role.REVIEWER, Role.MANAGER}
CAN_REVIEW = {Role.REVIEWER, Role.MANAGER}
CAN_MANAGE = {Role.MANAGER}


def role_of(user, project_id: int) -> Role | None:
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_staff:
        return Role.MANAGER
    role = Membership.objects.filter(project_id=project_id, user=user).values_list("role", flat=True).first()
    return Role(role) if role else None


def access_project(user, project_id: int, *, allowed: set[Role] = CAN_VIEW, lock: bool = False) -> tuple[Project, Role]:
    """Return the project and the user's role, or raise.

    Non-members get NotFound (404), never a hint that the project exists; members whose role is
    not in `allowed` get RoleRequired (403). With lock=True the project row is locked FOR UPDATE.
    """
    role = role_of(user, project_id)
    if role is None:
        raise NotFound("project not found")
    queryset = Project.objects.select_related("corpus")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    project = queryset.filter(pk=project_id).first()
    if project is None:
        raise NotFound("project not found")
    if role not in allowed:
        raise RoleRequired(f"your role in this project ({role.value}) does not allow this")
    return project, role


def access_corpus(user, corpus_id: int, *, manage: bool = False) -> Corpus:
    """A corpus is visible to staff and to members of any project on it; managers of such a
    project (and staff) may add videos. Others get NotFound / RoleRequired like projects."""
    if not user.is_authenticated or not user.is_active:
        raise NotFound("corpus not found")
    corpus = Corpus.objects.filter(pk=corpus_id).first()
    if corpus is None:
        raise NotFound("corpus not found")
    if user.is_staff:
        return corpus
    roles = set(Membership.objects.filter(project__corpus=corpus, user=user).values_list("role", flat=True))
    if not roles:
        raise NotFound("corpus not found")
    if manage and Role.MANAGER not in roles:
        raise RoleRequired("only managers of a project on this corpus may add videos")
    return corpus
