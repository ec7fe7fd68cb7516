"""Reads of the catalog."""

from collections.abc import Sequence

from django.db import connection

from models_app.models import Corpus


def nearest_shot_ids(*, corpus: Corpus, vector: Sequence[float], k: int) -> list[tuple[int, float]]:
    """(shot_id, cosine distance) of the k nearest shots, through the corpus' HNSW index."""
    if len(vector) != corpus.dim:
        raise ValueError(f"query vector has {len(vector)} dimensions, corpus {corpus.name!r} has {corpus.dim}")
    dim = int(corpus.dim)
    literal = "[" + ",".join(repr(float(x)) for x in vector) + "]"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT shot_id, (vector::vector({dim})) <=> %s::vector({dim}) AS distance "
            "FROM models_app_shotembedding WHERE corpus_id = %s "
            f"ORDER BY (vector::vector({dim})) <=> %s::vector({dim}) LIMIT %s",
            [literal, corpus.id, literal, int(k)],
        )
        return [(row[0], float(row[1])) for row in cursor.fetchall()]
