"""A classifier version's scores for a few shots, from their stored vectors (no corpus matrix, no search
stack: pages that show a handful of scored shots import this without loading the embedding models)."""

import numpy as np

from annotation.models import ClassifierVersion
from models_app import learning
from models_app.models import ShotEmbedding


def latest_version(project_id: int) -> ClassifierVersion | None:
    return ClassifierVersion.objects.filter(project_id=project_id, status=ClassifierVersion.Status.READY).first()


def version_probabilities(version: ClassifierVersion, shot_ids) -> dict[int, float]:
    """{shot id: probability of the positive class under `version`} for the shots that have a vector."""
    rows = list(
        ShotEmbedding.objects.filter(shot_id__in=list(shot_ids), corpus_id=version.project.corpus_id).values_list(
            "shot_id", "vector"
        )
    )
    if not rows:
        return {}
    vectors = np.asarray([np.asarray(v, dtype=np.float32) for _, v in rows])
    logits = learning.score_matrix(vectors, np.asarray(version.weights, dtype=np.float32), version.bias)
    return {sid: float(p) for (sid, _), p in zip(rows, learning.sigmoid(logits), strict=True)}
