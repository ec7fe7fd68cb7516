"""Bring your own embeddings: shots (video key, time range) and their vectors from files, validated,
then written all at once (one transaction) or not at all."""

import csv
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.db import transaction

from models_app.learning.readers import read_embeddings
from models_app.models import Corpus, Video
from models_app.services import ShotRecord, hnsw_index_rebuilt_after, shots_replace

BULK_ROWS = 20_000  # from here on, building the HNSW index once beats inserting into it


class EmbeddingImportError(ValueError):
    """The files cannot be imported as they are; the message says which row and why."""


@dataclass(frozen=True)
class ShotSpan:
    video: str
    start_s: float
    end_s: float
    start_frame: int
    end_frame: int


def read_shot_table(path: str | Path, *, default_fps: float = 24.0) -> dict[str, ShotSpan]:
    """{key: span} from a CSV like VA's shot-data.csv.

    Needs `key` or (`yt_id`, `frame_in`); the time range from `start_s`/`end_s`, or from
    `frame_in`/`frame_out` and `fps` (default 24). The video is `yt_id`, or the key's part before "|".
    """
    spans: dict[str, ShotSpan] = {}
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        for line, row in enumerate(reader, start=2):
            try:
                key = row.get("key") or f"{row['yt_id']}|{int(float(row['frame_in']))}"
                video = row.get("yt_id") or key.split("|", 1)[0]
                fps = float(row.get("fps") or default_fps)
                if row.get("start_s") not in (None, "") and row.get("end_s") not in (None, ""):
                    start_s, end_s = float(row["start_s"]), float(row["end_s"])
                    start_frame, end_frame = round(start_s * fps), round(end_s * fps)
                else:
                    start_frame, end_frame = int(float(row["frame_in"])), int(float(row["frame_out"]))
                    start_s, end_s = start_frame / fps, end_frame / fps
            except (KeyError, ValueError, TypeError) as exc:
                raise EmbeddingImportError(f"{path}:{line}: cannot read a shot from {dict(row)} ({exc})") from exc
            if end_frame <= start_frame or start_frame < 0:
                raise EmbeddingImportError(f"{path}:{line}: shot {key!r} has an empty or negative range")
            if key in spans:
                raise EmbeddingImportError(f"{path}:{line}: duplicate key {key!r}")
            spans[key] = ShotSpan(video, start_s, end_s, start_frame, end_frame)
    return spans


def validate(keys: list[str], vectors: np.ndarray, spans: dict[str, ShotSpan], *, dim: int | None) -> None:
    if vectors.ndim != 2 or len(vectors) != len(keys):
        raise EmbeddingImportError(f"{len(keys)} keys but vectors of shape {vectors.shape}")
    if dim is not None and vectors.shape[1] != dim:
        raise EmbeddingImportError(f"the vectors have {vectors.shape[1]} dimensions, the corpus has {dim}")
    bad = ~np.isfinite(vectors).all(axis=1)
    if bad.any():
        raise EmbeddingImportError(
            f"{int(bad.sum())} vector(s) contain NaN or infinity, e.g. key {keys[int(np.argmax(bad))]!r}"
        )
    if np.any(np.linalg.norm(vectors, axis=1) == 0):
        raise EmbeddingImportError("some vectors are all zeros (no direction for cosine search)")
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            raise EmbeddingImportError(f"duplicate key {key!r} in the embeddings")
        seen.add(key)
    unknown = [k for k in keys if k not in spans]
    if unknown:
        raise EmbeddingImportError(
            f"{len(unknown)} key(s) have no row in the shot table (unknown videos), e.g. {unknown[0]!r}"
        )


@transaction.atomic
def embeddings_import(*, corpus: Corpus, keys: list[str], vectors: np.ndarray, spans: dict[str, ShotSpan]) -> int:
    """Import every shot or none. Vectors are L2-normalised; a video already in the corpus gets its
    shots replaced. Returns the number of shots written."""
    validate(keys, vectors, spans, dim=corpus.dim)
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    by_video: dict[str, list[int]] = defaultdict(list)
    for row, key in enumerate(keys):
        by_video[spans[key].video].append(row)
    bulk = hnsw_index_rebuilt_after(corpus) if len(keys) >= BULK_ROWS else nullcontext()
    with bulk:
        _write_videos(corpus, keys, vectors, spans, by_video)
    return len(keys)


def _write_videos(corpus, keys, vectors, spans, by_video) -> None:
    for video_key, rows in by_video.items():
        rows.sort(key=lambda r: spans[keys[r]].start_frame)
        video, _ = Video.objects.update_or_create(
            corpus=corpus, source=video_key, defaults={"title": video_key, "status": Video.Status.DONE, "progress": 100}
        )
        shots = [
            ShotRecord(
                start_frame=spans[keys[r]].start_frame,
                end_frame=spans[keys[r]].end_frame,
                start_s=spans[keys[r]].start_s,
                end_s=spans[keys[r]].end_s,
            )
            for r in rows
        ]
        shots_replace(video=video, shots=shots, vectors=vectors[rows])


def load_files(embeddings: str, *, keys_path: str | None, shots_path: str) -> tuple[list[str], np.ndarray, dict]:
    try:
        keys, vectors = read_embeddings(embeddings, keys_path=keys_path)
    except (ValueError, KeyError, OSError) as exc:
        raise EmbeddingImportError(str(exc)) from exc
    return keys, vectors, read_shot_table(shots_path)
