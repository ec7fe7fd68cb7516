"""The REST API's permission matrix: every endpoint × every role (token auth), and other projects' objects
reached through this project's URLs (always 404, never a hint)."""

import pytest

from annotation import tokens
from annotation.models import Label
from annotation.services import label_set
from tests.api_support import MATRIX, ROLES, build_api_world


@pytest.fixture
def api_world(db):
    return build_api_world()


V1 = "/api/v1"


def own_label(world, role):
    """A label of the caller (so PATCH is allowed for labelers); others get the annotator's label."""
    user = world.users[role]
    if MATRIX["label"][role] == "ok":
        return label_set(user=user, project_id=world.project.id, shot_id=world.shot, value="negative").label
    return Label.objects.filter(project=world.project).first()


def fresh_service_token(world) -> int:
    """A service account of project A made for this call (revoking it must not disturb the caller's own)."""
    return tokens.service_token_create(actor=world.users["manager"], project_id=world.project.id, name="etl").token.id


# name → (kind of action, method, url(world), body(world, role) or None)
P = "{V1}/projects/{w.project.id}"
ENDPOINTS = {
    "corpus": ("view", "get", lambda w: f"{V1}/corpora/{w.project.corpus_id}/", None),
    "corpus videos": ("view", "get", lambda w: f"{V1}/corpora/{w.project.corpus_id}/videos/", None),
    "video": ("view", "get", lambda w: f"{V1}/videos/{w.video.id}/", None),
    "video shots": ("view", "get", lambda w: f"{V1}/videos/{w.video.id}/shots/", None),
    "shot": ("view", "get", lambda w: f"{V1}/shots/{w.shot}/", None),
    "project": ("view", "get", lambda w: f"{V1}/projects/{w.project.id}/", None),
    "members": ("view", "get", lambda w: f"{V1}/projects/{w.project.id}/members/", None),
    "search text": ("view", "get", lambda w: f"{V1}/projects/{w.project.id}/search/?text=a+car", None),
    "search similar": ("view", "get", lambda w: f"{V1}/projects/{w.project.id}/search/?similar_to={w.shot}", None),
    "labels": ("view", "get", lambda w: f"{V1}/projects/{w.project.id}/labels/?value=positive", None),
    "label": (
        "view",
        "get",
        lambda w: f"{V1}/projects/{w.project.id}/labels/{Label.objects.filter(project=w.project).first().id}/",
        None,
    ),
    "label export": ("view", "get", lambda w: f"{V1}/projects/{w.project.id}/labels/export/?format=va", None),
    "versions": ("view", "get", lambda w: f"{V1}/projects/{w.project.id}/versions/", None),
    "version": ("view", "get", lambda w: f"{V1}/projects/{w.project.id}/versions/{w.version.id}/", None),
    "scores top": ("view", "get", lambda w: f"{V1}/projects/{w.project.id}/scores/top/?k=3", None),
    "scores above": ("view", "get", lambda w: f"{V1}/projects/{w.project.id}/scores/above/?threshold=0.5", None),
    "score": ("view", "get", lambda w: f"{V1}/projects/{w.project.id}/scores/shots/{w.shot}/", None),
    "scores export": ("view", "get", lambda w: f"{V1}/projects/{w.project.id}/scores/export/?format=csv", None),
    "label create": (
        "label",
        "post",
        lambda w: f"{V1}/projects/{w.project.id}/labels/",
        lambda w, role: {"shot": w.shot, "value": "positive", "source": "top_positive", "rank": 3},
    ),
    "label update": (
        "label",
        "patch",
        None,  # built from own_label
        lambda w, role: {"value": "positive", "version": 1},
    ),
    "project edit": (
        "manage",
        "patch",
        lambda w: f"{V1}/projects/{w.project.id}/",
        lambda w, role: {"description": "new guidelines"},
    ),
    "member set": (
        "manage",
        "post",
        lambda w: f"{V1}/projects/{w.project.id}/members/",
        lambda w, role: {"user": w.users["viewer"].id, "role": "annotator"},
    ),
    "member remove": (
        "manage",
        "delete",
        lambda w: f"{V1}/projects/{w.project.id}/members/{w.users['viewer'].id}/",
        None,
    ),
    "publish": ("manage", "post", lambda w: f"{V1}/projects/{w.project.id}/versions/{w.version.id}/publish/", None),
    "service accounts": ("manage", "get", lambda w: f"{V1}/projects/{w.project.id}/service-accounts/", None),
    "service account create": (
        "manage",
        "post",
        lambda w: f"{V1}/projects/{w.project.id}/service-accounts/",
        lambda w, role: {"name": "etl", "role": "viewer"},
    ),
    "service account revoke": (
        "manage",
        "delete",
        lambda w: f"{V1}/projects/{w.project.id}/service-accounts/{fresh_service_token(w)}/",
        None,
    ),
    "webhooks": ("manage", "get", lambda w: f"{V1}/projects/{w.project.id}/webhooks/", None),
    "webhook create": (
        "manage",
        "post",
        lambda w: f"{V1}/projects/{w.project.id}/webhooks/",
        lambda w, role: {"url": "https://example.org/hook"},
    ),
    "webhook deliveries": (
        "manage",
        "get",
        lambda w: f"{V1}/projects/{w.project.id}/webhooks/{w.webhook.id}/deliveries/",
        None,
    ),
    "webhook delete": ("manage", "delete", lambda w: f"{V1}/projects/{w.project.id}/webhooks/{w.webhook.id}/", None),
}


