"""Mounted at /api/v1/ (va_site/urls.py)."""

from django.urls import path, re_path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from annotation.api.views import access, catalog, labels, models, projects
from annotation.api.views.base import IdConverter, not_found

register_converter(IdConverter, "id")
P = "projects/<id:project_id>/"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    # catalog
    path("corpora/", catalog.CorpusList.as_view(), name="api-corpus-list"),
    path("corpora/<id:corpus_id>/", catalog.CorpusDetail.as_view(), name="api-corpus"),
    path("corpora/<id:corpus_id>/videos/", catalog.VideoList.as_view(), name="api-video-list"),
    path("videos/<id:video_id>/", catalog.VideoDetail.as_view(), name="api-video"),
    path("videos/<id:video_id>/shots/", catalog.ShotList.as_view(), name="api-shot-list"),
    path("shots/<id:shot_id>/", catalog.ShotDetail.as_view(), name="api-shot"),
    # projects and members
    path("projects/", projects.ProjectList.as_view(), name="api-project-list"),
    path(P, projects.ProjectDetail.as_view(), name="api-project"),
    path(P + "members/", projects.MemberList.as_view(), name="api-member-list"),
    path(P + "members/<id:user_id>/", projects.MemberDetail.as_view(), name="api-member"),
    # search, labels
    path(P + "search/", models.Search.as_view(), name="api-search"),
    path(P + "labels/", labels.LabelList.as_view(), name="api-label-list"),
    path(P + "labels/export/", labels.LabelExport.as_view(), name="api-label-export"),
    path(P + "labels/<id:label_id>/", labels.LabelDetail.as_view(), name="api-label"),
    # classifier versions and the published version's scores
    path(P + "versions/", models.VersionList.as_view(), name="api-version-list"),
    path(P + "versions/<id:version_id>/", models.VersionDetail.as_view(), name="api-version"),
    path(P + "versions/<id:version_id>/publish/", models.VersionPublish.as_view(), name="api-version-publish"),
    path(P + "scores/top/", models.ScoresTop.as_view(), name="api-scores-top"),
    path(P + "scores/above/", models.ScoresAbove.as_view(), name="api-scores-above"),
    path(P + "scores/export/", models.ScoresExport.as_view(), name="api-scores-export"),
    path(P + "scores/shots/<id:shot_id>/", models.ScoreOfShot.as_view(), name="api-score"),
    # tokens and webhooks
    path("tokens/", access.TokenList.as_view(), name="api-token-list"),
    path("tokens/<id:token_id>/", access.TokenDetail.as_view(), name="api-token"),
    path(P + "service-accounts/", access.ServiceAccountList.as_view(), name="api-service-account-list"),
    path(P + "service-accounts/<id:token_id>/", access.ServiceAccountDetail.as_view(), name="api-service-account"),
    path(P + "webhooks/", access.WebhookList.as_view(), name="api-webhook-list"),
    path(P + "webhooks/<id:webhook_id>/", access.WebhookDetail.as_view(), name="api-webhook"),
    path(P + "webhooks/<id:webhook_id>/deliveries/", access.DeliveryList.as_view(), name="api-delivery-list"),
    re_path(r"", not_found),  # anything else under /api/v1/: a 404 in the API's error shape
]
