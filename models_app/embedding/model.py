"""A loaded open_clip model with batched, L2-normalised image and text embedding."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

import numpy as np
import open_clip
import torch
import torch.nn.functional as F

from models_app.embedding.devices import exclusive_compute
from models_app.embedding.preprocess import ImageLike, preprocess


class Embedder:
    """Wraps one open_clip model. Build it with `registry.load_embedder`, which caches it per process."""

    def __init__(
        self,
        *,
        model_name: str,
        pretrained: str | None,
        model: torch.nn.Module,
        tokenizer: Callable[[Sequence[str]], torch.Tensor],
        device: torch.device,
        is_test_architecture: bool,
        has_trained_weights: bool,
        batch_size: int | None = None,
    ) -> None:
        self.model_name = model_name
        self.pretrained = pretrained
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.is_test_architecture = is_test_architecture
        # False for the test architecture and for random weights: the UI must say so.
        self.has_trained_weights = has_trained_weights
        self.batch_size = batch_size or (256 if device.type == "cuda" else 32)
        self.preprocess_cfg = open_clip.get_model_preprocess_cfg(model)
        self.dim = int(open_clip.get_model_config(model_name)["embed_dim"])

    @property
    def image_size(self) -> int:
        """Short side the model's input is cropped to (frames pre-sized to it skip the resize)."""
        size = self.preprocess_cfg["size"]
        return int(min(size) if isinstance(size, tuple | list) else size)

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.float16)
        return contextlib.nullcontext()

    def embed_images(self, images: Sequence[ImageLike], batch_size: int | None = None) -> np.ndarray:
        """PIL images or uint8 (H, W, 3) RGB arrays → (N, dim) float32, rows L2-normalised."""
        return self._embed(images, batch_size, self._encode_images)

    def embed_texts(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        """Strings → (N, dim) float32 text embeddings, rows L2-normalised (same space as the images)."""
        return self._embed(list(texts), batch_size, self._encode_texts)

    def _embed(self, items: Sequence, batch_size: int | None, encode: Callable[[Sequence], torch.Tensor]) -> np.ndarray:
        step = batch_size or self.batch_size
        out = np.empty((len(items), self.dim), dtype=np.float32)
        with torch.inference_mode(), self._autocast():
            for start in range(0, len(items), step):
                with exclusive_compute(self.device):
                    features = encode(items[start : start + step])
                out[start : start + step] = F.normalize(features.float(), dim=-1).cpu().numpy()
        return out

    def _encode_images(self, images: Sequence[ImageLike]) -> torch.Tensor:
        return self.model.encode_image(preprocess(images, self.preprocess_cfg, self.device))

    def _encode_texts(self, texts: Sequence[str]) -> torch.Tensor:
        return self.model.encode_text(self.tokenizer(texts).to(self.device))

    def __repr__(self) -> str:
        kind = "test architecture" if self.is_test_architecture else "model"
        return f"<Embedder {kind} {self.model_name} ({self.pretrained or 'random weights'}) on {self.device}>"
