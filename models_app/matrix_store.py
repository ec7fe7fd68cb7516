"""The corpus matrix of each corpus, rebuilt from PostgreSQL when the corpus' vectors change.

Each process keeps the matrix it last used; the snapshot on disk (var/matrices/corpus_<id>) is
memory-mapped, so the worker processes of one machine share it through the page cache. The stamp is
`Corpus.vectors_version`, bumped in the same transaction as every change of the corpus' vectors.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from models_app.learning import CorpusMatrix, MatrixWriter, cluster_corpus, stored_version
from models_app.models import Corpus

logger = logging.getLogger(__name__)

N_CLUSTERS = 100  # VA-style coverage: clusters of the corpus that hold labels of both classes
_cache: dict[int, CorpusMatrix] = {}
_cache_lock = threading.Lock()


def matrix_dir(corpus_id: int) -> Path:
    return Path(settings.VAR_DIR) / "matrices" / f"corpus_{int(corpus_id)}"


def matrix_version(corpus: Corpus) -> str:
    """Changes with the vectors, and differs between two corpora that happen to share an id (a database
    recreated under the same var/ folder), so a snapshot on disk is never mistaken for another's."""
    return f"{corpus.created_at.timestamp():.6f}-v{corpus.vectors_version}"


def matrix_for(corpus_id: int) -> CorpusMatrix:
    """The current matrix of a corpus: from this process' cache, the shared snapshot, or rebuilt."""
    version = matrix_version(Corpus.objects.only("vectors_version", "created_at").get(pk=corpus_id))
    with _cache_lock:
        cached = _cache.get(corpus_id)
        if cached is not None and cached.version == version:
            return cached
        directory = matrix_dir(corpus_id)
        if stored_version(directory) != version:
            _rebuild(corpus_id, directory)
        matrix = CorpusMatrix.load(directory, mmap=True)
        if matrix.version != version:  # the corpus changed while we rebuilt: serve it, rebuild next time
            logger.info("corpus %s changed during the matrix rebuild", corpus_id)
        _cache[corpus_id] = matrix
        return matrix


def _rebuild(corpus_id: int, directory: Path) -> None:
    """Stream the vectors out of PostgreSQL (ordered by shot id) into a new snapshot, and cluster it.

    A file lock lets one process per machine rebuild while the others wait and then load its result.
    """
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".rebuild.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with transaction.atomic():
            # FOR SHARE: every write of vectors also updates the corpus row (vectors_version) before it
            # commits, so none can commit while we count and read: count and rows agree.
            corpus = Corpus.objects.raw(
                "SELECT id, dim, vectors_version, created_at FROM models_app_corpus WHERE id = %s FOR SHARE",
                [corpus_id],
            )[0]
            version = matrix_version(corpus)
            if stored_version(directory) == version:
                return
            n = corpus_vector_count(corpus_id)
            writer = MatrixWriter(directory, n=n, dim=corpus.dim, version=version)
            with writer:
                for ids, vectors in _vector_batches(corpus_id, corpus.dim):
                    writer.append(ids, vectors)
            writer.commit(keep=1)
    logger.info("rebuilt the matrix of corpus %s: %s vectors, %s", corpus_id, n, version)


def clusters_for(corpus_id: int, matrix: CorpusMatrix) -> np.ndarray:
    """Cluster of every row of `matrix` (k-means on a sample), cached on disk per matrix version.

    Computed off the critical path (by the metrics task), never during a retrain.
    """
    path = matrix_dir(corpus_id) / f"clusters-{matrix.version}.npy"
    if path.exists():
        clusters = np.load(path)
        if len(clusters) == matrix.n:
            return clusters
    clusters = cluster_corpus(matrix.vectors, n_clusters=N_CLUSTERS).assignments
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, clusters)
    tmp.replace(path)
    for old in path.parent.glob("clusters-*.npy"):
        if old != path:
            old.unlink(missing_ok=True)
    return clusters


def corpus_vector_count(corpus_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM models_app_shotembedding WHERE corpus_id = %s", [corpus_id])
        return int(cursor.fetchone()[0])


def _vector_batches(corpus_id: int, dim: int, batch: int = 20_000):
    """(shot ids, vectors) in shot-id order, through a server-side cursor.

    Vectors travel in pgvector's binary form (vector_send: int16 dim, int16 unused, big-endian
    float32s) and are decoded a batch at a time with one np.frombuffer.
    """
    with connection.connection.cursor(name=f"matrix_{corpus_id}") as cursor:
        cursor.itersize = batch
        cursor.execute(
            "SELECT shot_id, vector_send(vector) FROM models_app_shotembedding WHERE corpus_id = %s ORDER BY shot_id",
            [corpus_id],
        )
        while rows := cursor.fetchmany(batch):
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            raw = np.frombuffer(b"".join(bytes(r[1]) for r in rows), dtype=">f4").reshape(len(rows), dim + 1)
            yield ids, raw[:, 1:].astype(np.float32)
