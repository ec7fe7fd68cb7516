"""Nearest-neighbour search over a corpus through its HNSW index (pgvector, cosine distance).

Filtering (e.g. shots already labeled) uses pgvector's iterative index scans so that excluded rows do
not starve the result; the candidates are re-sorted exactly because relaxed order may swap neighbours.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.db import connection, transaction

from models_app.models import Corpus, ShotEmbedding

MAX_RESULTS = 500
EF_SEARCH_MIN = 800


@dataclass(frozen=True)
class Hit:
    shot_id: int
    distance: float  # cosine distance, 0 = same direction

    @property
    def similarity(self) -> float:
        return 1.0 - self.distance


def vector_search(
    *, corpus: Corpus, vector: Sequence[float], limit: int, offset: int = 0, exclude_shot_ids: Sequence[int] = ()
) -> list[Hit]:
    """Hits `offset … offset+limit` (at most MAX_RESULTS deep) nearest to `vector`, skipping excluded shots."""
    if len(vector) != corpus.dim:
        raise ValueError(f"query vector has {len(vector)} dimensions, corpus {corpus.name!r} has {corpus.dim}")
    if offset < 0 or limit <= 0 or offset + limit > MAX_RESULTS:
        raise ValueError(f"offset + limit must be within 1…{MAX_RESULTS}")
    dim, depth = int(corpus.dim), offset + limit
    literal = "[" + ",".join(repr(float(x)) for x in vector) + "]"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        # The candidate list: on 100k clustered 512-d vectors recall@50 is 0.63 / 0.88 / 0.96 at ef_search
        # 100 / 400 / 800 for 4.8 / 6.6 / 12.5 ms (benchmarks/search.py): worth the milliseconds.
        cursor.execute(f"SET LOCAL hnsw.ef_search = {min(1000, max(EF_SEARCH_MIN, 2 * depth))}")
        cursor.execute(
            f"WITH nearest AS MATERIALIZED ("
            f" SELECT shot_id, (vector::vector({dim})) <=> %s::vector({dim}) AS distance"
            f" FROM models_app_shotembedding WHERE corpus_id = %s AND NOT (shot_id = ANY(%s))"
            f" ORDER BY (vector::vector({dim})) <=> %s::vector({dim}) LIMIT %s)"
            " SELECT shot_id, distance FROM nearest ORDER BY distance, shot_id OFFSET %s",
            [literal, corpus.id, list(map(int, exclude_shot_ids)), literal, depth, offset],
        )
        return [Hit(int(shot_id), float(distance)) for shot_id, distance in cursor.fetchall()]


def text_search(*, corpus: Corpus, text: str, limit: int, offset: int = 0, exclude_shot_ids=()) -> list[Hit]:
    """Zero-shot search: the text through the corpus model's CLIP text encoder, then vector_search."""
    text = text.strip()
    if not text:
        raise ValueError("the search text is empty")
    from models_app.embedders import embedder_for_corpus  # torch loads on the first text search, not at import

    query = embedder_for_corpus(corpus).embed_texts([text])[0]
    return vector_search(corpus=corpus, vector=query, limit=limit, offset=offset, exclude_shot_ids=exclude_shot_ids)


def similar_search(*, corpus: Corpus, shot_id: int, limit: int, offset: int = 0, exclude_shot_ids=()) -> list[Hit]:
    """ "More like this": the shot's own vector as the query (the shot itself excluded)."""
    embedding = ShotEmbedding.objects.filter(shot_id=shot_id, corpus=corpus).only("vector").first()
    if embedding is None:
        raise ShotEmbedding.DoesNotExist(f"shot {shot_id} has no embedding in corpus {corpus.name!r}")
    exclude = [*map(int, exclude_shot_ids), int(shot_id)]
    vector = np.asarray(embedding.vector, dtype=np.float32)
    return vector_search(corpus=corpus, vector=vector, limit=limit, offset=offset, exclude_shot_ids=exclude)
