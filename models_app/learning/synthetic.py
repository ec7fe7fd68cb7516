"""A synthetic corpus with planted concepts, for tests, benchmarks and `--synthetic` simulator runs.

Shots are unit vectors drawn around `n_clusters` random centres (like embeddings of a catalog: clumpy, not
isotropic). Each label plants a concept: a random unit direction u; the shots whose projection on u (plus
a little label noise) is in the top `prevalence` fraction are positive. Only `n_annotated` shots get ground
truth, as in VA's data. The label's "text embedding" is u blurred by noise, so zero-shot ranking is
informative but worse than a trained probe.
"""

from __future__ import annotations

import numpy as np

from .readers import GroundTruth, LabelSet


def unit_rows(x: np.ndarray) -> np.ndarray:
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return x


def clustered_vectors(n: int, dim: int, *, n_clusters: int = 20, spread: float = 0.8, seed: int = 0) -> np.ndarray:
    """(n, dim) float32 unit vectors around random centres, generated in chunks (fine for 1M × 512)."""
    rng = np.random.default_rng(seed)
    centres = unit_rows(rng.standard_normal((n_clusters, dim), dtype=np.float32))
    out = np.empty((n, dim), dtype=np.float32)
    chunk = 65_536
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        block = rng.standard_normal((stop - start, dim), dtype=np.float32)
        block *= np.float32(spread / np.sqrt(dim))
        block += centres[rng.integers(0, n_clusters, stop - start)]
        out[start:stop] = unit_rows(block)
    return out


def planted_labels(
    vectors: np.ndarray, direction: np.ndarray, *, prevalence: float, noise: float, rng: np.random.Generator
) -> np.ndarray:
    """Bool (n,): top `prevalence` of (x·u + noise·σ·ε), σ the spread of the projections."""
    proj = vectors @ direction
    proj = proj + noise * proj.std() * rng.standard_normal(len(proj)).astype(np.float32)
    return proj >= np.quantile(proj, 1.0 - prevalence)


def make_planted_dataset(
    n: int = 2_000, dim: int = 32, *, prevalence: float = 0.15, noise: float = 0.05, seed: int = 7
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X float32 (n, dim) clustered unit vectors, y bool planted linear concept, the concept's direction)."""
    rng = np.random.default_rng(seed)
    X = clustered_vectors(n, dim, n_clusters=8, seed=seed)
    direction = unit_rows(rng.standard_normal((1, dim)).astype(np.float32))[0]
    return X, planted_labels(X, direction, prevalence=prevalence, noise=noise, rng=rng), direction


def make_synthetic_ground_truth(
    *,
    n_shots: int = 20_000,
    dim: int = 64,
    labels: tuple[str, ...] = ("planted",),
    prevalence: float = 0.08,
    n_annotated: int = 3_000,
    n_clusters: int = 20,
    label_noise: float = 0.2,
    text_noise: float = 1.0,
    seed: int = 0,
) -> GroundTruth:
    rng = np.random.default_rng(seed)
    vectors = clustered_vectors(n_shots, dim, n_clusters=n_clusters, seed=seed)
    keys = [f"video{i // 50:05d}|{(i % 50) * 24}" for i in range(n_shots)]  # VA-style "yt_id|frame_in"
    label_sets, texts = {}, {}
    for label in labels:
        u = unit_rows(rng.standard_normal((1, dim)).astype(np.float32))[0]
        y = planted_labels(vectors, u, prevalence=prevalence, noise=label_noise, rng=rng)
        annotated = rng.choice(n_shots, size=min(n_annotated, n_shots), replace=False)
        label_sets[label] = LabelSet(
            pos_rows=np.sort(annotated[y[annotated]]).astype(np.int64),
            neg_rows=np.sort(annotated[~y[annotated]]).astype(np.int64),
        )
        blur = unit_rows(rng.standard_normal((1, dim)).astype(np.float32))[0]
        texts[label] = unit_rows((u + text_noise * blur)[None, :])[0]
    return GroundTruth(keys, vectors, label_sets, texts)