def call(world, role, name):
    kind, method, url, body = ENDPOINTS[name]
    if name == "label update":
        url = lambda w: f"{V1}/projects/{w.project.id}/labels/{own_label(w, role).id}/"  # noqa: E731
    client = world.client(role)
    data = body(world, role) if body else None
    return getattr(client, method)(url(world), data, format="json") if data else getattr(client, method)(url(world))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", ENDPOINTS)
def test_endpoint_matrix(api_world, name, role):
    expected = MATRIX[ENDPOINTS[name][0]][role]
    response = call(api_world, role, name)
    if expected == "ok":
        assert 200 <= response.status_code < 300, (response.status_code, getattr(response, "data", None))
    else:
        assert response.status_code == expected
        assert response.json()["error"]["code"] == {403: "permission_denied", 404: "not_found"}[expected]


def test_video_upload_matrix(api_world, settings, tmp_path):
    """Managers of a project on the corpus (and staff) start ingest jobs; others are refused."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    url = f"{V1}/corpora/{api_world.project.corpus_id}/videos/"
    for role in ROLES:
        upload = SimpleUploadedFile(f"{role}.mp4", b"not really a video", content_type="video/mp4")
        response = api_world.client(role).post(url, {"file": upload}, format="multipart")
        expected = MATRIX["manage"][role]
        assert response.status_code == (201 if expected == "ok" else expected), role


def test_anonymous_requests_get_401_in_the_error_shape(api_world):
    from rest_framework.test import APIClient

    response = APIClient().get(f"{V1}/projects/{api_world.project.id}/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


OTHERS = {
    # what a manager of project A tries on project B's objects → always 404
    "other project": ("get", lambda w: f"{V1}/projects/{w.other_project.id}/", None),
    "other corpus": ("get", lambda w: f"{V1}/corpora/{w.other_project.corpus_id}/", None),
    "other video": ("get", lambda w: f"{V1}/videos/{w.other_video.id}/", None),
    "other video's shots": ("get", lambda w: f"{V1}/videos/{w.other_video.id}/shots/", None),
    "other shot": ("get", lambda w: f"{V1}/shots/{w.other_shot}/", None),
    "other shot's score": ("get", lambda w: f"{V1}/projects/{w.project.id}/scores/shots/{w.other_shot}/", None),
    "label on other shot": (
        "post",
        lambda w: f"{V1}/projects/{w.project.id}/labels/",
        lambda w: {"shot": w.other_shot, "value": "positive"},
    ),
    "other label": ("get", lambda w: f"{V1}/projects/{w.project.id}/labels/{w.other_label.id}/", None),
    "patch other label": (
        "patch",
        lambda w: f"{V1}/projects/{w.project.id}/labels/{w.other_label.id}/",
        lambda w: {"value": "negative", "version": 1},
    ),
    "other version": ("get", lambda w: f"{V1}/projects/{w.project.id}/versions/{w.other_version.id}/", None),
    "publish other version": (
        "post",
        lambda w: f"{V1}/projects/{w.project.id}/versions/{w.other_version.id}/publish/",
        None,
    ),
    "similar to other shot": ("get", lambda w: f"{V1}/projects/{w.project.id}/search/?similar_to={w.other_shot}", None),
    "other webhook": ("delete", lambda w: f"{V1}/projects/{w.project.id}/webhooks/{w.other_webhook.id}/", None),
    "other deliveries": (
        "get",
        lambda w: f"{V1}/projects/{w.project.id}/webhooks/{w.other_webhook.id}/deliveries/",
        None,
    ),
    "other's token": ("delete", lambda w: f"{V1}/tokens/{w.users['outsider'].api_tokens.first().id}/", None),
}


@pytest.mark.parametrize("name", OTHERS)
def test_other_projects_objects_are_not_found(api_world, name):
    method, url, body = OTHERS[name]
    client = api_world.client("manager")
    response = (
        getattr(client, method)(url(api_world), body(api_world), format="json")
        if body
        else getattr(client, method)(url(api_world))
    )
    assert response.status_code == 404, response.content
    assert response.json()["error"]["code"] == "not_found"


def test_lists_hold_only_the_callers_projects(api_world):
    client = api_world.client("manager")
    assert [p["id"] for p in client.get(f"{V1}/projects/").json()["results"]] == [api_world.project.id]
    assert [c["id"] for c in client.get(f"{V1}/corpora/").json()["results"]] == [api_world.project.corpus_id]
    labels = client.get(f"{V1}/projects/{api_world.project.id}/labels/?page_size=1000").json()["results"]
    assert labels and {row["project"] for row in labels} == {api_world.project.id}
    staff = api_world.client("staff")
    assert len(staff.get(f"{V1}/projects/").json()["results"]) == 2


@pytest.mark.parametrize("role", ROLES)
def test_project_creation_is_for_staff_and_holders_of_the_add_project_permission(api_world, role):
    from django.contrib.auth.models import Permission

    body = {"corpus": api_world.project.corpus_id, "name": f"new by {role}"}
    response = api_world.client(role).post(f"{V1}/projects/", body, format="json")
    if role == "staff":
        assert response.status_code == 201 and response.json()["name"] == body["name"]
        return
    assert response.status_code == 403, response.content  # no one else holds the permission yet
    assert response.json()["error"]["code"] == "permission_denied"
    if role.startswith("service"):
        return
    api_world.users[role].user_permissions.add(Permission.objects.get(codename="add_project"))
    again = api_world.client(role).post(f"{V1}/projects/", body, format="json")
    assert again.status_code == 201, again.content
    created = again.json()["id"]
    # the creator manages the new project
    members = api_world.client(role).get(f"{V1}/projects/{created}/members/").json()["results"]
    assert [(m["username"], m["role"]) for m in members] == [(role, "manager")]


@pytest.mark.parametrize("role", ROLES)
def test_personal_tokens_are_for_people_and_service_accounts_cannot_mint_them(api_world, role):
    client = api_world.client(role)
    listed = client.get(f"{V1}/tokens/")
    assert listed.status_code == 200
    created = client.post(f"{V1}/tokens/", {"name": "ci"}, format="json")
    if role.startswith("service"):
        # a read-scoped token may not write at all; a write-scoped service account may not mint tokens
        assert created.status_code == 403 and created.json()["error"]["code"] == "permission_denied"
    else:
        assert created.status_code == 201 and created.json()["token"].startswith("va_")
