"""A two-project world for the REST API tests: project A on an embedded corpus (the test CLIP model, so
text search works) with one user per role, a trained and published version and a webhook; project B on
another corpus, managed by the outsider. Every user has a personal API token."""

from dataclasses import dataclass, field

import numpy as np
from rest_framework.test import APIClient

from annotation import tokens, training, webhooks
from annotation.models import Label, Membership, Role
from annotation.services import label_set, version_publish
from models_app.embedding import TEST_MODEL_NAME
from models_app.services import ShotRecord, corpus_create, shots_replace
from tests.factories import UserFactory, VideoFactory, make_project

PEOPLE = ["viewer", "annotator", "reviewer", "manager", "staff", "outsider"]
# Service accounts (project-scoped users with a service token): (project, role, token scope). "service-read"
# has a read-only token; "service-other" belongs to project B.
SERVICE_ACCOUNTS = {
    "service-read": ("A", Role.REVIEWER, "read"),
    "service-annotator": ("A", Role.ANNOTATOR, "write"),
    "service-other": ("B", Role.REVIEWER, "write"),
}
ROLES = PEOPLE + list(SERVICE_ACCOUNTS)
# Expected outcome per kind of action and role: "ok", 403 or 404 (same as tests/test_permissions.py).
SERVICE = {"service-other": 404}
MATRIX = {
    "view": {"viewer": "ok", "annotator": "ok", "reviewer": "ok", "manager": "ok", "staff": "ok", "outsider": 404}
    | {"service-read": "ok", "service-annotator": "ok"}
    | SERVICE,
    "label": {"viewer": 403, "annotator": "ok", "reviewer": "ok", "manager": "ok", "staff": "ok", "outsider": 404}
    | {"service-read": 403, "service-annotator": "ok"}
    | SERVICE,
    "manage": {"viewer": 403, "annotator": 403, "reviewer": 403, "manager": "ok", "staff": "ok", "outsider": 404}
    | {"service-read": 403, "service-annotator": 403}
    | SERVICE,
}


def embedded_corpus(name: str, n: int, dim: int = 64, seed: int = 0, model: str = TEST_MODEL_NAME, corpus=None):
    """A corpus of n shots with a planted concept along axis 0 (create every corpus of a test before
    filling any: CREATE INDEX refuses to run after rows with deferred foreign keys)."""
    rng = np.random.default_rng(seed)
    truth = rng.random(n) < 0.3
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    vectors[:, 0] += np.where(truth, 2.5, -2.5)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    corpus = corpus or corpus_create(name=name, embedding_model=model, dim=dim, is_test_model=True)
    video = VideoFactory(corpus=corpus)
    records = [ShotRecord(start_frame=i, end_frame=i + 1, start_s=i, end_s=i + 1) for i in range(n)]
    shot_ids = np.array(shots_replace(video=video, shots=records, vectors=vectors))
    return corpus, video, shot_ids, truth, vectors


def train_and_publish(project, labeler, shot_ids, truth, n_each=4):
    for shot_id in shot_ids[truth][:n_each]:
        label_set(user=labeler, project_id=project.id, shot_id=int(shot_id), value="positive")
    for shot_id in shot_ids[~truth][:n_each]:
        label_set(user=labeler, project_id=project.id, shot_id=int(shot_id), value="negative")
    version = training.retrain_run(project.id)
    return version_publish(user=project.created_by, project_id=project.id, version_id=version.id)


@dataclass
class ApiWorld:
    project: object
    other_project: object
    video: object
    other_video: object
    shot_ids: np.ndarray
    truth: np.ndarray
    vectors: np.ndarray
    shot: int
    other_shot: int
    version: object
    other_version: object
    other_label: object
    webhook: object
    other_webhook: object
    users: dict
    tokens: dict = field(default_factory=dict)  # role → raw token

    def client(self, role: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.tokens[role]}")
        return client


def build_api_world() -> ApiWorld:
    """Test modules wrap this in their own `api_world` fixture (with `db`)."""
    users = {role: UserFactory(username=role) for role in PEOPLE if role != "staff"}
    users["staff"] = UserFactory(username="staff", is_staff=True)
    corpus_b = corpus_create(name="B", embedding_model=TEST_MODEL_NAME, dim=64, is_test_model=True)
    corpus, video, shot_ids, truth, vectors = embedded_corpus("A", 300)
    project = make_project(corpus, users["manager"], "project A")
    for role in (Role.REVIEWER, Role.ANNOTATOR, Role.VIEWER):
        Membership.objects.create(project=project, user=users[role.value], role=role)
    version = train_and_publish(project, users["annotator"], shot_ids, truth)
    other_corpus, other_video, other_ids, other_truth, _ = embedded_corpus("B", 60, seed=1, corpus=corpus_b)
    other_project = make_project(other_corpus, users["outsider"], "project B")
    other_version = train_and_publish(other_project, users["outsider"], other_ids, other_truth, n_each=3)
    webhook = webhooks.webhook_create(actor=users["manager"], project_id=project.id, url="http://127.0.0.1:9/a")
    other_webhook = webhooks.webhook_create(
        actor=users["outsider"], project_id=other_project.id, url="http://127.0.0.1:9/b"
    )
    world = ApiWorld(
        project=project,
        other_project=other_project,
        video=video,
        other_video=other_video,
        shot_ids=shot_ids,
        truth=truth,
        vectors=vectors,
        shot=int(shot_ids[-1]),
        other_shot=int(other_ids[-1]),
        version=version,
        other_version=other_version,
        other_label=Label.objects.filter(project=other_project).first(),
        webhook=webhook.webhook,
        other_webhook=other_webhook.webhook,
        users=users,
    )
    for role, user in list(users.items()):
        world.tokens[role] = tokens.token_create(user=user, name=f"{role} token").secret
    for role, (which, member_role, scope) in SERVICE_ACCOUNTS.items():
        owner, on = (users["manager"], project) if which == "A" else (users["outsider"], other_project)
        issued = tokens.service_token_create(actor=owner, project_id=on.id, name=role, role=member_role, scope=scope)
        users[role], world.tokens[role] = issued.token.user, issued.secret
    return world
