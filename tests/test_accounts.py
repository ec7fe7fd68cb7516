"""Login, logout and password change pages."""

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_login_with_right_and_wrong_password(client):
    UserFactory(username="ann")
    page = client.post("/accounts/login/", {"username": "ann", "password": "wrong"})
    assert page.status_code == 200 and b"didn't match" in page.content
    response = client.post("/accounts/login/", {"username": "ann", "password": "pw-for-tests-1"})
    assert response.status_code == 302 and response.url == "/"
    assert client.get("/").status_code == 200


def test_logout_needs_post_and_ends_the_session(client):
    client.force_login(UserFactory())
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_password_change(client):
    user = UserFactory(username="ann")
    client.force_login(user)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": "pw-for-tests-1",
            "new_password1": "a-much-better-pass-42",
            "new_password2": "a-much-better-pass-42",
        },
    )
    assert response.status_code == 302 and response.url == "/accounts/password/done/"
    user.refresh_from_db()
    assert user.check_password("a-much-better-pass-42")


def test_password_change_rejects_a_weak_password(client):
    user = UserFactory(username="ann")
    client.force_login(user)
    response = client.post(
        "/accounts/password/", {"old_password": "pw-for-tests-1", "new_password1": "123", "new_password2": "123"}
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password("pw-for-tests-1")
