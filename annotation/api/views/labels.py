"""Labels: create (idempotent with Idempotency-Key) and update (conditional on version) with provenance,
list with filters and cursor pages, and streamed exports."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation import exports, idempotency, selectors, services
from annotation.api.serializers import (
    LabelCreateIn,
    LabelExportIn,
    LabelFilterIn,
    LabelOut,
    LabelUpdateIn,
    LabelWriteOut,
)
from annotation.api.streaming import stream_export
from annotation.api.views.base import IDEMPOTENCY_HEADER, ScopedListView, validated
from annotation.models import Label
from annotation.services import Provenance


def _provenance(data: dict) -> Provenance:
    return Provenance(
        source=data["source"],
        query=data["query"],
        classifier_version_id=data["classifier_version"],
        score=data["score"],
        rank=data["rank"],
        page=data["page"] or "api",
    )


def _written(result) -> tuple[int, dict]:
    result.label.changed = result.changed
    created = result.event is not None and result.event.old_value == ""
    return (201 if created else 200), dict(LabelWriteOut(result.label).data)


@extend_schema(tags=["labels"])
class LabelList(ScopedListView):
    queryset = Label.objects.none()
    serializer_class = LabelOut

    def rows(self):
        filters = validated(LabelFilterIn, self.request.query_params)
        return selectors.label_filter(
            user=self.request.user,
            project_id=self.kwargs["project_id"],
            value=filters.get("value"),
            user_id=filters.get("user"),
            shot_id=filters.get("shot"),
            is_review=filters.get("is_review"),
            updated_since=filters.get("updated_since"),
        )

    @extend_schema(parameters=[LabelFilterIn])
    def get(self, request, *args, **kwargs):
        """The project's current labels (one per annotator and shot), in id order, cursor-paginated."""
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=LabelCreateIn,
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: LabelWriteOut, 200: LabelWriteOut},
    )
    def post(self, request, project_id: int):
        """Set the caller's label on a shot (201 when created, 200 when changed or unchanged)."""
        data = validated(LabelCreateIn, request.data)
        key = request.headers.get("Idempotency-Key")

        def perform() -> tuple[int, dict]:
            return _written(
                services.label_set(
                    user=request.user,
                    project_id=project_id,
                    shot_id=data["shot"],
                    value=data["value"],
                    provenance=_provenance(data),
                    expected_version=data["expected_version"],
                )
            )

        if key is None:
            code, body = perform()
            return Response(body, status=code)
        if not 0 < len(key) <= idempotency.KEY_MAX_LENGTH:
            raise serializers.ValidationError({"Idempotency-Key": "1…255 characters"})
        stored = idempotency.idempotent_run(
            user=request.user,
            key=key,
            fingerprint=idempotency.fingerprint(request.method, request.path, request.data),
            perform=perform,
        )
        return Response(
            stored.body, status=stored.status_code, headers={"Idempotent-Replayed": str(stored.replayed).lower()}
        )


@extend_schema(tags=["labels"])
class LabelDetail(APIView):
    @extend_schema(responses=LabelOut)
    def get(self, request, project_id: int, label_id: int):
        return Response(LabelOut(selectors.label_get(user=request.user, project_id=project_id, label_id=label_id)).data)

    @extend_schema(request=LabelUpdateIn, responses=LabelWriteOut)
    def patch(self, request, project_id: int, label_id: int):
        """Change your own label; `version` must be the one you read, else 409 with the current version."""
        data = validated(LabelUpdateIn, request.data)
        result = services.label_update(
            user=request.user,
            project_id=project_id,
            label_id=label_id,
            value=data["value"],
            expected_version=data["version"],
            provenance=_provenance(data),
        )
        return Response(_written(result)[1])


EXPORT_RESPONSES = {
    (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV with a header row"),
    (200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.STR, description="one JSON object per line"),
}


@extend_schema(tags=["labels"])
class LabelExport(APIView):
    throttle_scope = "export"

    @extend_schema(
        parameters=[LabelExportIn],
        responses={
            **EXPORT_RESPONSES,
            (200, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description='VA format: {"pos": [shot ids], "neg": [shot ids]} (consensus)'
            ),
        },
    )
    def get(self, request, project_id: int):
        """Stream every current label (csv, jsonl) or the consensus in Video Annotator's pos/neg JSON (va)."""
        query = validated(LabelExportIn, request.query_params)
        export = exports.labels_export(
            user=request.user, project_id=project_id, fmt=query["format"], value=query.get("value")
        )
        return stream_export(request, export, uses_database=True)
