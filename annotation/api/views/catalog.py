"""Corpora, videos and shots (read); managers of a project on a corpus upload videos (ingest jobs)."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation import selectors, services
from annotation.api.serializers import CorpusOut, ShotOut, VideoOut, VideoUploadIn
from annotation.api.views.base import ScopedListView, validated
from models_app.models import Corpus, Shot, Video


@extend_schema(tags=["catalog"])
class CorpusList(ScopedListView):
    queryset = Corpus.objects.none()
    serializer_class = CorpusOut

    def rows(self):
        return selectors.corpus_list(user=self.request.user)


@extend_schema(tags=["catalog"])
class CorpusDetail(APIView):
    @extend_schema(responses=CorpusOut)
    def get(self, request, corpus_id: int):
        return Response(CorpusOut(selectors.corpus_get(user=request.user, corpus_id=corpus_id).corpus).data)


@extend_schema(tags=["catalog"])
class VideoList(ScopedListView):
    queryset = Video.objects.none()
    serializer_class = VideoOut
    parser_classes = [MultiPartParser]

    def rows(self):
        return selectors.video_list(user=self.request.user, corpus_id=self.kwargs["corpus_id"])

    @extend_schema(request={"multipart/form-data": VideoUploadIn}, responses={201: VideoOut})
    def post(self, request, corpus_id: int):
        """Upload a video and queue its ingestion (managers of a project on this corpus)."""
        data = validated(VideoUploadIn, request.data)
        video = services.video_upload(user=request.user, corpus_id=corpus_id, uploaded=data["file"])
        return Response(VideoOut(video).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["catalog"])
class VideoDetail(APIView):
    @extend_schema(responses=VideoOut)
    def get(self, request, video_id: int):
        return Response(VideoOut(selectors.video_get(user=request.user, video_id=video_id)).data)


@extend_schema(tags=["catalog"])
class ShotList(ScopedListView):
    queryset = Shot.objects.none()
    serializer_class = ShotOut

    def rows(self):
        return selectors.shot_list(user=self.request.user, video_id=self.kwargs["video_id"])


@extend_schema(tags=["catalog"])
class ShotDetail(APIView):
    @extend_schema(responses=ShotOut)
    def get(self, request, shot_id: int):
        return Response(ShotOut(selectors.shot_get(user=request.user, shot_id=shot_id)).data)
