"""The corpus matrix: every shot's embedding in one (n, d) float32 array, sorted by shot id.

Workers score a whole corpus with one matrix-vector product (DESIGN.md §5), so the matrix lives in memory or
in a memory-mapped `.npy` file that the worker processes share through the page cache. It is a cache: it is
rebuilt from PostgreSQL when the corpus changes, and its `version` (a fingerprint chosen by the caller, e.g.
"<corpus id>:<max shot id>:<count>") lets a worker tell that its copy is stale.

On-disk layout of a matrix directory::

    CURRENT                   {"snapshot": "snap-…", "version": "…"}, replaced atomically (os.replace)
    snap-<uuid>/shot_ids.npy  int64 (n,), strictly increasing
    snap-<uuid>/vectors.npy   float32 (n, d), C order
    snap-<uuid>/clusters.npy  int32 (n,), optional cluster index per row (coverage metrics)
    snap-<uuid>/meta.json     {"version", "n", "dim"}

A snapshot is written completely under a temporary name, renamed, and only then published by replacing
CURRENT, so a reader never sees a half-written pair. Old snapshots are deleted after publishing; on POSIX a
process that still has one memory-mapped keeps reading it until it reloads.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CURRENT_FILE = "CURRENT"
_SNAPSHOT_PREFIX = "snap-"
_TMP_PREFIX = ".tmp-"


@dataclass(frozen=True, eq=False)
class CorpusMatrix:
    """Shot ids (int64, strictly increasing) and their vectors (float32, C-contiguous), row-aligned."""

    shot_ids: np.ndarray
    vectors: np.ndarray
    version: str = ""
    clusters: np.ndarray | None = None

    def __post_init__(self) -> None:
        ids, vecs = self.shot_ids, self.vectors
        if ids.dtype != np.int64 or ids.ndim != 1:
            raise ValueError("shot_ids must be a 1-d int64 array")
        if vecs.dtype != np.float32 or vecs.ndim != 2 or not vecs.flags.c_contiguous:
            raise ValueError("vectors must be a C-contiguous 2-d float32 array")
        if len(ids) != len(vecs):
            raise ValueError(f"{len(ids)} shot ids but {len(vecs)} vectors")
        if len(ids) > 1 and not bool(np.all(ids[1:] > ids[:-1])):
            raise ValueError("shot_ids must be strictly increasing (use CorpusMatrix.from_arrays to sort)")
        if self.clusters is not None and self.clusters.shape != ids.shape:
            raise ValueError("clusters must hold one cluster index per row")

    @classmethod
    def from_arrays(
        cls,
        shot_ids: np.ndarray,
        vectors: np.ndarray,
        *,
        version: str = "",
        clusters: np.ndarray | None = None,
    ) -> CorpusMatrix:
        """Copies and sorts by shot id; rejects duplicate ids."""
        ids = np.asarray(shot_ids, dtype=np.int64).ravel()
        order = np.argsort(ids, kind="stable")
        ids = ids[order]
        if len(ids) > 1 and not bool(np.all(ids[1:] != ids[:-1])):
            raise ValueError("duplicate shot ids")
        vecs = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32)[order])
        clus = None if clusters is None else np.asarray(clusters, dtype=np.int32)[order]
        return cls(shot_ids=ids, vectors=vecs, version=version, clusters=clus)

    @property
    def n(self) -> int:
        return len(self.shot_ids)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def lookup(self, shot_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows of `shot_ids` and a mask of which were found (rows of missing ids are undefined)."""
        ids = np.asarray(shot_ids, dtype=np.int64).ravel()
        rows = np.searchsorted(self.shot_ids, ids)
        found = rows < self.n
        found[found] = self.shot_ids[rows[found]] == ids[found]
        return rows.astype(np.int64, copy=False), found

    def rows_for(self, shot_ids: np.ndarray) -> np.ndarray:
        """Row index of each shot id (binary search); KeyError names ids the matrix does not hold."""
        rows, found = self.lookup(shot_ids)
        if not bool(found.all()):
            missing = np.asarray(shot_ids, dtype=np.int64).ravel()[~found]
            raise KeyError(f"{len(missing)} shot id(s) not in the corpus matrix, e.g. {missing[:5].tolist()}")
        return rows

    def with_clusters(self, clusters: np.ndarray) -> CorpusMatrix:
        return CorpusMatrix(self.shot_ids, self.vectors, self.version, np.asarray(clusters, dtype=np.int32))

    # --- persistence -------------------------------------------------------------------------------------

    def save(self, directory: str | os.PathLike, *, keep: int = 1) -> Path:
        """Writes a new snapshot and publishes it atomically; returns the snapshot folder."""
        writer = MatrixWriter(directory, n=self.n, dim=self.dim, version=self.version)
        with writer:
            writer.append(self.shot_ids, self.vectors)
            if self.clusters is not None:
                writer.set_clusters(self.clusters)
        return writer.commit(keep=keep)

    @classmethod
    def load(cls, directory: str | os.PathLike, *, mmap: bool = True) -> CorpusMatrix:
        """Loads the published snapshot; with `mmap` the vectors stay in the page cache, shared by processes."""
        root = Path(directory)
        for attempt in range(3):
            current = _read_current(root)
            if current is None:
                raise FileNotFoundError(f"no corpus matrix published in {root}")
            try:
                return cls._load_snapshot(root / current["snapshot"], current["version"], mmap=mmap)
            except FileNotFoundError:
                if attempt == 2:  # a writer pruned the snapshot between our two reads: read CURRENT again
                    raise
        raise AssertionError("unreachable")

    @classmethod
    def _load_snapshot(cls, snap: Path, version: str, *, mmap: bool) -> CorpusMatrix:
        mode = "r" if mmap else None
        # shot ids are small (8 bytes a shot) and searched often: keep them in process memory.
        ids = np.array(np.load(snap / "shot_ids.npy", mmap_mode=mode))
        vecs = np.load(snap / "vectors.npy", mmap_mode=mode)
        clusters_path = snap / "clusters.npy"
        clusters = np.load(clusters_path) if clusters_path.exists() else None
        return cls(shot_ids=ids, vectors=vecs, version=version, clusters=clusters)


