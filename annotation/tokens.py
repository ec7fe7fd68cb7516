"""API tokens: personal tokens and project service accounts (writes), and looking a token up (auth).

A token reads `va_<prefix>_<secret>`. Only sha256(token) is stored; the prefix (unique, public) finds the
row and the hash is compared in constant time. The whole token is returned once, at creation.

Service accounts: a manager creates a token for a project; it belongs to a new service user (no password,
cannot log in to the web pages) who is a member of that project only, with the role the manager picked
(viewer, annotator or reviewer). Everything the token does is therefore checked by the same
`access_project` rules as a person's request, and labels it writes are attributed to the service user.
Revoking the token deactivates that user.
"""

import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from annotation import rows
from annotation.access import CAN_MANAGE, access_project
from annotation.errors import NotFound, RoleRequired
from annotation.models import ApiToken, Membership, Role

TOKEN_PREFIX = "va_"  # noqa: S105 — the public marker of our tokens, not a secret
_PREFIX_SHAPE = re.compile(r"[0-9a-f]{1,16}")  # issued prefixes are 12 hex digits
LAST_USED_RESOLUTION = timedelta(minutes=5)  # last_used_at is refreshed at most this often (one write)
SERVICE_ROLES = {Role.VIEWER, Role.ANNOTATOR, Role.REVIEWER}
SERVICE_ROLE_CHOICES = [(r.value, r.label) for r in (Role.VIEWER, Role.ANNOTATOR, Role.REVIEWER)]


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # the whole token string; never stored, shown once


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _issue(*, user, created_by, name: str, kind: str, scope: str, project=None) -> IssuedToken:
    if scope not in ApiToken.Scope.values:
        raise ValidationError({"scope": f"{scope!r} is not one of {', '.join(ApiToken.Scope.values)}"})
    name = name.strip()
    if not name:
        raise ValidationError({"name": "a token needs a name"})
    prefix = secrets.token_hex(6)
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        kind=kind,
        project=project,
        name=name[:100],
        scope=scope,
        prefix=prefix,
        key_hash=token_hash(raw),
        created_by=created_by,
    )
    return IssuedToken(token=token, secret=raw)


@transaction.atomic
def token_create(*, user, name: str, scope: str = ApiToken.Scope.WRITE) -> IssuedToken:
    """A personal token: acts as `user` wherever they are a member. Service accounts get theirs from a manager."""
    if ApiToken.objects.filter(user=user, kind=ApiToken.Kind.SERVICE).exists():
        raise RoleRequired("service accounts cannot create tokens")
    return _issue(user=user, created_by=user, name=name, kind=ApiToken.Kind.PERSONAL, scope=scope)


@transaction.atomic
def token_revoke(*, user, token_id: int) -> ApiToken:
    """Revoke one of the user's own personal tokens."""
    token = ApiToken.objects.select_for_update().filter(pk=token_id, user=user, kind=ApiToken.Kind.PERSONAL).first()
    if token is None:
        raise NotFound("token not found")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


@transaction.atomic
def service_token_create(
    *, actor, project_id: int, name: str, role: str = Role.VIEWER, scope: str = ApiToken.Scope.READ
) -> IssuedToken:
    """Managers create a service account (a project-scoped user) and its token."""
    project, _ = access_project(actor, project_id, allowed=CAN_MANAGE, lock=True)
    if role not in {r.value for r in SERVICE_ROLES}:
        raise ValidationError({"role": f"a service account's role is one of {', '.join(sorted(SERVICE_ROLES))}"})
    base = slugify(name)[:40] or "service"
    service_user = get_user_model().objects.create_user(
        username=f"svc-{project.id}-{base}-{secrets.token_hex(3)}", password=None
    )
    Membership.objects.create(project=project, user=service_user, role=role)
    return _issue(
        user=service_user, created_by=actor, name=name, kind=ApiToken.Kind.SERVICE, scope=scope, project=project
    )


@transaction.atomic
def service_token_revoke(*, actor, project_id: int, token_id: int) -> ApiToken:
    project, _ = access_project(actor, project_id, allowed=CAN_MANAGE, lock=True)
    token = (
        ApiToken.objects.select_for_update()
        .select_related("user")
        .filter(pk=token_id, project=project, kind=ApiToken.Kind.SERVICE)
        .first()
    )
    if token is None:
        raise NotFound("token not found")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        get_user_model().objects.filter(pk=token.user_id).update(is_active=False)
    return token


def token_authenticate(raw: str) -> ApiToken | None:
    """The live token for a presented string (with its user loaded), or None. Used by the API's auth."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    prefix, _, secret = raw[len(TOKEN_PREFIX) :].partition("_")
    if not _PREFIX_SHAPE.fullmatch(prefix) or not secret:  # never send arbitrary text (NUL…) to the database
        return None
    token = _live_token_with_user(prefix)
    if token is None or not hmac.compare_digest(token.key_hash, token_hash(raw)) or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


@functools.cache
def _token_lookup() -> tuple[str, rows.Columns, rows.Columns]:
    token, user = rows.Columns(ApiToken, "t"), rows.Columns(get_user_model(), "u")
    sql = (
        f"SELECT {token.select}, {user.select} FROM {ApiToken._meta.db_table} t"
        f" JOIN {user.model._meta.db_table} u ON u.id = t.user_id WHERE t.prefix = %s AND t.revoked_at IS NULL"
    )
    return sql, token, user


def _live_token_with_user(prefix: str) -> ApiToken | None:
    """The unrevoked token with this prefix and its user, in one query (runs on every API request)."""
    sql, token_columns, user_columns = _token_lookup()
    found = rows.fetch_one(sql, [prefix], token_columns, user_columns)
    if found is None:
        return None
    token, user = found
    token.user = user
    return token


def token_list(*, user):
    """The user's own personal tokens (never the secrets)."""
    return ApiToken.objects.filter(user=user, kind=ApiToken.Kind.PERSONAL).order_by("id")


def service_token_list(*, user, project_id: int):
    project, _ = access_project(user, project_id, allowed=CAN_MANAGE)
    return ApiToken.objects.filter(project=project, kind=ApiToken.Kind.SERVICE).select_related("user").order_by("id")
