"""Ground-truth readers for the simulator: embeddings, per-label positive/negative keys, zero-shot text vectors.

Embeddings (keys are strings, e.g. VA's "yt_id|frame_in"):
- `.npy` (n, d) + a CSV of keys, row-aligned: `keys_path`, or `<stem>.csv` / `keys.csv` / `shot-data.csv`
  beside the `.npy`;
- `.parquet`: a `key` column (or `yt_id` + `frame_in`) and either an `embedding` list column or one numeric
  column per dimension;
- `.h5` / `.hdf5`: either one dataset per shot named by its key (VA's released `embeddings.h5`), or a dataset
  `embeddings` (n, d) with keys from a `keys` dataset in the same file if present, else from `keys_path` or
  `shot-data.csv` beside it.
Key CSVs: a header with `key`, or with `yt_id` and `frame_in` (key = "yt_id|frame_in"); a headerless
single-column file is read as one key per line.

Labels: a folder of `{label}.json` (VA's `agg/`), each either `{"pos": [keys], "neg": [keys]}` or VA's agg
format `{"data": [{"key": …, "agg": true|false}, …]}`.
Zero-shot text vectors: JSON `{label: [floats]}` (VA's `text-embeddings.json`).
"""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabelSet:
    pos_rows: np.ndarray  # int64 rows of the embedding matrix
    neg_rows: np.ndarray


@dataclass(frozen=True, eq=False)
class GroundTruth:
    keys: list[str]
    vectors: np.ndarray  # float32 (n, d)
    labels: dict[str, LabelSet]
    text_embeddings: dict[str, np.ndarray]


def read_keys_csv(path: str | Path) -> list[str]:
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        return []
    header = [h.strip() for h in rows[0]]
    if "key" in header:
        col = header.index("key")
        return [r[col] for r in rows[1:]]
    if "yt_id" in header and "frame_in" in header:
        yt, fr = header.index("yt_id"), header.index("frame_in")
        return [f"{r[yt]}|{int(float(r[fr]))}" for r in rows[1:]]
    if len(header) == 1:
        return [r[0] for r in rows if r]
    raise ValueError(f"{path}: need a 'key' column, or 'yt_id' and 'frame_in' columns")


def read_embeddings(path: str | Path, *, keys_path: str | Path | None = None) -> tuple[list[str], np.ndarray]:
    """(keys, float32 (n, d) vectors) from .npy + CSV, Parquet or HDF5."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        vectors = np.load(path)
        keys = read_keys_csv(keys_path or _find_keys_file(path, (f"{path.stem}.csv", "keys.csv", "shot-data.csv")))
    elif suffix == ".parquet":
        keys, vectors = _read_parquet(path)
    elif suffix in (".h5", ".hdf5"):
        keys, vectors = _read_hdf5(path, keys_path)
    else:
        raise ValueError(f"unsupported embeddings file {path} (want .npy, .parquet, .h5)")
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(keys) != len(vectors):
        raise ValueError(f"{path}: {len(keys)} keys for vectors of shape {vectors.shape}")
    if len(set(keys)) != len(keys):
        raise ValueError(f"{path}: duplicate keys")
    return keys, vectors


def _find_keys_file(path: Path, names: tuple[str, ...]) -> Path:
    for name in names:
        candidate = path.with_name(name)
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"no keys file for {path}: pass keys_path or put one of {names} beside it")


def _read_parquet(path: Path) -> tuple[list[str], np.ndarray]:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    names = table.column_names
    if "key" in names:
        keys = [str(k) for k in table.column("key").to_pylist()]
        key_cols = {"key"}
    elif "yt_id" in names and "frame_in" in names:
        yt = table.column("yt_id").to_pylist()
        fr = table.column("frame_in").to_pylist()
        keys = [f"{a}|{int(b)}" for a, b in zip(yt, fr, strict=True)]
        key_cols = {"yt_id", "frame_in"}
    else:
        raise ValueError(f"{path}: need a 'key' column, or 'yt_id' and 'frame_in' columns")
    if "embedding" in names:
        col = table.column("embedding").combine_chunks()
        flat = col.flatten().to_numpy(zero_copy_only=False)
        vectors = flat.reshape(len(keys), -1)
    else:
        dims = [n for n in names if n not in key_cols]
        vectors = np.column_stack([table.column(n).to_numpy() for n in dims])
    return keys, vectors


def _read_hdf5(path: Path, keys_path: str | Path | None) -> tuple[list[str], np.ndarray]:
    import h5py

    with h5py.File(path, "r") as hf:
        if "embeddings" not in hf:
            # VA's released embeddings.h5: one dataset per shot, named "yt_id|frame_in", holding its vector.
            keys = sorted(hf.keys())
            vectors = np.stack([np.asarray(hf[k][()], dtype=np.float32).ravel() for k in keys]) if keys else None
            if vectors is None:
                raise ValueError(f"{path}: no embeddings in the file")
            return keys, vectors
        vectors = hf["embeddings"][:]
        keys = [k.decode() if isinstance(k, bytes) else str(k) for k in hf["keys"][:]] if "keys" in hf else None
    if keys is None:
        keys = read_keys_csv(keys_path or _find_keys_file(path, ("shot-data.csv", "keys.csv")))
    return keys, vectors


def read_label_file(path: str | Path) -> tuple[list[str], list[str]]:
    """(positive keys, negative keys) from `{"pos", "neg"}` or VA's agg `{"data": [{"key", "agg"}]}`."""
    data = json.loads(Path(path).read_text())
    if "pos" in data or "neg" in data:
        return list(data.get("pos", [])), list(data.get("neg", []))
    if "data" in data:
        pos = [d["key"] for d in data["data"] if d["agg"]]
        neg = [d["key"] for d in data["data"] if not d["agg"]]
        return pos, neg
    raise ValueError(f"{path}: expected {{'pos', 'neg'}} lists or VA's {{'data': [...]}}")


