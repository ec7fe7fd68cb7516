"""Embedding-model registry (open_clip): pure torch code, no Django."""

from models_app.embedding.model import Embedder
from models_app.embedding.registry import (
    TEST_MODEL_NAME,
    EmbeddingModelError,
    WeightsUnavailableError,
    clear_embedder_cache,
    ensure_test_checkpoint,
    is_test_architecture,
    load_embedder,
)

__all__ = [
    "TEST_MODEL_NAME",
    "Embedder",
    "EmbeddingModelError",
    "WeightsUnavailableError",
    "clear_embedder_cache",
    "ensure_test_checkpoint",
    "is_test_architecture",
    "load_embedder",
]
