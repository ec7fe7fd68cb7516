from dataclasses import dataclass

import pytest

from annotation.models import Membership, Role
from tests.factories import ShotFactory, UserFactory, VideoFactory, make_corpus, make_project


@dataclass
class World:
    """Two projects on two corpora, and one user per role in project A."""

    project: object
    other_project: object
    shot: object
    other_shot: object
    users: dict  # role name (or "outsider", "staff") → user


@pytest.fixture
def world(db) -> World:
    users = {role.value: UserFactory(username=role.value) for role in Role}
    users["outsider"] = UserFactory(username="outsider")
    users["staff"] = UserFactory(username="staff", is_staff=True)
    corpus, other_corpus = make_corpus("A"), make_corpus("B")
    project = make_project(corpus, users["manager"], "project A")
    for role in (Role.REVIEWER, Role.ANNOTATOR, Role.VIEWER):
        Membership.objects.create(project=project, user=users[role.value], role=role)
    other_project = make_project(other_corpus, users["outsider"], "project B")
    shot = ShotFactory(video=VideoFactory(corpus=corpus))
    other_shot = ShotFactory(video=VideoFactory(corpus=other_corpus))
    return World(project=project, other_project=other_project, shot=shot, other_shot=other_shot, users=users)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Real hashing costs ~0.3 s a user; tests create many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """A new channel-layer object per test: each test drives its own event loops, and the Redis layer's
    receive machinery belongs to the loop that first used it (a web process has just one loop)."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()
