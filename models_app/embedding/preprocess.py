"""open_clip's inference preprocessing, done on tensors in batches instead of one PIL image at a time.

Follows the model's preprocess config (size, mean, std, interpolation, resize_mode): 'shortest' resizes the
short side then center-crops, 'squash' resizes to the square, 'longest' resizes the long side and pads.
Frames already at the target size skip the resize, so callers that pre-size (the ingest pipeline) pay only
for normalisation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

ImageLike = np.ndarray | Image.Image


def as_rgb_array(image: ImageLike) -> np.ndarray:
    """(H, W, 3) uint8 RGB from a PIL image or a uint8 array (H, W, 3) / (H, W)."""
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"))
    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise TypeError(f"images must be uint8 arrays or PIL images, got {array.dtype}")
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) RGB array, got shape {array.shape}")
    return array


def _target_size(height: int, width: int, size: tuple[int, int], mode: str) -> tuple[int, int]:
    out_h, out_w = size
    if mode == "squash":
        return out_h, out_w
    scale = max(out_h / height, out_w / width) if mode == "shortest" else min(out_h / height, out_w / width)
    return max(1, int(height * scale)), max(1, int(width * scale))  # int(): as torchvision truncates


def _fit(batch: torch.Tensor, size: tuple[int, int], mode: str, interpolation: str, fill: float) -> torch.Tensor:
    """Resize then crop (or pad) a float (N, 3, H, W) batch in 0..255 to exactly `size`."""
    height, width = batch.shape[-2:]
    new_h, new_w = _target_size(height, width, size, mode)
    if (new_h, new_w) != (height, width):
        batch = F.interpolate(batch, size=(new_h, new_w), mode=interpolation, antialias=True, align_corners=False)
        batch = batch.clamp_(0, 255)
    out_h, out_w = size
    if new_h >= out_h and new_w >= out_w:
        top, left = round((new_h - out_h) / 2), round((new_w - out_w) / 2)
        return batch[..., top : top + out_h, left : left + out_w]
    padded = batch.new_full((*batch.shape[:-2], out_h, out_w), fill)
    top, left = (out_h - new_h) // 2, (out_w - new_w) // 2
    padded[..., top : top + new_h, left : left + new_w] = batch
    return padded


def preprocess(images: Sequence[ImageLike], cfg: dict[str, Any], device: torch.device) -> torch.Tensor:
    """Images → normalised float32 batch (N, 3, H, W) on `device`, per the model's preprocess config."""
    size = cfg["size"] if isinstance(cfg["size"], tuple | list) else (cfg["size"], cfg["size"])
    size = (int(size[0]), int(size[1]))
    mode = cfg.get("resize_mode", "shortest")
    interpolation = "bilinear" if cfg.get("interpolation") == "bilinear" else "bicubic"
    fill = float(cfg.get("fill_color", 0))
    arrays = [as_rgb_array(image) for image in images]
    fitted: list[torch.Tensor] = []
    # Same-shape images (frames of one video) are resized together in one call.
    start = 0
    while start < len(arrays):
        end = start + 1
        while end < len(arrays) and arrays[end].shape == arrays[start].shape:
            end += 1
        group = torch.from_numpy(np.stack(arrays[start:end])).to(device).permute(0, 3, 1, 2).float()
        fitted.append(_fit(group, size, mode, interpolation, fill))
        start = end
    batch = torch.cat(fitted) / 255.0
    mean = torch.tensor(cfg["mean"], device=device).view(1, 3, 1, 1)
    std = torch.tensor(cfg["std"], device=device).view(1, 3, 1, 1)
    return (batch - mean) / std
