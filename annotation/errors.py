"""Domain errors raised by services and selectors. They subclass Django's so every layer
(views, DRF, consumers) maps them to the right status without translation code."""

from django.core.exceptions import PermissionDenied
from django.http import Http404


class NotFound(Http404):
    """The object does not exist, or the user is not allowed to know that it does."""


class RoleRequired(PermissionDenied):
    """The user is a member but their role does not allow this action."""


class StaleVersion(Exception):
    """The caller edited a label from an older version than the current one (HTTP 409)."""

    def __init__(self, current_version: int):
        super().__init__(f"label was changed meanwhile (current version {current_version})")
        self.current_version = current_version
