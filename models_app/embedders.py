"""Which embedding model a corpus uses, and loading it (once per process) from settings.

The test architecture's checkpoint lives under VAR_DIR/models (written on first use, deterministic
weights); everything else is an open_clip pretrained tag or a checkpoint path, loaded strictly: weights
that cannot be loaded are an error, never a silent fallback.
"""

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from models_app.embedding import TEST_MODEL_NAME, Embedder, is_test_architecture, load_embedder
from models_app.models import Corpus


@dataclass(frozen=True)
class EmbeddingConfig:
    model: str
    pretrained: str  # tag or checkpoint path; "" for the test architecture (its checkpoint is local)

    @property
    def is_test_model(self) -> bool:
        return is_test_architecture(self.model)


def configured_embedding() -> EmbeddingConfig:
    """The model new corpora are embedded with (VA_EMBEDDING_MODEL / VA_EMBEDDING_PRETRAINED)."""
    model = settings.VA_EMBEDDING_MODEL
    return EmbeddingConfig(
        model=model, pretrained="" if is_test_architecture(model) else settings.VA_EMBEDDING_PRETRAINED
    )


def test_checkpoint_path() -> Path:
    return Path(settings.VAR_DIR) / "models" / f"{TEST_MODEL_NAME}.pt"


def load(config: EmbeddingConfig) -> Embedder:
    if config.is_test_model:
        return load_embedder(config.model, test_checkpoint_path(), strict=False)
    return load_embedder(config.model, config.pretrained, strict=True)


def embedder_for_corpus(corpus: Corpus) -> Embedder:
    return load(EmbeddingConfig(model=corpus.embedding_model, pretrained=corpus.embedding_pretrained))
