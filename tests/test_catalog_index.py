"""The per-corpus HNSW index exists and nearest-neighbour queries use it."""

import numpy as np
import pytest
from django.db import connection

from models_app.models import Shot, ShotEmbedding
from models_app.selectors import nearest_shot_ids
from models_app.services import hnsw_index_name
from tests.factories import VideoFactory, make_corpus


@pytest.fixture
def corpus_with_vectors(db):
    corpus = make_corpus("vectors", dim=8)
    rng = np.random.default_rng(0)
    video = VideoFactory(corpus=corpus)
    vectors = rng.normal(size=(5000, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    shots = Shot.objects.bulk_create(
        Shot(video=video, index=i, start_frame=i * 10, end_frame=i * 10 + 10, start_s=i, end_s=i + 1)
        for i in range(len(vectors))
    )
    ShotEmbedding.objects.bulk_create(
        ShotEmbedding(shot=shot, corpus=corpus, vector=vector) for shot, vector in zip(shots, vectors, strict=True)
    )
    return corpus, [s.id for s in shots], vectors


def test_nearest_neighbours_are_the_exact_ones(corpus_with_vectors):
    corpus, shot_ids, vectors = corpus_with_vectors
    query = vectors[17]
    found = nearest_shot_ids(corpus=corpus, vector=query.tolist(), k=5)
    exact = np.argsort(-(vectors @ query))[:5]
    assert [shot_id for shot_id, _ in found] == [shot_ids[i] for i in exact]
    assert found[0][1] == pytest.approx(0.0, abs=1e-5)


def test_the_hnsw_index_serves_the_query(corpus_with_vectors):
    corpus, _, vectors = corpus_with_vectors
    literal = "[" + ",".join(str(float(x)) for x in vectors[0]) + "]"
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE models_app_shotembedding")
        cursor.execute(
            "EXPLAIN SELECT shot_id FROM models_app_shotembedding WHERE corpus_id = %s "
            "ORDER BY (vector::vector(8)) <=> %s::vector(8) LIMIT 5",
            [corpus.id, literal],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert hnsw_index_name(corpus.id) in plan


def test_a_query_vector_of_the_wrong_dimension_is_refused(corpus_with_vectors):
    corpus, _, _ = corpus_with_vectors
    with pytest.raises(ValueError, match="8"):
        nearest_shot_ids(corpus=corpus, vector=[0.1] * 5, k=3)
