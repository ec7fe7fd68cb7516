"""The label POST's hot path written without the ORM's per-call compilation (annotation/rows.py, the folded
label insert, ReusedFields) behaves exactly like the ORM code it replaced."""

import pytest
from rest_framework import serializers

from annotation import access, rows, tokens
from annotation.api.serializers import LabelCreateIn, LabelOut, ReusedFields
from annotation.errors import NotFound
from annotation.models import ApiToken, Label, LabelEvent, LabelSource, Role
from annotation.services import Provenance, label_set
from tests.api_support import build_api_world


@pytest.fixture
def api_world(db):
    return build_api_world()


def labels_url(world, project_id=None):
    return f"/api/v1/projects/{project_id or world.project.id}/labels/"


@pytest.mark.parametrize("project_id", [2**63, 10**30])
def test_project_ids_beyond_bigint_are_404_not_500(api_world, project_id):
    response = api_world.client("annotator").post(
        labels_url(api_world, project_id), {"shot": api_world.shot, "value": "positive"}, format="json"
    )
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_shots_outside_the_corpus_or_beyond_bigint_are_404_and_write_nothing(api_world):
    user = api_world.users["annotator"]
    before = (Label.objects.count(), LabelEvent.objects.count())
    for shot in (api_world.other_shot, 10**12):
        response = api_world.client("annotator").post(labels_url(api_world), {"shot": shot, "value": "positive"})
        assert response.status_code == 404, response.content
    with pytest.raises(NotFound):
        label_set(user=user, project_id=api_world.project.id, shot_id=2**64, value="positive")
    assert (Label.objects.count(), LabelEvent.objects.count()) == before


def test_a_new_label_and_its_event_read_back_as_written(api_world):
    user = api_world.users["reviewer"]
    provenance = Provenance(
        source=LabelSource.SEARCH, query="q", classifier_version_id=api_world.version.id, score=0.25, rank=3, page="p"
    )
    result = label_set(
        user=user, project_id=api_world.project.id, shot_id=api_world.shot, value="positive", provenance=provenance
    )
    stored_label = Label.objects.get(pk=result.label.pk)
    for field in ("project_id", "shot_id", "user_id", "value", "version", "is_review", "created_at", "updated_at"):
        assert getattr(result.label, field) == getattr(stored_label, field), field
    stored_event = LabelEvent.objects.get(pk=result.event.pk)
    for field in LabelEvent._meta.concrete_fields:
        assert getattr(result.event, field.attname) == getattr(stored_event, field.attname), field.name
    assert stored_event.created_at is not None and stored_event.label_id == stored_label.pk
    assert (stored_event.old_value, stored_event.new_value, stored_event.rank) == ("", "positive", 3)


def test_rows_insert_applies_defaults_and_auto_now_add_like_create(api_world):
    common = {"project_id": api_world.project.id, "shot_id": api_world.shot, "user": api_world.users["annotator"]}
    label = Label.objects.create(**common, value="unsure")
    fast = rows.insert(LabelEvent, **common, label=label, new_value="unsure")
    slow = LabelEvent.objects.create(**common, label=label, new_value="unsure")
    fast, slow = LabelEvent.objects.get(pk=fast.pk), LabelEvent.objects.get(pk=slow.pk)
    for field in LabelEvent._meta.concrete_fields:
        if field.attname not in ("id", "created_at"):
            assert getattr(fast, field.attname) == getattr(slow, field.attname), field.name
    assert fast.source == LabelSource.OTHER and fast.created_at <= slow.created_at


def test_token_lookup_loads_the_token_and_its_user_and_refuses_revoked_ones(api_world):
    raw = api_world.tokens["annotator"]
    token = tokens.token_authenticate(raw)
    assert token.user.username == "annotator" and token.user.is_active
    assert token == ApiToken.objects.get(pk=token.pk) and token.user == api_world.users["annotator"]
    assert isinstance(token.created_at, type(ApiToken.objects.get(pk=token.pk).created_at))
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=token.created_at)
    assert tokens.token_authenticate(raw) is None
    assert api_world.client("annotator").get(labels_url(api_world)).status_code == 401


def test_project_lookup_returns_the_project_its_corpus_and_the_role(api_world):
    project, role = access.access_project(api_world.users["reviewer"], api_world.project.id, lock=False)
    assert role == Role.REVIEWER and project == api_world.project
    assert project.corpus.name == api_world.project.corpus.name  # loaded with it, no lazy query needed
    staff_project, staff_role = access.access_project(api_world.users["staff"], api_world.other_project.id)
    assert staff_role == Role.MANAGER and staff_project == api_world.other_project
    with pytest.raises(NotFound):
        access.access_project(api_world.users["outsider"], api_world.project.id)


def test_reused_fields_give_each_serializer_its_own_bound_fields(api_world):
    first, second = LabelCreateIn(data={"shot": 1, "value": "positive"}), LabelCreateIn(data={"shot": "x"})
    assert first.is_valid() and not second.is_valid()
    assert set(second.errors) == {"shot", "value"} and first.validated_data["value"] == "positive"
    assert first.fields["shot"] is not second.fields["shot"] and first.fields["shot"].parent is first
    assert all(field.parent is None for field in LabelCreateIn._field_prototypes.values())  # prototypes stay unbound
    label = Label.objects.filter(project=api_world.project).first()
    assert LabelOut(label).data["username"] == label.user.username
    assert [row["id"] for row in LabelOut([label, label], many=True).data] == [label.id, label.id]


def test_reused_fields_refuse_nested_serializers():
    class Nested(ReusedFields, serializers.Serializer):
        inner = LabelCreateIn()

    with pytest.raises(TypeError, match="flat serializers only"):
        Nested(data={}).fields  # noqa: B018


def test_errors_outside_drf_keep_the_api_shape_under_api_and_html_elsewhere(api_world, client, monkeypatch):
    api = api_world.client("manager")
    unknown = api.get("/api/v1/no-such-thing/")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    assert "text/html" in client.get("/no-such-page/")["Content-Type"]
    bad_host = api.get(f"/api/v1/projects/{api_world.project.id}/", HTTP_HOST="evil.example")
    assert bad_host.status_code == 400 and bad_host.json()["error"]["code"] == "bad_request"

    from annotation import selectors

    def crash(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "project_get", crash)  # a fault injected to reach the 500 path
    api.raise_request_exception = False
    crashed = api.get(f"/api/v1/projects/{api_world.project.id}/")
    assert crashed.status_code == 500 and crashed.json()["error"]["code"] == "server_error"
    assert "boom" not in crashed.content.decode()  # no internals leak


@pytest.mark.parametrize("token", ["va_ab\x00cd_secret", "va_" + "f" * 40 + "_x", "va__x", "va_abc_"])
def test_malformed_bearer_tokens_are_401_not_500(api_world, token):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.get(labels_url(api_world))
    assert response.status_code == 401 and response.json()["error"]["code"] in {
        "authentication_failed",
        "not_authenticated",
    }
