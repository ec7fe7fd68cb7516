from rest_framework.permissions import SAFE_METHODS, BasePermission

from annotation.models import ApiToken


class TokenScope(BasePermission):
    """A read-scoped token may only read (object-level checks stay in the services and selectors)."""

    message = "this token is read-only"

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if isinstance(token, ApiToken) and token.scope == ApiToken.Scope.READ:
            return request.method in SAFE_METHODS
        return True
