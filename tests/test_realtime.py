"""The project websocket, through the real ASGI app, auth middleware and Redis channel layer."""

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from annotation.consumers import CLOSE_NOT_FOUND, CLOSE_UNAUTHENTICATED
from annotation.services import label_set
from va_site.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


def socket_for(user, project_id, path=None):
    """A communicator carrying the user's session cookie. Call it before entering async code."""
    headers = [(b"origin", b"http://localhost")]
    if user is not None:
        client = Client()
        client.force_login(user)
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    return WebsocketCommunicator(application, path or f"/ws/projects/{project_id}/", headers=headers)


def test_member_receives_labels_changed_after_commit(world):
    viewer_socket = socket_for(world.users["viewer"], world.project.id)

    async def scenario():
        connected, _ = await viewer_socket.connect()
        assert connected
        assert await viewer_socket.receive_nothing(timeout=0.2)
        await sync_to_async(label_set)(
            user=world.users["annotator"], project_id=world.project.id, shot_id=world.shot.id, value="positive"
        )
        event = await viewer_socket.receive_json_from(timeout=5)
        await viewer_socket.disconnect()
        return event

    event = async_to_sync(scenario)()
    assert event["type"] == "labels.changed"
    assert (event["shot_id"], event["value"], event["username"]) == (world.shot.id, "positive", "annotator")


def test_no_event_when_the_transaction_rolls_back(world):
    from django.db import transaction

    def label_then_fail():
        with pytest.raises(RuntimeError), transaction.atomic():
            label_set(
                user=world.users["annotator"], project_id=world.project.id, shot_id=world.shot.id, value="positive"
            )
            raise RuntimeError("rolled back")

    socket = socket_for(world.users["manager"], world.project.id)

    async def scenario():
        assert (await socket.connect())[0]
        await sync_to_async(label_then_fail)()
        nothing = await socket.receive_nothing(timeout=0.5)
        await socket.disconnect()
        return nothing

    assert async_to_sync(scenario)()


def test_events_stay_within_their_project(world):
    other = socket_for(world.users["outsider"], world.other_project.id)

    async def scenario():
        assert (await other.connect())[0]
        await sync_to_async(label_set)(
            user=world.users["annotator"], project_id=world.project.id, shot_id=world.shot.id, value="negative"
        )
        nothing = await other.receive_nothing(timeout=0.5)
        await other.disconnect()
        return nothing

    assert async_to_sync(scenario)()


@pytest.mark.parametrize(
    ("who", "project", "code"),
    [
        ("outsider", "project", CLOSE_NOT_FOUND),
        (None, "project", CLOSE_UNAUTHENTICATED),
        ("manager", "other_project", CLOSE_NOT_FOUND),
    ],
)
def test_non_members_and_anonymous_are_refused(world, who, project, code):
    socket = socket_for(world.users[who] if who else None, getattr(world, project).id)

    async def scenario():
        connected, close_code = await socket.connect()
        await socket.disconnect()  # let the app finish before the loop closes
        return connected, close_code

    assert async_to_sync(scenario)() == (False, code)


def test_ping_is_answered(world):
    socket = socket_for(world.users["viewer"], world.project.id)

    async def scenario():
        await socket.connect()
        await socket.send_json_to({"type": "ping"})
        reply = await socket.receive_json_from(timeout=5)
        await socket.disconnect()
        return reply

    assert async_to_sync(scenario)() == {"type": "pong"}


def test_an_idle_socket_still_receives_after_the_blocking_read_window(world):
    """Regression: Redis reads block 5 s at a time; a push after a longer idle spell must arrive."""
    socket = socket_for(world.users["viewer"], world.project.id)

    async def scenario():
        assert (await socket.connect())[0]
        assert await socket.receive_nothing(timeout=6.5)
        await sync_to_async(label_set)(
            user=world.users["annotator"], project_id=world.project.id, shot_id=world.shot.id, value="positive"
        )
        event = await socket.receive_json_from(timeout=10)
        await socket.disconnect()
        return event

    assert async_to_sync(scenario)()["type"] == "labels.changed"


def test_a_removed_member_is_disconnected_and_gets_nothing_more(world):
    from annotation.services import membership_remove

    viewer_socket = socket_for(world.users["viewer"], world.project.id)
    reviewer_socket = socket_for(world.users["reviewer"], world.project.id)

    async def scenario():
        assert (await viewer_socket.connect())[0] and (await reviewer_socket.connect())[0]
        await sync_to_async(membership_remove)(
            actor=world.users["manager"], project_id=world.project.id, user_id=world.users["viewer"].id
        )
        closed = await viewer_socket.receive_output(timeout=5)
        await sync_to_async(label_set)(
            user=world.users["annotator"], project_id=world.project.id, shot_id=world.shot.id, value="positive"
        )
        # the remaining member is told about labels, not about the removal
        event = await reviewer_socket.receive_json_from(timeout=5)
        await reviewer_socket.disconnect()
        return closed, event

    closed, event = async_to_sync(scenario)()
    assert closed == {"type": "websocket.close", "code": CLOSE_NOT_FOUND}
    assert event["type"] == "labels.changed"
