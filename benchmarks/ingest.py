"""Benchmark: the whole ingest pipeline against the raw embedding model on the same frames.

    python -m benchmarks.ingest            # 2 videos × 60 s, 640×360, 24 fps, shots of 1–4 s; 2 repetitions
    python -m benchmarks.ingest --quick    # 1 video × 20 s; 1 repetition
    python -m benchmarks.ingest --models va-test-tiny,ViT-B-32,ViT-L-14   # bigger models (on a GPU)

For each model (the test architecture and ViT-B-32 on random weights, fine for timing) the pipeline runs
end to end (decode → TransNetV2 → thumbnails/previews → embeddings) through an embedder wrapper that keeps
the exact frames it was asked to embed. The baseline then embeds those same, already decoded frames in full
batches: the throughput of the embedding model alone. Repetitions alternate pipeline and baseline (the
machine may be shared) and the best time of each counts.

Lines per model: embedded_frames_per_s and shots_per_s (baseline: the model alone on the same frames),
video_frames_per_s (baseline: bare PyAV decoding of the same files) and pipeline_s_vs_serial (baseline: the
pipeline without the model plus the model alone, i.e. no overlap; a time, so ratio = baseline / value).
One more line times TransNetV2 alone on pre-decoded frames.

Prints JSON lines {"bench", "metric", "value", "unit", "baseline", "ratio", "model", ...};
for throughputs ratio = value / baseline.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import av
import numpy as np
import torch

from models_app.embedding import TEST_MODEL_NAME, Embedder, load_embedder
from models_app.ingest import ingest_video
from models_app.ingest.frames import decode_frames
from models_app.ingest.shots import ShotDetector
from models_app.ingest.synthetic import SyntheticVideo, make_video

FPS, WIDTH, HEIGHT = 24, 640, 360
DEFAULT_MODELS = f"{TEST_MODEL_NAME},ViT-B-32"


class ProducerOnlyEmbedder:
    """Returns fixed unit vectors at no cost: times everything in the pipeline but the embedding model."""

    def __init__(self, embedder: Embedder) -> None:
        self.dim, self.image_size, self.batch_size = embedder.dim, embedder.image_size, embedder.batch_size

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        vectors = np.zeros((len(images), self.dim), np.float32)
        vectors[:, 0] = 1
        return vectors


class RecordingEmbedder:
    """Delegates to an Embedder and keeps every frame it was given (references only: no copy, no cost)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.dim, self.image_size, self.batch_size = embedder.dim, embedder.image_size, embedder.batch_size
        self.frames: list[np.ndarray] = []

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        self.frames.extend(images)
        return self.embedder.embed_images(images)


