"""Ingestion through Django: the `ingest` command, a real worker on the embed queue, bad files,
idempotent re-runs, and a worker killed mid-video."""

import os
import signal
import time
from io import StringIO
from pathlib import Path

import numpy as np
import psutil
import pytest
from django.core.management import call_command

from models_app.embedding import TEST_MODEL_NAME
from models_app.ingest_runner import video_ingest_run
from models_app.models import Corpus, Shot, ShotEmbedding, Video
from tests.ingest.videos import make_video, spaced_cuts
from tests.workers import celery_worker

pytestmark = pytest.mark.django_db(transaction=True)
TEST_MODEL_ENV = {"VA_EMBEDDING_MODEL": TEST_MODEL_NAME}


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VA_EMBEDDING_MODEL = TEST_MODEL_NAME
    return settings.MEDIA_ROOT


def synthetic(folder: Path, name: str, n_cuts: int, n_frames: int, seed: int):
    cuts = spaced_cuts(n_frames, n_cuts, min_gap=30, seed=seed)
    return make_video(folder / name, cuts, n_frames, seed=seed)


def wait_until_finished(video_ids, timeout=240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = set(Video.objects.filter(pk__in=video_ids).values_list("status", flat=True))
        if statuses <= {"done", "failed"}:
            return
        time.sleep(0.3)
    raise AssertionError(f"videos still {statuses} after {timeout}s")


def test_ingest_command_with_a_real_worker_good_and_bad_files(media, tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    good = [synthetic(videos, f"good{i}.mp4", n_cuts=5, n_frames=240, seed=i) for i in range(2)]
    (videos / "corrupt.mp4").write_bytes(good[0].path.read_bytes()[:3000])
    (videos / "notes.mp4").write_text("this is not a video")

    out = StringIO()
    with celery_worker("embed", extra_env={**TEST_MODEL_ENV, "VA_MEDIA_ROOT": str(media)}):
        call_command("ingest", str(videos), "--corpus", "clips", stdout=out)
        corpus = Corpus.objects.get(name="clips")
        ids = list(Video.objects.filter(corpus=corpus).values_list("id", flat=True))
        wait_until_finished(ids)
    assert "TEST embedding model" in out.getvalue()
    assert corpus.is_test_model and corpus.dim == 64
    assert len(ids) == 4

    for video in good:
        row = Video.objects.get(source=str(video.path.resolve()))
        assert (row.status, row.progress, row.error) == ("done", 100, "")
        shots = list(Shot.objects.filter(video=row).order_by("index"))
        assert len(shots) == len(video.shots)
        for shot, (start, _end) in zip(shots, video.shots, strict=True):
            assert abs(shot.start_frame - start) <= 2
            assert (media / shot.thumbnail).stat().st_size > 0
            assert (media / shot.preview).stat().st_size > 0
        vectors = np.array([e.vector for e in ShotEmbedding.objects.filter(shot__video=row)], dtype=np.float32)
        assert vectors.shape == (len(shots), 64)
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-3)
    for name in ("corrupt.mp4", "notes.mp4"):
        row = Video.objects.get(source=str((videos / name).resolve()))
        assert row.status == "failed" and len(row.error) > 10 and "Traceback" not in row.error
        assert not Shot.objects.filter(video=row).exists()


def test_rerunning_a_video_skips_it_and_forcing_replaces_rows_without_duplicates(media, tmp_path):
    video = synthetic(tmp_path, "v.mp4", n_cuts=5, n_frames=200, seed=7)
    call_command("ingest", str(video.path), "--corpus", "rerun", stdout=StringIO())
    row = Video.objects.get()
    assert video_ingest_run(row.id) == "done"
    first = set(Shot.objects.filter(video=row).values_list("id", flat=True))
    assert video_ingest_run(row.id) == "skipped"
    Video.objects.filter(pk=row.pk).update(status="embedding", progress=40)  # as if interrupted
    assert video_ingest_run(row.id) == "done"
    again = set(Shot.objects.filter(video=row).values_list("id", flat=True))
    assert len(again) == len(first) == len(video.shots) and not first & again
    assert ShotEmbedding.objects.filter(shot__video=row).count() == len(again)
    assert Corpus.objects.get(name="rerun").vectors_version == 2


def test_a_worker_killed_mid_video_is_redelivered_and_completes_once(media, tmp_path):
    video = synthetic(tmp_path, "long.mp4", n_cuts=8, n_frames=1440, seed=3)
    env = {**TEST_MODEL_ENV, "VA_MEDIA_ROOT": str(media), "VA_BROKER_VISIBILITY_TIMEOUT": "2"}
    with celery_worker("embed", extra_env=env) as worker:
        call_command("ingest", str(video.path), "--corpus", "killed", stdout=StringIO())
        row = Video.objects.get()
        deadline = time.monotonic() + 120
        while Video.objects.get(pk=row.pk).status not in {"shots", "embedding", "done"}:
            assert time.monotonic() < deadline, "the worker never started the video"
            time.sleep(0.05)
        for child in psutil.Process(worker.pid).children(recursive=True):
            child.kill()
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    assert Video.objects.get(pk=row.pk).status != "done"
    with celery_worker("embed", extra_env=env, purge=False):  # the killed task's message must survive
        wait_until_finished([row.id])
    row.refresh_from_db()
    assert row.status == "done"
    assert Shot.objects.filter(video=row).count() == len(video.shots)
    assert ShotEmbedding.objects.filter(shot__video=row).count() == len(video.shots)
