"""The catalog: corpora of videos cut into shots, and one embedding vector per shot.

This app knows nothing of users, projects or labels (DESIGN.md §3).
"""

from django.db import models
from pgvector.django import VectorField


class Corpus(models.Model):
    """A catalog of shots whose vectors all come from one embedding model."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    embedding_model = models.CharField(max_length=200, help_text="open_clip architecture name")
    embedding_pretrained = models.CharField(
        max_length=500, blank=True, help_text="open_clip pretrained tag or local checkpoint path"
    )
    dim = models.PositiveIntegerField(help_text="length of every vector in this corpus")
    is_test_model = models.BooleanField(
        default=False, help_text="embedded with the small test architecture and random weights"
    )
    vectors_version = models.PositiveBigIntegerField(
        default=0, help_text="bumped whenever the corpus' embeddings change; in-memory matrices rebuild on change"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "corpora"
        constraints = [models.CheckConstraint(condition=models.Q(dim__gte=1, dim__lte=4096), name="corpus_dim_range")]

    def __str__(self) -> str:
        return self.name


class Video(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        DECODING = "decoding"
        SHOTS = "shots"
        EMBEDDING = "embedding"
        DONE = "done"
        FAILED = "failed"

    corpus = models.ForeignKey(Corpus, on_delete=models.CASCADE, related_name="videos")
    source = models.CharField(max_length=1000, help_text="file path or external key")
    title = models.CharField(max_length=500, blank=True)
    duration = models.FloatField(null=True, blank=True, help_text="seconds")
    fps = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="percent")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["corpus", "source"], name="video_unique_source_per_corpus"),
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="video_progress_percent"),
        ]

    def __str__(self) -> str:
        return self.title or self.source


class Shot(models.Model):
    """The unit that is labeled and scored: a contiguous frame range of one video."""

    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="shots")
    index = models.PositiveIntegerField(help_text="position of the shot within its video")
    start_frame = models.PositiveIntegerField()
    end_frame = models.PositiveIntegerField(help_text="exclusive")
    start_s = models.FloatField()
    end_s = models.FloatField()
    thumbnail = models.CharField(max_length=500, blank=True, help_text="path under MEDIA_ROOT")
    preview = models.CharField(max_length=500, blank=True, help_text="path under MEDIA_ROOT")

    class Meta:
        ordering = ["video_id", "index"]
        constraints = [
            models.UniqueConstraint(fields=["video", "index"], name="shot_unique_index_per_video"),
            models.CheckConstraint(condition=models.Q(end_frame__gt=models.F("start_frame")), name="shot_nonempty"),
        ]

    def __str__(self) -> str:
        return f"{self.video} #{self.index} [{self.start_s:.2f}s–{self.end_s:.2f}s]"


class ShotEmbedding(models.Model):
    """One L2-normalised vector per shot.

    The column has no fixed dimension because corpora differ; each corpus gets a partial HNSW
    index on `vector::vector(dim)` (see models_app.services.corpus_create), and queries use the same
    expression so the planner picks it.
    """

    shot = models.OneToOneField(Shot, on_delete=models.CASCADE, primary_key=True, related_name="embedding")
    corpus = models.ForeignKey(Corpus, on_delete=models.CASCADE, related_name="+", db_index=True)
    vector = VectorField()

    def __str__(self) -> str:
        return f"embedding of shot {self.shot_id}"
