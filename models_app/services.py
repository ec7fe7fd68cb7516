"""Writes to the catalog."""

import logging
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from pgvector.psycopg import register_vector

from models_app.models import Corpus, Shot, Video

logger = logging.getLogger(__name__)


def hnsw_index_name(corpus_id: int) -> str:
    return f"shotembedding_hnsw_corpus_{corpus_id}"


def hnsw_index_create(corpus: Corpus) -> None:
    with connection.cursor() as cursor:
        # dim and id are integers validated by the model; identifiers cannot be bound as parameters.
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {hnsw_index_name(corpus.id)} ON models_app_shotembedding "
            f"USING hnsw ((vector::vector({int(corpus.dim)})) vector_cosine_ops) "
            f"WHERE corpus_id = {int(corpus.id)}"
        )


@contextmanager
def hnsw_index_rebuilt_after(corpus: Corpus):
    """For bulk loads: drop the corpus' HNSW index, load, then build it once (several times faster than
    inserting into it row by row). Use inside the load's transaction so readers never see it missing."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {hnsw_index_name(corpus.id)}")
    yield
    with connection.cursor() as cursor:
        # Django's foreign keys are deferred; CREATE INDEX refuses to run with their checks pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    hnsw_index_create(corpus)


@transaction.atomic
def corpus_create(
    *, name: str, embedding_model: str, dim: int, embedding_pretrained: str = "", is_test_model: bool = False
) -> Corpus:
    """Create a corpus and its partial HNSW (cosine) index over `vector::vector(dim)`."""
    corpus = Corpus(
        name=name,
        embedding_model=embedding_model,
        embedding_pretrained=embedding_pretrained,
        dim=dim,
        is_test_model=is_test_model,
    )
    corpus.full_clean()
    corpus.save()
    hnsw_index_create(corpus)
    return corpus


# --- videos and shots ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ShotRecord:
    """A shot as the pipeline (or an import) produced it."""

    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    thumbnail: str = ""
    preview: str = ""


def video_enqueue(*, corpus: Corpus, sources: list[str], force: bool = False) -> list[Video]:
    """Create (or reuse) a Video per source and queue its ingestion on the `embed` queue.

    Sources already ingested are left alone unless `force`; failed ones are retried.
    """
    from models_app.tasks import ingest_video

    videos = []
    with transaction.atomic():
        for source in sources:
            video, created = Video.objects.get_or_create(
                corpus=corpus, source=source, defaults={"title": Path(source).stem[:500]}
            )
            if not created and video.status == Video.Status.DONE and not force:
                videos.append(video)
                continue
            Video.objects.filter(pk=video.pk).update(status=Video.Status.QUEUED, progress=0, error="")
            video.refresh_from_db()
            videos.append(video)
            transaction.on_commit(lambda video_id=video.id: ingest_video.delay(video_id), robust=True)
    return videos


def video_progress_set(*, video: Video, status: str, progress: int, error: str = "") -> None:
    """Record a video's ingestion state and push it to the corpus page (group `corpus.<id>`)."""
    progress = max(0, min(100, int(progress)))
    Video.objects.filter(pk=video.pk).update(status=status, progress=progress, error=error, updated_at=timezone.now())
    video.status, video.progress, video.error = status, progress, error
    payload = {"video_id": video.id, "status": status, "progress": progress, "error": error}
    transaction.on_commit(lambda: corpus_event_send(video.corpus_id, "ingest.progress", payload), robust=True)


def corpus_group(corpus_id: int) -> str:
    return f"corpus.{int(corpus_id)}"


def corpus_event_send(corpus_id: int, event_type: str, payload: dict) -> None:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    try:
        async_to_sync(get_channel_layer().group_send)(corpus_group(corpus_id), {"type": event_type, **payload})
    except Exception:  # a push failing must never fail ingestion
        logger.exception("could not push %s to corpus %s", event_type, corpus_id)


@transaction.atomic
def shots_replace(*, video: Video, shots: Sequence[ShotRecord], vectors: np.ndarray) -> list[int]:
    """Replace all shots and embeddings of a video in one transaction (all or nothing).

    Re-running after an interruption therefore never duplicates rows. Embeddings go in with one
    binary COPY.
    """
    corpus = video.corpus
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.shape != (len(shots), corpus.dim):
        raise ValueError(f"expected {len(shots)} vectors of dimension {corpus.dim}, got shape {vectors.shape}")
    if not np.isfinite(vectors).all():
        raise ValueError("embeddings contain NaN or infinite values")
    Shot.objects.filter(video=video).delete()
    created = Shot.objects.bulk_create(
        Shot(
            video=video,
            index=i,
            start_frame=s.start_frame,
            end_frame=s.end_frame,
            start_s=s.start_s,
            end_s=s.end_s,
            thumbnail=s.thumbnail,
            preview=s.preview,
        )
        for i, s in enumerate(shots)
    )
    shot_ids = [shot.id for shot in created]
    embeddings_copy(corpus_id=corpus.id, shot_ids=shot_ids, vectors=vectors)
    Corpus.objects.filter(pk=corpus.id).update(vectors_version=F("vectors_version") + 1)
    return shot_ids


def embeddings_copy(*, corpus_id: int, shot_ids: Sequence[int], vectors: np.ndarray) -> None:
    """Bulk-load vectors with one binary COPY (call inside the caller's transaction)."""
    connection.ensure_connection()
    raw_connection = connection.connection  # psycopg's, inside Django's current transaction
    register_vector(raw_connection)  # before the cursor: cursors copy the connection's type registry
    with (
        raw_connection.cursor() as cursor,
        cursor.copy(
            "COPY models_app_shotembedding (shot_id, corpus_id, vector) FROM STDIN WITH (FORMAT BINARY)"
        ) as copy,
    ):
        copy.set_types(["int8", "int8", "vector"])
        for shot_id, vector in zip(shot_ids, vectors, strict=True):
            copy.write_row((shot_id, corpus_id, vector))
