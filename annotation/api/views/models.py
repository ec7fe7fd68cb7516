"""Classifier versions (list, metrics, publish), search, and the published version's scores."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation import exports, published, scores, selectors, services
from annotation.api.serializers import (
    AboveIn,
    ScoreExportIn,
    ScoresOut,
    SearchIn,
    SearchOut,
    ShotScoreOut,
    TopKIn,
    VersionDetailOut,
    VersionOut,
)
from annotation.api.streaming import stream_export
from annotation.api.views.base import ScopedListView, validated
from annotation.api.views.labels import EXPORT_RESPONSES
from annotation.models import ClassifierVersion


@extend_schema(tags=["models"])
class VersionList(ScopedListView):
    queryset = ClassifierVersion.objects.none()
    serializer_class = VersionOut

    def rows(self):
        return selectors.version_queryset(user=self.request.user, project_id=self.kwargs["project_id"])


@extend_schema(tags=["models"])
class VersionDetail(APIView):
    @extend_schema(responses=VersionDetailOut)
    def get(self, request, project_id: int, version_id: int):
        """One version with its metrics (cross-validated AP, label counts, coverage) and training data."""
        version = selectors.version_get(user=request.user, project_id=project_id, version_id=version_id)
        return Response(VersionDetailOut(version).data)


@extend_schema(tags=["models"])
class VersionPublish(APIView):
    @extend_schema(request=None, responses=VersionOut)
    def post(self, request, project_id: int, version_id: int):
        """Publish a ready version (managers); webhooks of the project are called after commit."""
        version = services.version_publish(user=request.user, project_id=project_id, version_id=version_id)
        return Response(VersionOut(version).data)


@extend_schema(tags=["search"])
class Search(APIView):
    throttle_scope = "search"

    @extend_schema(parameters=[SearchIn], responses=SearchOut)
    def get(self, request, project_id: int):
        """Zero-shot text search (`text`) or more-like-this (`similar_to` a shot id) over the project's corpus."""
        query = validated(SearchIn, request.query_params)
        hits = scores.project_search(
            user=request.user,
            project_id=project_id,
            text=query.get("text", ""),
            similar_to=query.get("similar_to"),
            offset=query["offset"],
            limit=query["limit"],
            exclude_labeled=query["exclude_labeled"],
        )
        return Response(SearchOut({"results": hits}).data)


@extend_schema(tags=["scores"])
class ScoresTop(APIView):
    @extend_schema(parameters=[TopKIn], responses=ScoresOut)
    def get(self, request, project_id: int):
        """The k highest-scoring shots under the published version, best first."""
        query = validated(TopKIn, request.query_params)
        return Response(ScoresOut(published.top_k(user=request.user, project_id=project_id, k=query["k"])).data)


@extend_schema(tags=["scores"])
class ScoresAbove(APIView):
    @extend_schema(parameters=[AboveIn], responses=ScoresOut)
    def get(self, request, project_id: int):
        """Shots whose probability is ≥ threshold, best first (`count` all of them, `results` the first `limit`)."""
        query = validated(AboveIn, request.query_params)
        page = published.above(user=request.user, project_id=project_id, **query)
        return Response(ScoresOut(page).data)


@extend_schema(tags=["scores"])
class ScoreOfShot(APIView):
    @extend_schema(responses=ShotScoreOut)
    def get(self, request, project_id: int, shot_id: int):
        version, score = published.one(user=request.user, project_id=project_id, shot_id=shot_id)
        return Response(ShotScoreOut({"version": version, "shot_id": shot_id, "score": score}).data)


@extend_schema(tags=["scores"])
class ScoresExport(APIView):
    throttle_scope = "export"

    @extend_schema(parameters=[ScoreExportIn], responses=EXPORT_RESPONSES)
    def get(self, request, project_id: int):
        """Every shot of the catalog with its probability under the published version, streamed in shot-id
        order (constant memory). Headers: X-Classifier-Version, X-Row-Count."""
        query = validated(ScoreExportIn, request.query_params)
        export = exports.published_scores_export(user=request.user, project_id=project_id, fmt=query["format"])
        return stream_export(request, export, uses_database=False)
