"""Streamed exports: the published version's scores over the whole catalog, and a project's labels.

Both authorize eagerly (so a refusal is a normal 403/404 before any byte is sent) and then return an
iterator of byte chunks whose memory does not grow with the catalog:

- scores: the memory-mapped corpus matrix is scored CHUNK_ROWS rows at a time (one BLAS call) and each
  chunk is formatted by numpy into one bytes object (no per-row Python);
- labels: keyset pages of LABEL_PAGE rows (id > last), one query each, so no cursor stays open.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from annotation import scores, training
from annotation.access import CAN_VIEW, access_project
from annotation.models import ClassifierVersion, Label
from models_app import learning
from models_app.matrix_store import matrix_for

CHUNK_ROWS = 65_536
LABEL_PAGE = 5_000
SCORE_FORMATS = ("csv", "jsonl")
LABEL_FORMATS = ("csv", "jsonl", "va")
SCORE_DECIMALS = 6


# --- numpy formatting (pure) -----------------------------------------------------------------------


def _int_columns(values: np.ndarray) -> np.ndarray:
    """(n, w) uint8 ASCII digits of non-negative ints, right-aligned; leading zeros become NUL (dropped)."""
    values = np.asarray(values, dtype=np.int64)
    width = len(str(int(values.max()))) if len(values) else 1
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    digits = ((values[:, None] // powers) % 10 + 48).astype(np.uint8)
    digits[(values[:, None] < powers) & (powers > 1)] = 0
    return digits


def _fraction_columns(probabilities: np.ndarray, decimals: int = SCORE_DECIMALS) -> np.ndarray:
    """(n, decimals + 2) uint8 ASCII of probabilities in [0, 1] as fixed-point "d.dddddd"."""
    scale = 10**decimals
    q = np.rint(np.asarray(probabilities, dtype=np.float64) * scale).astype(np.int64)
    q = np.clip(q, 0, scale)
    whole = (q // scale + 48).astype(np.uint8)[:, None]
    powers = 10 ** np.arange(decimals - 1, -1, -1, dtype=np.int64)
    fraction = (((q % scale)[:, None] // powers) % 10 + 48).astype(np.uint8)
    dot = np.full((len(q), 1), ord("."), dtype=np.uint8)
    return np.hstack([whole, dot, fraction])


def _constant(text: str, n: int) -> np.ndarray:
    return np.broadcast_to(np.frombuffer(text.encode(), dtype=np.uint8), (n, len(text)))


def format_scores(shot_ids: np.ndarray, probabilities: np.ndarray, fmt: str) -> bytes:
    """Rows `shot_id,score` (csv) or `{"shot_id":…,"score":…}` (jsonl), one per line, as one bytes object."""
    n = len(shot_ids)
    if n == 0:
        return b""
    ids, probs = _int_columns(shot_ids), _fraction_columns(probabilities)
    if fmt == "csv":
        parts = [ids, _constant(",", n), probs, _constant("\n", n)]
    elif fmt == "jsonl":
        parts = [_constant('{"shot_id":', n), ids, _constant(',"score":', n), probs, _constant("}\n", n)]
    else:
        raise ValueError(f"format must be one of {', '.join(SCORE_FORMATS)}")
    rows = np.hstack(parts).ravel()
    return rows[rows != 0].tobytes()


# --- score export ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    chunks: Iterator[bytes]
    content_type: str
    filename: str
    rows: int | None
    version: ClassifierVersion | None = None


CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson", "va": "application/json"}


def published_scores_export(*, user, project_id: int, fmt: str = "csv", chunk_rows: int | None = None) -> Export:
    """Every shot of the corpus with its probability under the published version, in shot-id order."""
    chunk_rows = chunk_rows or CHUNK_ROWS
    if fmt not in SCORE_FORMATS:
        raise ValueError(f"format must be one of {', '.join(SCORE_FORMATS)}")
    version = scores.published_version(user=user, project_id=project_id)
    matrix = matrix_for(version.project.corpus_id)
    weights = np.asarray(version.weights, dtype=np.float32)
    bias = float(version.bias)

    def chunks() -> Iterator[bytes]:
        if fmt == "csv":
            yield b"shot_id,score\n"
        out = np.empty(chunk_rows, dtype=np.float32)
        for start in range(0, matrix.n, chunk_rows):
            stop = min(start + chunk_rows, matrix.n)
            logits = learning.score_matrix(matrix.vectors[start:stop], weights, bias, out=out[: stop - start])
            yield format_scores(matrix.shot_ids[start:stop], learning.sigmoid(logits), fmt)

    return Export(
        chunks=chunks(),
        content_type=CONTENT_TYPES[fmt],
        filename=f"project-{project_id}-v{version.number}-scores.{fmt}",
        rows=matrix.n,
        version=version,
    )


# --- label export ----------------------------------------------------------------------------------

LABEL_COLUMNS = ("id", "shot_id", "user", "value", "is_review", "version", "updated_at")


def _label_pages(project_id: int, filters: dict) -> Iterator[list[tuple]]:
    last = 0
    rows = Label.objects.filter(project_id=project_id, **filters).order_by("id")
    fields = ("id", "shot_id", "user__username", "value", "is_review", "version", "updated_at")
    while page := list(rows.filter(id__gt=last).values_list(*fields)[:LABEL_PAGE]):
        last = page[-1][0]
        yield page


def _csv_cell(value) -> str:
    if hasattr(value, "isoformat"):
        text = value.isoformat()
    else:
        text = str(value).lower() if isinstance(value, bool) else str(value)
    if any(c in text for c in ',"\n\r'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def labels_export(*, user, project_id: int, fmt: str = "csv", value: str | None = None) -> Export:
    """The project's current labels (one row per annotator and shot), or VA's consensus {"pos", "neg"}."""
    if fmt not in LABEL_FORMATS:
        raise ValueError(f"format must be one of {', '.join(LABEL_FORMATS)}")
    project, _ = access_project(user, project_id, allowed=CAN_VIEW)
    filters = {"value": value} if value else {}
    name = f"project-{project.id}-labels.{'json' if fmt == 'va' else fmt}"

    def chunks() -> Iterator[bytes]:
        if fmt == "va":
            shot_ids, y = learning.consensus_arrays(training.training_votes(project.id))
            pos, neg = shot_ids[y].tolist(), shot_ids[~y].tolist()
            yield json.dumps({"pos": pos, "neg": neg}, separators=(",", ":")).encode()
            return
        if fmt == "csv":
            yield (",".join(LABEL_COLUMNS) + "\n").encode()
        for page in _label_pages(project.id, filters):
            if fmt == "csv":
                yield "".join(",".join(_csv_cell(c) for c in row) + "\n" for row in page).encode()
            else:
                yield "".join(
                    json.dumps(dict(zip(LABEL_COLUMNS, row, strict=True)), default=str, separators=(",", ":")) + "\n"
                    for row in page
                ).encode()

    return Export(chunks=chunks(), content_type=CONTENT_TYPES[fmt], filename=name, rows=None)
