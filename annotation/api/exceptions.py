"""Every API error has one shape: {"error": {"code", "message", "details"}}."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from annotation.errors import StaleVersion
from annotation.idempotency import IdempotencyKeyReused


def error_body(code: str, message: str, details=None) -> dict:
    return {"error": {"code": code, "message": message, "details": details if details is not None else {}}}


def api_exception_handler(exc, context):
    if isinstance(exc, StaleVersion):
        body = error_body("stale_version", str(exc), {"current_version": exc.current_version})
        return Response(body, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, IdempotencyKeyReused):
        return Response(error_body("idempotency_key_reused", str(exc)), status=422)
    if isinstance(exc, IntegrityError):
        return Response(error_body("conflict", "the change conflicts with existing data"), status=409)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    elif isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail)
    response = exception_handler(exc, context)
    if response is None:
        return None  # a real server error: Django's 500 handling and logging
    if isinstance(exc, exceptions.ValidationError):
        body = error_body("invalid", "the request is not valid", exc.detail)
    elif isinstance(exc, exceptions.Throttled):
        body = error_body("throttled", str(exc.detail), {"wait_seconds": exc.wait})
    else:
        code = exc.get_codes()
        body = error_body(code if isinstance(code, str) else exc.default_code, str(exc.detail))
    response.data = body
    return response
