from django.urls import include, path

from annotation import views

urlpatterns = [
    path("", views.project_list, name="project-list"),
    path("projects/<int:project_id>/", views.project_detail, name="project-detail"),
    path("projects/<int:project_id>/search/", views.project_search, name="project-search"),
    path("projects/<int:project_id>/annotate/", views.project_annotate, name="project-annotate"),
    path("projects/<int:project_id>/review/", views.project_review, name="project-review"),
    path("projects/<int:project_id>/review/decide/", views.review_decide, name="review-decide"),
    path("projects/<int:project_id>/review/export.csv", views.review_export, name="review-export"),
    path("projects/<int:project_id>/status/", views.model_status, name="model-status"),
    path("projects/<int:project_id>/labels/", views.label_create, name="label-create"),
    path("projects/<int:project_id>/labels/undo/", views.label_undo, name="label-undo"),
    path("projects/<int:project_id>/shots/<int:shot_id>/", views.shot_detail, name="shot-detail"),
    path("projects/<int:project_id>/shots/<int:shot_id>/card/", views.shot_card, name="shot-card"),
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
