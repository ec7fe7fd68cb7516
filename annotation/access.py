"""Who may do what in a project. `access_project` authorizes and, optionally, locks in one call."""

import functools

from annotation import rows
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
    if not user.is_authenticated or not user.is_active or not rows.fits_bigint(project_id):
        raise NotFound("project not found")
    found = _project_with_membership(project_id, user.pk, lock=lock)
    if found is None:
        raise NotFound("project not found")
    project, corpus, member_role = found
    project.corpus = corpus
    role = Role.MANAGER if user.is_staff else Role(member_role) if member_role else None
    if role is None:
        raise NotFound("project not found")
    if role not in allowed:
        raise RoleRequired(f"your role in this project ({role.value}) does not allow this")
    return project, role


@functools.cache
def _project_lookup(lock: bool) -> tuple[str, rows.Columns, rows.Columns]:
    project, corpus = rows.Columns(Project, "p"), rows.Columns(Corpus, "c")
    sql = (
        f"SELECT {project.select}, {corpus.select}, m.role FROM {Project._meta.db_table} p"
        f" JOIN {Corpus._meta.db_table} c ON c.id = p.corpus_id"
        f" LEFT JOIN {Membership._meta.db_table} m ON m.project_id = p.id AND m.user_id = %s"
        " WHERE p.id = %s" + (" FOR UPDATE OF p" if lock else "")
    )
    return sql, project, corpus


def _project_with_membership(project_id: int, user_id: int, *, lock: bool) -> tuple[Project, Corpus, str] | None:
    """(project, its corpus, the user's membership role or None) in one query: this runs on every request."""
    sql, project_columns, corpus_columns = _project_lookup(lock)
    return rows.fetch_one(sql, [user_id, project_id], project_columns, corpus_columns)


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
