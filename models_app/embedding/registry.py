"""Load open_clip embedding models by (model name, pretrained tag or checkpoint path), once per process.

Offline machines (CI, these hosts) use the TEST architecture `va-test-tiny` registered from the JSON config
next to this file: a tiny ViT and text tower whose deterministic random weights (seeded) are written to a
checkpoint on first use. Only a non-strict load may create that checkpoint or run on random weights; a strict
load (production) raises WeightsUnavailableError instead of ever falling back silently.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from pathlib import Path

import open_clip
import torch

from models_app.embedding.devices import configure_cpu_threads, pick_device
from models_app.embedding.model import Embedder

logger = logging.getLogger(__name__)

TEST_MODEL_NAME = "va-test-tiny"
TEST_MODEL_SEED = 20240214
_TEST_CONFIG = Path(__file__).with_name(f"{TEST_MODEL_NAME}.json")

_cache: dict[tuple[str, str | None, str], Embedder] = {}
_cache_lock = threading.Lock()


class EmbeddingModelError(Exception):
    """The embedding model cannot be loaded as asked."""


class WeightsUnavailableError(EmbeddingModelError):
    """The requested weights are missing or unreadable (never replaced by random ones in strict mode)."""


def _register_test_architecture() -> None:
    if TEST_MODEL_NAME not in open_clip.list_models():
        open_clip.add_model_config(_TEST_CONFIG)


_register_test_architecture()


def is_test_architecture(model_name: str) -> bool:
    return model_name == TEST_MODEL_NAME


def ensure_test_checkpoint(path: str | os.PathLike[str]) -> Path:
    """Write the test architecture's seeded random weights to `path` unless it exists; returns the path.

    The same seed gives the same weights on every machine, so test embeddings are reproducible.
    """
    path = Path(path)
    if path.is_file():
        return path
    with torch.random.fork_rng(devices=[]):  # leave the caller's RNG state alone
        torch.manual_seed(TEST_MODEL_SEED)
        model = open_clip.create_model(TEST_MODEL_NAME, pretrained=None)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename: concurrent workers creating it at once each produce the same complete file.
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(model.state_dict(), f)
        os.replace(partial, path)
    finally:
        Path(partial).unlink(missing_ok=True)
    logger.info("Wrote test embedding checkpoint %s", path)
    return path


def load_embedder(
    model_name: str,
    pretrained: str | os.PathLike[str] | None = None,
    *,
    strict: bool = True,
    device: str | None = None,
) -> Embedder:
    """The embedder for this model and weights, loaded once per process (later calls return the same object).

    `pretrained` is an open_clip pretrained tag (downloaded by open_clip if online) or a local checkpoint path.
    strict=True (production): the weights must load; no weights given, a missing file or a failed download
    raises WeightsUnavailableError. strict=False additionally allows `pretrained=None` (random weights, e.g.
    for timing) and, for the test architecture, creates a missing checkpoint at the given path.
    """
    if model_name not in open_clip.list_models():
        raise EmbeddingModelError(f"Unknown embedding model {model_name!r}.")
    source = _resolve_weights(model_name, None if pretrained is None else str(pretrained), strict=strict)
    target = pick_device(device)
    key = (model_name, source, str(target))
    with _cache_lock:
        if key not in _cache:
            _cache[key] = _load(model_name, source, target)
        return _cache[key]


def clear_embedder_cache() -> None:
    with _cache_lock:
        _cache.clear()


def _resolve_weights(model_name: str, pretrained: str | None, *, strict: bool) -> str | None:
    """A tag, an absolute checkpoint path, or None (random weights); raises where strict mode forbids."""
    if pretrained is None:
        if strict:
            raise WeightsUnavailableError(
                f"No weights configured for embedding model {model_name!r}; refusing random weights in strict mode."
            )
        return None
    if pretrained in open_clip.list_pretrained_tags_by_model(model_name):
        return pretrained
    path = Path(pretrained).expanduser().resolve()
    if not path.is_file():
        if is_test_architecture(model_name) and not strict:
            return str(ensure_test_checkpoint(path))
        raise WeightsUnavailableError(
            f"Embedding weights for {model_name!r} not found: {pretrained} is neither a checkpoint file "
            f"nor a pretrained tag of this model."
        )
    return str(path)


def _load(model_name: str, source: str | None, device: torch.device) -> Embedder:
    if device.type == "cpu":
        configure_cpu_threads()
    with torch.random.fork_rng(devices=[]):
        if source is None or is_test_architecture(model_name):
            torch.manual_seed(TEST_MODEL_SEED)  # random init, when it happens, is reproducible too
        try:
            model = open_clip.create_model(model_name, pretrained=source, device=device)
        except Exception as exc:  # torch.load / safetensors / download errors come in many types; all mean the same
            raise WeightsUnavailableError(
                f"Could not load weights {source!r} for embedding model {model_name!r}: {exc}"
            ) from exc
    if source is None:
        logger.warning("Embedding model %s runs on random weights (non-strict load).", model_name)
    return Embedder(
        model_name=model_name,
        pretrained=source,
        model=model.eval(),
        tokenizer=open_clip.get_tokenizer(model_name),
        device=device,
        is_test_architecture=is_test_architecture(model_name),
        has_trained_weights=source is not None and not is_test_architecture(model_name),
    )