def read_labels_dir(directory: str | Path, labels: list[str] | None = None) -> dict[str, tuple[list[str], list[str]]]:
    directory = Path(directory)
    files = sorted(directory.glob("*.json"))
    if labels is not None:
        wanted = set(labels)
        files = [f for f in files if f.stem in wanted]
    return {f.stem: read_label_file(f) for f in files}


def read_text_embeddings(path: str | Path) -> dict[str, np.ndarray]:
    data = json.loads(Path(path).read_text())
    return {label: np.asarray(vec, dtype=np.float32).ravel() for label, vec in data.items()}


def load_ground_truth(
    embeddings: str | Path,
    labels_dir: str | Path,
    *,
    text_embeddings: str | Path | None = None,
    keys_path: str | Path | None = None,
    labels: list[str] | None = None,
) -> GroundTruth:
    """Everything the simulator needs; label keys missing from the embeddings, or both pos and neg, are dropped."""
    keys, vectors = read_embeddings(embeddings, keys_path=keys_path)
    texts = read_text_embeddings(text_embeddings) if text_embeddings else {}
    return ground_truth_from_keys(keys, vectors, read_labels_dir(labels_dir, labels), texts)


def ground_truth_from_keys(
    keys: list[str],
    vectors: np.ndarray,
    label_keys: dict[str, tuple[list[str], list[str]]],
    text_embeddings: dict[str, np.ndarray],
) -> GroundTruth:
    row_of = {k: i for i, k in enumerate(keys)}
    label_sets = {}
    for label, (pos, neg) in label_keys.items():
        conflicting = set(pos) & set(neg)
        pos_rows = [row_of[k] for k in dict.fromkeys(pos) if k in row_of and k not in conflicting]
        neg_rows = [row_of[k] for k in dict.fromkeys(neg) if k in row_of and k not in conflicting]
        dropped = len(set(pos) | set(neg)) - len(pos_rows) - len(neg_rows)
        if dropped:
            logger.warning("label %s: dropped %d keys (not embedded, or both pos and neg)", label, dropped)
        label_sets[label] = LabelSet(np.asarray(pos_rows, dtype=np.int64), np.asarray(neg_rows, dtype=np.int64))
    return GroundTruth(list(keys), np.ascontiguousarray(vectors, dtype=np.float32), label_sets, text_embeddings)
