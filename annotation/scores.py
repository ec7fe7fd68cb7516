"""Reads of a project's classifier outputs: the feeds of the latest version, search results scoped to
the project, and the published version's scores (one shot, top-k, above a threshold)."""

from dataclasses import dataclass

import numpy as np

from annotation import overlap
from annotation.access import CAN_VIEW, access_project
from annotation.errors import NotFound
from annotation.models import ClassifierVersion, Label
from annotation.shot_scores import latest_version, version_probabilities
from models_app import learning, search
from models_app.matrix_store import matrix_for
from models_app.models import ShotEmbedding

FEED_PAGE_MAX = 100
FEED_NAMES = (*learning.FEED_NAMES, overlap.OVERLAP_FEED)  # the model's four feeds + the overlap feed


@dataclass(frozen=True)
class ScoredShot:
    shot_id: int
    score: float  # probability of the positive class (feeds, published scores) or cosine similarity (search)
    rank: int  # 1-based position in the feed or result list


def labeled_shot_ids(project_id: int) -> list[int]:
    return list(Label.objects.filter(project_id=project_id).values_list("shot_id", flat=True).distinct())


def feed_page(
    *, user, project_id: int, feed: str, offset: int = 0, limit: int = 24
) -> tuple[ClassifierVersion | None, list[ScoredShot]]:
    """A page of one feed of the latest ready version, without shots labeled since it was trained.

    Ranks stay those of the stored feed, so pagination is stable while labels come in. Labeled shots
    are routed by `annotation.overlap`: a shot the user labeled never comes back to them; one in the
    overlap sample stays visible to others until it has enough annotators.

    The "overlap" feed holds the shots open to this user for overlap (labeled by others), in sample
    order; it works before any model exists (score 0.5 then: no model, no opinion).
    """
    project, _ = access_project(user, project_id, allowed=CAN_VIEW)
    if feed not in FEED_NAMES:
        raise NotFound(f"no feed {feed!r}")
    if not (offset >= 0 and 0 < limit <= FEED_PAGE_MAX):
        raise ValueError(f"limit must be 1…{FEED_PAGE_MAX} and offset ≥ 0")
    version = latest_version(project.id)
    if feed == overlap.OVERLAP_FEED:
        ids = list(overlap.routing_for(project.id, user.id).open[offset : offset + limit])
        probabilities = version_probabilities(version, ids) if version else {}
        return version, [
            ScoredShot(shot_id=sid, score=probabilities.get(sid, 0.5), rank=offset + i) for i, sid in enumerate(ids, 1)
        ]
    if version is None:
        return None, []
    stored = version.feeds.get(feed, {"shot_ids": [], "scores": []})
    ids, logits = stored["shot_ids"], np.asarray(stored["scores"], dtype=np.float32)
    probabilities = learning.sigmoid(logits) if len(logits) else logits
    hidden = overlap.routing_for(project.id, user.id, shot_ids=ids).hidden
    fresh = [
        (rank, sid, float(p))
        for rank, (sid, p) in enumerate(zip(ids, probabilities, strict=True), 1)
        if sid not in hidden
    ]
    return version, [ScoredShot(shot_id=sid, score=p, rank=rank) for rank, sid, p in fresh[offset : offset + limit]]


def project_search(
    *,
    user,
    project_id: int,
    text: str = "",
    similar_to: int | None = None,
    offset: int = 0,
    limit: int = 24,
    exclude_labeled: bool = True,
) -> list[ScoredShot]:
    """Zero-shot text search, or "more like this" from a shot, over the project's corpus."""
    project, _ = access_project(user, project_id, allowed=CAN_VIEW)
    exclude = sorted(overlap.routing_for(project.id, user.id).hidden) if exclude_labeled else []
    if similar_to is not None:
        if not ShotEmbedding.objects.filter(shot_id=similar_to, corpus_id=project.corpus_id).exists():
            raise NotFound("shot not found in this project's corpus")
        hits = search.similar_search(
            corpus=project.corpus, shot_id=similar_to, limit=limit, offset=offset, exclude_shot_ids=exclude
        )
    else:
        hits = search.text_search(
            corpus=project.corpus, text=text, limit=limit, offset=offset, exclude_shot_ids=exclude
        )
    return [ScoredShot(shot_id=h.shot_id, score=h.similarity, rank=offset + i) for i, h in enumerate(hits, 1)]


def published_version(*, user, project_id: int) -> ClassifierVersion:
    project, _ = access_project(user, project_id, allowed=CAN_VIEW)
    version = ClassifierVersion.objects.filter(project=project, published=True).first()
    if version is None:
        raise NotFound("this project has no published version")
    return version


def _published_scores(user, project_id: int) -> tuple[ClassifierVersion, np.ndarray, np.ndarray]:
    version = published_version(user=user, project_id=project_id)
    matrix = matrix_for(version.project.corpus_id)
    logits = learning.score_matrix(matrix.vectors, np.asarray(version.weights, dtype=np.float32), version.bias)
    return version, matrix.shot_ids, logits


def published_score(*, user, project_id: int, shot_id: int) -> float:
    """Probability that the shot is positive, under the published version."""
    version = published_version(user=user, project_id=project_id)
    embedding = ShotEmbedding.objects.filter(shot_id=shot_id, corpus_id=version.project.corpus_id).first()
    if embedding is None:
        raise NotFound("shot not found in this project's corpus")
    logit = float(
        np.dot(np.asarray(embedding.vector, dtype=np.float32), np.asarray(version.weights, dtype=np.float32))
        + version.bias
    )
    return float(learning.sigmoid(np.array([logit], dtype=np.float32))[0])


def published_top_k(*, user, project_id: int, k: int) -> list[ScoredShot]:
    """The k highest-scoring shots of the corpus under the published version, best first."""
    if k <= 0:
        raise ValueError("k must be positive")
    _version, shot_ids, logits = _published_scores(user, project_id)
    k = min(k, len(logits))
    top = np.argpartition(-logits, k - 1)[:k] if k < len(logits) else np.arange(len(logits))
    top = top[np.lexsort((shot_ids[top], -logits[top]))]
    probabilities = learning.sigmoid(logits[top])
    return [
        ScoredShot(int(shot_ids[i]), float(p), rank)
        for rank, (i, p) in enumerate(zip(top, probabilities, strict=True), 1)
    ]


def published_above(*, user, project_id: int, threshold: float) -> list[ScoredShot]:
    """Every shot whose probability under the published version is ≥ threshold, best first."""
    if not 0.0 < threshold < 1.0:
        raise ValueError("threshold must be a probability strictly between 0 and 1")
    _version, shot_ids, logits = _published_scores(user, project_id)
    cut = np.float32(np.log(threshold / (1 - threshold)))
    rows = np.flatnonzero(logits >= cut)
    rows = rows[np.lexsort((shot_ids[rows], -logits[rows]))]
    probabilities = learning.sigmoid(logits[rows])
    return [
        ScoredShot(int(shot_ids[i]), float(p), rank)
        for rank, (i, p) in enumerate(zip(rows, probabilities, strict=True), 1)
    ]
