"""Embedding registry: the test architecture, its deterministic checkpoint, strict mode, embeddings."""

import numpy as np
import pytest
import torch
from PIL import Image

from models_app.embedding import (
    TEST_MODEL_NAME,
    EmbeddingModelError,
    WeightsUnavailableError,
    ensure_test_checkpoint,
    load_embedder,
)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return tmp_path_factory.mktemp("models") / "va-test-tiny.pt"


@pytest.fixture(scope="module")
def embedder(checkpoint):
    return load_embedder(TEST_MODEL_NAME, checkpoint, strict=False)


def _images(count, seed=0, size=(90, 160)):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, size=(*size, 3), dtype=np.uint8) for _ in range(count)]


def test_non_strict_load_creates_checkpoint_and_flags_test_model(embedder, checkpoint):
    assert checkpoint.is_file()
    assert embedder.is_test_architecture
    assert not embedder.has_trained_weights
    assert embedder.dim == 64


def test_model_is_loaded_once_per_process(embedder, checkpoint):
    assert load_embedder(TEST_MODEL_NAME, str(checkpoint), strict=True) is embedder


def test_test_checkpoint_is_deterministic(tmp_path, checkpoint, embedder):
    first = torch.load(ensure_test_checkpoint(tmp_path / "a.pt"), weights_only=True)
    second = torch.load(ensure_test_checkpoint(tmp_path / "b.pt"), weights_only=True)
    shipped = torch.load(checkpoint, weights_only=True)
    assert first.keys() == second.keys() == shipped.keys()
    assert all(torch.equal(first[k], second[k]) and torch.equal(first[k], shipped[k]) for k in first)
    # And it is really what the loaded model runs on.
    loaded = embedder.model.state_dict()
    assert all(torch.equal(loaded[k].cpu(), first[k]) for k in first)


def test_strict_mode_refuses_a_missing_checkpoint(tmp_path):
    missing = tmp_path / "absent.pt"
    with pytest.raises(WeightsUnavailableError, match="not found"):
        load_embedder(TEST_MODEL_NAME, missing, strict=True)
    assert not missing.exists()  # nothing was fabricated


def test_strict_mode_refuses_random_weights():
    with pytest.raises(WeightsUnavailableError, match="strict"):
        load_embedder(TEST_MODEL_NAME, None, strict=True)


def test_unreadable_checkpoint_is_an_error_even_when_not_strict(tmp_path):
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsUnavailableError):
        load_embedder(TEST_MODEL_NAME, broken, strict=False)


def test_unknown_model_name():
    with pytest.raises(EmbeddingModelError, match="Unknown"):
        load_embedder("no-such-model", None, strict=False)


def test_image_embeddings_are_normalised_and_input_types_agree(embedder):
    arrays = _images(5)
    vectors = embedder.embed_images(arrays, batch_size=2)
    assert vectors.shape == (5, 64) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    from_pil = embedder.embed_images([Image.fromarray(a) for a in arrays])
    np.testing.assert_allclose(from_pil, vectors, atol=1e-5)
    assert not np.allclose(vectors[0], vectors[1])  # different images, different vectors


def test_preprocessing_matches_open_clip_transforms(embedder, checkpoint):
    import open_clip

    _, _, transform = open_clip.create_model_and_transforms(TEST_MODEL_NAME, pretrained=str(checkpoint))
    images = [Image.fromarray(a) for a in _images(4, seed=1, size=(120, 200))]
    with torch.inference_mode():
        reference = embedder.model.encode_image(torch.stack([transform(image) for image in images]))
    reference = torch.nn.functional.normalize(reference, dim=-1).numpy()
    cosine = (embedder.embed_images(images) * reference).sum(axis=1)
    assert cosine.min() > 0.999


def test_text_embeddings(embedder):
    vectors = embedder.embed_texts(["a car chase at night", "an establishing shot of a city", "smoking"])
    assert vectors.shape == (3, 64) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(embedder.embed_texts(["smoking"])[0], vectors[2], atol=1e-5)


def test_empty_batches(embedder):
    assert embedder.embed_images([]).shape == (0, 64)
    assert embedder.embed_texts([]).shape == (0, 64)
