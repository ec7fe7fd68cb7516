from django.urls import include, path

from annotation import views

urlpatterns = [
    path("", views.project_list, name="project-list"),
    path("projects/<int:project_id>/", views.project_detail, name="project-detail"),
    path("projects/<int:project_id>/labels/", views.label_create, name="label-create"),
    path("projects/<int:project_id>/members/", views.project_members, name="project-members"),
    path("projects/<int:project_id>/shots/<int:shot_id>/history/", views.shot_history, name="shot-history"),
    path(
        "projects/<int:project_id>/versions/<int:version_id>/publish/",
        views.version_publish,
        name="version-publish",
    ),
    path("corpora/<int:corpus_id>/", views.corpus_detail, name="corpus-detail"),
    path("corpora/<int:corpus_id>/videos/", views.corpus_upload, name="corpus-upload"),
    path("corpora/<int:corpus_id>/progress/", views.corpus_progress, name="corpus-progress"),
    path("", include("annotation.manager_urls")),
]
