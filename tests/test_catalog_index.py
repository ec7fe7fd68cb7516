"""The per-corpus HNSW index exists and nearest-neighbour queries use it."""

import numpy as np
import pytest
from django.db import connection

from models_app.search import vector_search
from models_app.services import ShotRecord, hnsw_index_name, shots_replace
from tests.factories import VideoFactory, make_corpus


@pytest.fixture
def corpus_with_vectors(db):
    corpus = make_corpus("vectors", dim=8)
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(2000, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    records = [ShotRecord(start_frame=i * 10, end_frame=i * 10 + 10, start_s=i, end_s=i + 1) for i in range(2000)]
    shot_ids = shots_replace(video=VideoFactory(corpus=corpus), shots=records, vectors=vectors)
    return corpus, shot_ids, vectors


def test_nearest_neighbours_are_the_exact_ones(corpus_with_vectors):
    corpus, shot_ids, vectors = corpus_with_vectors
    query = vectors[17]
    found = vector_search(corpus=corpus, vector=query.tolist(), limit=5)
    exact = np.argsort(-(vectors @ query))[:5]
    assert [hit.shot_id for hit in found] == [shot_ids[i] for i in exact]
    assert found[0].distance == pytest.approx(0.0, abs=1e-5)


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
        vector_search(corpus=corpus, vector=[0.1] * 5, limit=3)


def test_excluded_shots_do_not_starve_the_result(corpus_with_vectors):
    """Excluding the 300 nearest shots still returns a full page: the iterative index scan goes on."""
    corpus, shot_ids, vectors = corpus_with_vectors
    order = np.argsort(-(vectors @ vectors[3]))
    excluded = [shot_ids[i] for i in order[:300]]
    found = vector_search(corpus=corpus, vector=vectors[3].tolist(), limit=50, exclude_shot_ids=excluded)
    assert len(found) == 50
    assert not set(excluded) & {hit.shot_id for hit in found}
    expected = [shot_ids[i] for i in order[300:350]]
    recall = len(set(expected) & {hit.shot_id for hit in found}) / 50
    assert recall >= 0.9


def test_pages_follow_each_other(corpus_with_vectors):
    corpus, _, vectors = corpus_with_vectors
    first = vector_search(corpus=corpus, vector=vectors[9].tolist(), limit=20)
    second = vector_search(corpus=corpus, vector=vectors[9].tolist(), limit=20, offset=20)
    both = vector_search(corpus=corpus, vector=vectors[9].tolist(), limit=40)
    assert [h.shot_id for h in first + second] == [h.shot_id for h in both]
    assert first[-1].distance <= second[0].distance
