"""The published version's scores as the API serves them: which version, how many shots, which rows."""

from dataclasses import dataclass

from annotation import scores
from annotation.models import ClassifierVersion


@dataclass(frozen=True)
class PublishedScores:
    version: ClassifierVersion
    count: int
    results: list[scores.ScoredShot]


def top_k(*, user, project_id: int, k: int) -> PublishedScores:
    version = scores.published_version(user=user, project_id=project_id)
    results = scores.published_top_k(user=user, project_id=project_id, k=k)
    return PublishedScores(version=version, count=len(results), results=results)


def above(*, user, project_id: int, threshold: float, limit: int) -> PublishedScores:
    version = scores.published_version(user=user, project_id=project_id)
    results = scores.published_above(user=user, project_id=project_id, threshold=threshold)
    return PublishedScores(version=version, count=len(results), results=results[:limit])


def one(*, user, project_id: int, shot_id: int) -> tuple[ClassifierVersion, float]:
    version = scores.published_version(user=user, project_id=project_id)
    return version, scores.published_score(user=user, project_id=project_id, shot_id=shot_id)
