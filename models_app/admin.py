from django.contrib import admin

from models_app.models import Corpus, Shot, ShotEmbedding, Video


@admin.register(Corpus)
class CorpusAdmin(admin.ModelAdmin):
    list_display = ["name", "embedding_model", "dim", "is_test_model", "created_at"]
    search_fields = ["name"]


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin):
    list_display = ["__str__", "corpus", "status", "progress", "duration", "created_at"]
    list_filter = ["status", "corpus"]
    search_fields = ["title", "source"]


@admin.register(Shot)
class ShotAdmin(admin.ModelAdmin):
    list_display = ["__str__", "video", "index", "start_s", "end_s"]
    list_select_related = ["video"]
    raw_id_fields = ["video"]


@admin.register(ShotEmbedding)
class ShotEmbeddingAdmin(admin.ModelAdmin):
    list_display = ["shot", "corpus"]
    list_filter = ["corpus"]
    raw_id_fields = ["shot"]
    readonly_fields = ["shot", "corpus", "vector"]
