"""Scoring the corpus with a linear probe: one float32 matrix-vector product.

Logits (w·x + b) are what feeds rank by; `sigmoid` turns them into probabilities for display and the API.

Threads: a matrix-vector product is memory-bound. On this 2-core machine 1M × 512 took the same time with
one OpenBLAS thread as with two, while two threads had a much worse p90 whenever other processes were
busy (spin-waiting threads), and a Celery prefork worker pool already runs one process per core. So BLAS is
held to one thread while scoring (and while training, probe.py) unless the caller asks for more.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from functools import lru_cache

import numpy as np
from threadpoolctl import ThreadpoolController

# Rows per BLAS call. One call over the whole matrix is as fast in memory, but chunks let a memory-mapped
# matrix be read in pieces and keep each call's working set bounded.
DEFAULT_CHUNK_ROWS = 262_144


def score_matrix(
    vectors: np.ndarray,
    weights: np.ndarray,
    bias: float = 0.0,
    *,
    out: np.ndarray | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    blas_threads: int | None = 1,
) -> np.ndarray:
    """Logits `vectors @ weights + bias` as float32 (n,), written into `out` when given (no temporaries).

    blas_threads: BLAS threads for the product (None: leave the process setting alone).
    """
    if vectors.ndim != 2:
        raise ValueError("vectors must be 2-d")
    n, d = vectors.shape
    w = np.ascontiguousarray(weights, dtype=np.float32).ravel()
    if w.shape != (d,):
        raise ValueError(f"weights have {w.shape[0]} dims, vectors {d}")
    if out is None:
        out = np.empty(n, dtype=np.float32)
    elif out.shape != (n,) or out.dtype != np.float32:
        raise ValueError("out must be a float32 array of shape (n,)")
    with blas_limit(blas_threads):
        for start in range(0, n, chunk_rows):
            stop = min(start + chunk_rows, n)
            # a float64 matrix would be upcast whole by np.dot: convert it chunk by chunk instead
            np.dot(np.asarray(vectors[start:stop], dtype=np.float32), w, out=out[start:stop])
    if bias:
        out += np.float32(bias)
    return out


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Probability of the positive class, float32, without overflow warnings for large |logit|."""
    z = np.asarray(logits, dtype=np.float32)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def blas_limit(threads: int | None) -> AbstractContextManager:
    """Context manager holding BLAS (OpenBLAS/MKL) to `threads` threads, process-wide, for its duration."""
    if threads is None:
        return nullcontext()
    return _controller().limit(limits=threads, user_api="blas")


@lru_cache(maxsize=1)
def _controller() -> ThreadpoolController:
    # Building the controller scans the loaded libraries (slow); limiting through it afterwards is ~0.1 ms.
    return ThreadpoolController()
