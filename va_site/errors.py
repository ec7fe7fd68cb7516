"""Error pages. Under /api/ every error, also the ones raised outside DRF (a crash, an unknown URL, a bad
Host header), has the API's JSON shape; elsewhere Django's own pages."""

from django.http import JsonResponse
from django.views import defaults

from annotation.api.exceptions import error_body

API_PREFIX = "/api/"


def _json(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status)


def bad_request(request, exception):
    if request.path.startswith(API_PREFIX):
        return _json("bad_request", "the request could not be handled", 400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if request.path.startswith(API_PREFIX):
        return _json("permission_denied", "you may not do this", 403)
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    if request.path.startswith(API_PREFIX):
        return _json("not_found", "no such API endpoint", 404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith(API_PREFIX):
        return _json("server_error", "the server failed; the error was logged", 500)
    return defaults.server_error(request)
