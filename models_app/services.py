"""Writes to the catalog."""

from django.db import connection, transaction

from models_app.models import Corpus


def hnsw_index_name(corpus_id: int) -> str:
    return f"shotembedding_hnsw_corpus_{corpus_id}"


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
    with connection.cursor() as cursor:
        # dim and id are integers validated above; identifiers cannot be bound as parameters.
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {hnsw_index_name(corpus.id)} ON models_app_shotembedding "
            f"USING hnsw ((vector::vector({int(corpus.dim)})) vector_cosine_ops) "
            f"WHERE corpus_id = {int(corpus.id)}"
        )
    return corpus
