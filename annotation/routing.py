from django.urls import path

from annotation.consumers import CorpusConsumer, ProjectConsumer

websocket_urlpatterns = [
    path("ws/projects/<int:project_id>/", ProjectConsumer.as_asgi()),
    path("ws/corpora/<int:corpus_id>/", CorpusConsumer.as_asgi()),
]
