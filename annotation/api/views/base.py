from django.http import JsonResponse
from drf_spectacular.utils import OpenApiParameter
from rest_framework import generics

from annotation.api.pagination import IdCursorPagination


def validated(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ScopedListView(generics.ListAPIView):
    """A paginated list whose rows come from a selector already scoped to the user (`rows`).

    Subclasses set `queryset = Model.objects.none()` only so the schema knows the model."""

    pagination_class = IdCursorPagination

    def rows(self):
        raise NotImplementedError

    def get_queryset(self):
        return self.rows()


IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Retries with the same key (and body) replay the first response instead of writing again.",
)


class IdConverter:
    """Positive database ids (bigint range): anything else is a 404, never a database error."""

    regex = "[1-9][0-9]{0,17}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))


def not_found(request, *args, **kwargs):
    return JsonResponse({"error": {"code": "not_found", "message": "no such endpoint", "details": {}}}, status=404)
