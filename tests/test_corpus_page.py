"""The corpus page: who sees it, who may upload, and what bad uploads get."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from models_app.models import Video


def upload(client, world, name="clip.mp4", content=b"\x00\x00\x00\x18ftypmp42"):
    return client.post(
        f"/corpora/{world.project.corpus_id}/videos/", {"file": SimpleUploadedFile(name, content, "video/mp4")}
    )


@pytest.mark.parametrize(("role", "status"), [("viewer", 200), ("manager", 200), ("staff", 200), ("outsider", 404)])
def test_corpus_page_visibility(client, world, role, status):
    client.force_login(world.users[role])
    response = client.get(f"/corpora/{world.project.corpus_id}/")
    assert response.status_code == status
    if status == 200:
        assert b"test model" in response.content  # the corpus of the world fixture uses the test model
        assert (b"Upload and ingest" in response.content) == (role in {"manager", "staff"})


@pytest.mark.parametrize(("role", "status"), [("annotator", 403), ("viewer", 403), ("outsider", 404)])
def test_only_managers_upload(client, world, role, status, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(world.users[role])
    assert upload(client, world).status_code == status
    assert not Video.objects.filter(source__contains="clip").exists()
    assert not (tmp_path / "uploads").exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [("notes.txt", b"hello", b"is not a video file"), ("empty.mp4", b"", b"is empty")],
)
def test_bad_uploads_are_refused_with_a_reason(client, world, settings, tmp_path, name, content, message):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(world.users["manager"])
    response = upload(client, world, name, content)
    assert response.status_code == 400 and message in response.content
    assert not Video.objects.filter(source__contains=name.split(".")[0]).exists()


def test_upload_without_a_file(client, world):
    client.force_login(world.users["manager"])
    response = client.post(f"/corpora/{world.project.corpus_id}/videos/", {})
    assert response.status_code == 400


@pytest.mark.django_db(transaction=True)
def test_ingestion_progress_reaches_the_corpus_socket(world):
    from asgiref.sync import async_to_sync, sync_to_async

    from models_app.services import video_progress_set
    from tests.test_realtime import socket_for

    video = world.shot.video
    path = f"/ws/corpora/{world.project.corpus_id}/"
    member = socket_for(world.users["viewer"], world.project.id, path=path)
    outsider = socket_for(world.users["outsider"], world.project.id, path=path)

    async def scenario():
        assert (await member.connect())[0]
        refused = await outsider.connect()
        await outsider.disconnect()
        await sync_to_async(video_progress_set)(video=video, status="embedding", progress=42)
        event = await member.receive_json_from(timeout=10)
        await member.disconnect()
        return refused, event

    refused, event = async_to_sync(scenario)()
    assert refused[0] is False
    assert (event["type"], event["video_id"], event["status"], event["progress"]) == (
        "ingest.progress",
        video.id,
        "embedding",
        42,
    )