def stored_version(directory: str | os.PathLike) -> str | None:
    """Version stamp of the published matrix in `directory`, or None when none is published."""
    current = _read_current(Path(directory))
    return None if current is None else current["version"]


def is_stale(directory: str | os.PathLike, version: str) -> bool:
    """True when `directory` holds no matrix or one stamped with another version than `version`."""
    return stored_version(directory) != version


class MatrixWriter:
    """Streams rows into a new snapshot (e.g. from a server-side cursor ordered by shot id), then publishes.

    Rows must arrive in strictly increasing shot-id order and add up to exactly `n`; nothing is visible to
    readers before `commit()`. Used as a context manager, an exception aborts and removes the partial files.
    One writer at a time per directory (the caller serialises rebuilds, e.g. with a lock per corpus).
    """

    def __init__(self, directory: str | os.PathLike, *, n: int, dim: int, version: str) -> None:
        self.root = Path(directory)
        self.root.mkdir(parents=True, exist_ok=True)
        self.n, self.dim, self.version = int(n), int(dim), version
        self._tmp = self.root / f"{_TMP_PREFIX}{uuid.uuid4().hex}"
        self._tmp.mkdir()
        self._ids = np.lib.format.open_memmap(self._tmp / "shot_ids.npy", mode="w+", dtype=np.int64, shape=(n,))
        self._vecs = np.lib.format.open_memmap(self._tmp / "vectors.npy", mode="w+", dtype=np.float32, shape=(n, dim))
        self._filled = 0
        self._committed = False

    def __enter__(self) -> MatrixWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()

    def append(self, shot_ids: np.ndarray, vectors: np.ndarray) -> None:
        ids = np.asarray(shot_ids, dtype=np.int64).ravel()
        vecs = np.asarray(vectors, dtype=np.float32)
        if vecs.shape != (len(ids), self.dim):
            raise ValueError(f"expected vectors of shape ({len(ids)}, {self.dim}), got {vecs.shape}")
        start, end = self._filled, self._filled + len(ids)
        if end > self.n:
            raise ValueError(f"more than the announced {self.n} rows")
        previous = self._ids[start - 1] if start > 0 else None
        if not _strictly_increasing(ids, after=previous):
            raise ValueError("shot ids must arrive in strictly increasing order")
        self._ids[start:end] = ids
        self._vecs[start:end] = vecs
        self._filled = end

    def set_clusters(self, clusters: np.ndarray) -> None:
        clusters = np.asarray(clusters, dtype=np.int32)
        if clusters.shape != (self.n,):
            raise ValueError("clusters must hold one index per row")
        np.save(self._tmp / "clusters.npy", clusters)

    def commit(self, *, keep: int = 1) -> Path:
        """Publishes the snapshot, then deletes all but the `keep` newest snapshots."""
        if self._filled != self.n:
            raise ValueError(f"{self._filled} rows written, {self.n} announced")
        for arr in (self._ids, self._vecs):
            arr.flush()
        del self._ids, self._vecs
        (self._tmp / "meta.json").write_text(json.dumps({"version": self.version, "n": self.n, "dim": self.dim}))
        _fsync_dir_files(self._tmp)
        snap = self.root / f"{_SNAPSHOT_PREFIX}{uuid.uuid4().hex}"
        os.replace(self._tmp, snap)
        _write_atomic(self.root / CURRENT_FILE, json.dumps({"snapshot": snap.name, "version": self.version}))
        self._committed = True
        _prune(self.root, newest=snap.name, keep=keep)
        return snap

    def abort(self) -> None:
        if not self._committed:
            for attr in ("_ids", "_vecs"):
                self.__dict__.pop(attr, None)
            shutil.rmtree(self._tmp, ignore_errors=True)


def _strictly_increasing(ids: np.ndarray, *, after: np.int64 | None) -> bool:
    if len(ids) == 0:
        return True
    if after is not None and ids[0] <= after:
        return False
    return len(ids) == 1 or bool(np.all(ids[1:] > ids[:-1]))


def _read_current(root: Path) -> dict | None:
    try:
        return json.loads((root / CURRENT_FILE).read_text())
    except FileNotFoundError:
        return None


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f"{_TMP_PREFIX}{path.name}.{uuid.uuid4().hex}")
    with open(tmp, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _fsync_dir_files(folder: Path) -> None:
    for path in folder.iterdir():
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())


def _prune(root: Path, *, newest: str, keep: int) -> None:
    current = _read_current(root) or {}
    newest_mtime = (root / newest).stat().st_mtime
    older = sorted(
        (
            p
            for p in root.iterdir()
            if p.name.startswith(_SNAPSHOT_PREFIX)
            and p.name not in (newest, current.get("snapshot"))
            and p.stat().st_mtime <= newest_mtime
        ),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in older[max(keep - 1, 0) :]:
        shutil.rmtree(old, ignore_errors=True)
