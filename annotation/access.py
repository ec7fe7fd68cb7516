"""Who may do what in a project. `access_project` authorizes and, optionally, locks in one call."""

from annotation.errors import NotFound, RoleRequired
from annotation.models import Membership, Project, Role

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