def make_videos(directory: Path, count: int, seconds: int, seed: int) -> list[SyntheticVideo]:
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    videos = []
    for i in range(count):
        n_frames = seconds * FPS
        lengths = rng.integers(FPS, 4 * FPS + 1, size=n_frames // FPS)  # 1–4 s shots
        cuts = tuple(int(c) for c in np.cumsum(lengths) if c < n_frames - FPS)
        path = directory / f"bench_{i}.mp4"
        videos.append(make_video(path, cuts, n_frames, width=WIDTH, height=HEIGHT, seed=seed + i, style="mixed"))
    return videos


def decode_only_fps(videos: list[SyntheticVideo]) -> float:
    """Plain PyAV decoding of the same files (threaded), no conversion: the floor of any pipeline."""
    began, frames = time.perf_counter(), 0
    for video in videos:
        with av.open(str(video.path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            frames += sum(1 for _ in container.decode(stream))
    return frames / (time.perf_counter() - began)


def shot_detection_fps(videos: list[SyntheticVideo]) -> float:
    """TransNetV2 alone (streaming windows) on pre-decoded 48×27 frames."""
    smalls = [np.stack([d.small for d in decode_frames(v.path, size=(WIDTH, HEIGHT))]) for v in videos]
    began = time.perf_counter()
    for frames in smalls:
        detector = ShotDetector()
        for frame in frames:
            detector.push(frame)
        detector.finish()
    return sum(len(f) for f in smalls) / (time.perf_counter() - began)


def bench_model(embedder: Embedder, videos: list[SyntheticVideo], warmup: SyntheticVideo, out: Path, reps: int) -> dict:
    # Warm-up: first calls pay for oneDNN kernel selection, which a long-running worker pays once.
    ingest_video(warmup.path, out, RecordingEmbedder(embedder), video_key="warmup")
    pipeline_s, baseline_s = [], []
    for _ in range(reps):
        recorder = RecordingEmbedder(embedder)
        began = time.perf_counter()
        results = [ingest_video(v.path, out, recorder, video_key=f"v{i}") for i, v in enumerate(videos)]
        pipeline_s.append(time.perf_counter() - began)
        began = time.perf_counter()
        embedder.embed_images(recorder.frames)
        baseline_s.append(time.perf_counter() - began)
    began = time.perf_counter()
    for i, video in enumerate(videos):
        ingest_video(video.path, out, ProducerOnlyEmbedder(embedder), video_key=f"v{i}")
    return {
        "pipeline_s": round(min(pipeline_s), 3),
        "embedding_only_s": round(min(baseline_s), 3),
        "producer_only_s": round(time.perf_counter() - began, 3),
        "samples": len(recorder.frames),
        "shots": sum(len(r.shots) for r in results),
        "video_frames": sum(r.frame_count for r in results),
    }


def line(metric: str, value: float, unit: str, baseline: float, *, ratio: float | None = None, **extra: object) -> str:
    ratio = value / baseline if ratio is None else ratio
    fields = {"value": round(value, 2), "unit": unit, "baseline": round(baseline, 2), "ratio": round(ratio, 3)}
    return json.dumps({"bench": "ingest", "metric": metric, **fields, **extra})


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one 20 s video, one repetition")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", default=DEFAULT_MODELS, help="comma-separated open_clip architectures")
    args = parser.parse_args(argv)
    count, seconds, reps = (1, 20, 1) if args.quick else (2, 60, 2)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    common = {"device": device, "threads": torch.get_num_threads(), "size": f"{WIDTH}x{HEIGHT}", "seed": args.seed}

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        tmp_dir = Path(tmp)
        videos = make_videos(tmp_dir, count, seconds, args.seed)
        warmup = make_videos(tmp_dir / "warmup", 1, 10, args.seed + 100)[0]
        decode_fps = decode_only_fps(videos)
        detection = shot_detection_fps(videos)
        print(line("shot_detection_frames_per_s", detection, "frames/s", decode_fps, model="TransNetV2", **common))
        for model_name in args.models.split(","):
            # Random weights time the same as trained ones; the test architecture insists on its checkpoint.
            weights = tmp_dir / "test-model.pt" if model_name == TEST_MODEL_NAME else None
            embedder = load_embedder(model_name, weights, strict=False)
            run = bench_model(embedder, videos, warmup, tmp_dir / "media", reps)
            extra = {"model": model_name, **common, **run}
            pipe, only = run["pipeline_s"], run["embedding_only_s"]
            print(line("embedded_frames_per_s", run["samples"] / pipe, "frames/s", run["samples"] / only, **extra))
            print(line("shots_per_s", run["shots"] / pipe, "shots/s", run["shots"] / only, **extra))
            print(line("video_frames_per_s", run["video_frames"] / pipe, "frames/s", decode_fps, **extra))
            # Time, so ratio = baseline / value: > 1 when overlapping beats running producer and model one after other.
            serial = run["producer_only_s"] + only
            print(line("pipeline_s_vs_serial", pipe, "s", serial, ratio=serial / pipe, **extra), flush=True)


if __name__ == "__main__":
    main()
