"""Role × action matrix, through the services and through HTTP, including other projects' objects."""

import pytest

from annotation import selectors, services
from annotation.errors import NotFound, RoleRequired
from annotation.models import Label, Membership, Role

ROLES = ["viewer", "annotator", "reviewer", "manager", "staff", "outsider"]

# Expected outcome per action and role: "ok", 403 or 404.
MATRIX = {
    "view": {"viewer": "ok", "annotator": "ok", "reviewer": "ok", "manager": "ok", "staff": "ok", "outsider": 404},
    "label": {"viewer": 403, "annotator": "ok", "reviewer": "ok", "manager": "ok", "staff": "ok", "outsider": 404},
    "manage": {"viewer": 403, "annotator": 403, "reviewer": 403, "manager": "ok", "staff": "ok", "outsider": 404},
}
ERRORS = {403: RoleRequired, 404: NotFound}


def service_call(action, world, user):
    pid = world.project.id
    if action == "view":
        selectors.project_get(user=user, project_id=pid)
        list(selectors.shot_label_history(user=user, project_id=pid, shot_id=world.shot.id))
    elif action == "label":
        services.label_set(user=user, project_id=pid, shot_id=world.shot.id, value="positive")
    elif action == "manage":
        services.membership_set(actor=user, project_id=pid, user_id=world.users["viewer"].id, role="annotator")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", MATRIX)
def test_service_matrix(world, action, role):
    expected = MATRIX[action][role]
    if expected == "ok":
        service_call(action, world, world.users[role])
    else:
        with pytest.raises(ERRORS[expected]):
            service_call(action, world, world.users[role])


def http_call(client, action, world):
    pid = world.project.id
    if action == "view":
        return client.get(f"/projects/{pid}/")
    if action == "label":
        return client.post(
            f"/projects/{pid}/labels/", {"shot": world.shot.id, "value": "negative"}, HTTP_HX_REQUEST="true"
        )
    return client.post(f"/projects/{pid}/members/", {"username": "viewer", "role": "reviewer"})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", MATRIX)
def test_http_matrix(client, world, action, role):
    client.force_login(world.users[role])
    response = http_call(client, action, world)
    expected = MATRIX[action][role]
    if expected == "ok":
        assert response.status_code in (200, 302), response.content
    else:
        assert response.status_code == expected


def test_effects_of_allowed_http_writes(client, world):
    client.force_login(world.users["manager"])
    client.post(f"/projects/{world.project.id}/members/", {"username": "viewer", "role": "reviewer"})
    assert Membership.objects.get(project=world.project, user=world.users["viewer"]).role == Role.REVIEWER
    response = client.post(
        f"/projects/{world.project.id}/labels/", {"shot": world.shot.id, "value": "negative"}, HTTP_HX_REQUEST="true"
    )
    assert b"negative" in response.content
    assert Label.objects.get(user=world.users["manager"]).value == "negative"


def test_anonymous_users_are_sent_to_login(client, world):
    response = client.get(f"/projects/{world.project.id}/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_project_list_shows_member_projects_only(client, world):
    client.force_login(world.users["annotator"])
    page = client.get("/").content.decode()
    assert "project A" in page and "project B" not in page
    client.force_login(world.users["staff"])
    page = client.get("/").content.decode()
    assert "project A" in page and "project B" in page


class TestOtherProjectsObjects:
    """IDOR: ids of objects outside the user's projects behave as if they did not exist."""

    def test_labeling_a_shot_of_another_corpus_is_not_found(self, world, client):
        with pytest.raises(NotFound):
            services.label_set(
                user=world.users["annotator"],
                project_id=world.project.id,
                shot_id=world.other_shot.id,
                value="positive",
            )
        client.force_login(world.users["annotator"])
        response = client.post(
            f"/projects/{world.project.id}/labels/", {"shot": world.other_shot.id, "value": "positive"}
        )
        assert response.status_code == 404
        assert not Label.objects.exists()

    @pytest.mark.parametrize("role", ["manager", "annotator", "viewer"])
    def test_another_projects_pages_are_not_found(self, world, client, role):
        client.force_login(world.users[role])
        other = world.other_project.id
        assert client.get(f"/projects/{other}/").status_code == 404
        assert client.get(f"/projects/{other}/members/").status_code == 404
        assert client.get(f"/projects/{other}/shots/{world.other_shot.id}/history/").status_code == 404
        response = client.post(f"/projects/{other}/labels/", {"shot": world.other_shot.id, "value": "positive"})
        assert response.status_code == 404

    def test_history_of_a_shot_outside_the_corpus_is_not_found(self, world, client):
        client.force_login(world.users["viewer"])
        url = f"/projects/{world.project.id}/shots/{world.other_shot.id}/history/"
        assert client.get(url).status_code == 404

    def test_a_manager_cannot_manage_another_project(self, world):
        with pytest.raises(NotFound):
            services.membership_set(
                actor=world.users["manager"],
                project_id=world.other_project.id,
                user_id=world.users["manager"].id,
                role="manager",
            )

    def test_nonexistent_project_is_not_found_even_for_staff(self, world, client):
        client.force_login(world.users["staff"])
        assert client.get("/projects/999999/").status_code == 404


def test_last_manager_cannot_step_down(world):
    from django.core.exceptions import ValidationError

    manager = world.users["manager"]
    with pytest.raises(ValidationError):
        services.membership_set(actor=manager, project_id=world.project.id, user_id=manager.id, role="viewer")
    with pytest.raises(ValidationError):
        services.membership_remove(actor=manager, project_id=world.project.id, user_id=manager.id)
    services.membership_set(
        actor=manager, project_id=world.project.id, user_id=world.users["reviewer"].id, role="manager"
    )
    services.membership_remove(actor=manager, project_id=world.project.id, user_id=manager.id)
    assert not Membership.objects.filter(project=world.project, user=manager).exists()


def test_label_history_page_shows_the_audit_trail(client, world):
    for value in ("positive", "negative"):
        services.label_set(
            user=world.users["annotator"], project_id=world.project.id, shot_id=world.shot.id, value=value
        )
    client.force_login(world.users["viewer"])
    page = client.get(f"/projects/{world.project.id}/shots/{world.shot.id}/history/").content.decode()
    assert page.index("∅ → <strong>positive") < page.index("positive → <strong>negative")
