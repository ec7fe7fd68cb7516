from django.urls import path

from annotation import manager_views

urlpatterns = [
    path("projects/<int:project_id>/manage/", manager_views.project_dashboard, name="manage-dashboard"),
    path("projects/<int:project_id>/manage/overlap/", manager_views.overlap_update, name="manage-overlap"),
    path("projects/<int:project_id>/review/queue/", manager_views.queue, name="review-queue"),
    path("projects/<int:project_id>/review/queue/resolve/", manager_views.queue_resolve, name="review-queue-resolve"),
    path("projects/<int:project_id>/activity/", manager_views.activity, name="project-activity"),
]
