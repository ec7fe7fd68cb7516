"""A classifier version's scores for a few shots, from their stored vectors (no corpus matrix, no search
stack: pages that show a handful of scored shots import this without loading the embedding models)."""

import numpy as np

from annotation.models import ClassifierVersion
from models_app import learning
from models_app.matrix_store import matrix_for
from models_app.models import ShotEmbedding


def latest_version(project_id: int) -> ClassifierVersion | None:
    return ClassifierVersion.objects.filter(project_id=project_id, status=ClassifierVersion.Status.READY).first()


# Above this many shots, vectors come from the corpus matrix snapshot (memory-mapped, shared with the
# workers) instead of PostgreSQL, whose vector parsing costs ~0.1 ms a row.
MATRIX_MIN_SHOTS = 200


def version_probabilities(version: ClassifierVersion, shot_ids) -> dict[int, float]:
    """{shot id: probability of the positive class under `version`} for the shots that have a vector."""
    ids = np.fromiter(shot_ids, dtype=np.int64)
    if len(ids) == 0:
        return {}
    if len(ids) >= MATRIX_MIN_SHOTS:
        matrix = matrix_for(version.project.corpus_id)
        rows, found = matrix.lookup(ids)
        ids, vectors = ids[found], matrix.vectors[rows[found]]
    else:
        pairs = ShotEmbedding.objects.filter(shot_id__in=ids.tolist(), corpus_id=version.project.corpus_id)
        pairs = list(pairs.values_list("shot_id", "vector"))
        if not pairs:
            return {}
        ids = np.array([sid for sid, _ in pairs], dtype=np.int64)
        vectors = np.stack([np.asarray(v, dtype=np.float32) for _, v in pairs])
    logits = learning.score_matrix(vectors, np.asarray(version.weights, dtype=np.float32), version.bias)
    return dict(zip(ids.tolist(), learning.sigmoid(logits).tolist(), strict=True))
