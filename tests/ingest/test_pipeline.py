"""The whole pipeline on synthetic videos with known cuts: shots, media files, embeddings, progress, re-runs."""

import threading
from dataclasses import dataclass
from itertools import pairwise

import av
import numpy as np
import pytest
from PIL import Image

from models_app.embedding import TEST_MODEL_NAME, load_embedder
from models_app.ingest import IngestOptions, IngestResult, NoVideoStreamError, ShotLimits, ingest_video, probe
from models_app.ingest.frames import decode_frames, fit_short_side, to_rgb, working_size
from models_app.ingest.pipeline import sample_positions
from tests.ingest.videos import SyntheticVideo, make_audio_only, make_video, spaced_cuts

# (frames, cuts, seed, style): 10–15 s at 24 fps, 6–7 hard cuts each, shots ≥ 1 s.
VIDEO_SPECS = {
    "mixed": (240, 6, 11, "mixed"),
    "solid": (300, 7, 12, "solid"),
    "texture": (360, 6, 13, "texture"),
}


@dataclass
class Run:
    video: SyntheticVideo
    result: IngestResult
    progress: list[tuple[str, int]]


@pytest.fixture(scope="module")
def embedder(tmp_path_factory):
    return load_embedder(TEST_MODEL_NAME, tmp_path_factory.mktemp("models") / "tiny.pt", strict=False)


@pytest.fixture(scope="module")
def output_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="module")
def runs(tmp_path_factory, embedder, output_dir):
    source_dir = tmp_path_factory.mktemp("videos")
    runs = {}
    for key, (n_frames, n_cuts, seed, style) in VIDEO_SPECS.items():
        cuts = spaced_cuts(n_frames, n_cuts, min_gap=24, seed=seed)
        video = make_video(source_dir / f"{key}.mp4", cuts, n_frames, seed=seed, style=style)
        events: list[tuple[str, int]] = []
        result = ingest_video(
            video.path, output_dir, embedder, video_key=key, progress=lambda *event, log=events: log.append(event)
        )
        runs[key] = Run(video, result, events)
    return runs


@pytest.mark.parametrize("key", VIDEO_SPECS)
def test_boundaries_match_ground_truth(runs, key):
    run = runs[key]
    detected = [shot.start_frame for shot in run.result.shots[1:]]
    assert len(run.video.cuts) >= 5
    assert len(detected) == len(run.video.cuts), (detected, run.video.cuts)
    assert all(abs(d - truth) <= 2 for d, truth in zip(detected, run.video.cuts, strict=True)), (
        detected,
        run.video.cuts,
    )


@pytest.mark.parametrize("key", VIDEO_SPECS)
def test_shots_tile_the_video_with_times(runs, key):
    result = runs[key].result
    assert result.frame_count == runs[key].video.n_frames
    assert result.shots[0].start_frame == 0 and result.shots[-1].end_frame == result.frame_count
    for index, shot in enumerate(result.shots):
        assert shot.index == index
        assert shot.start_s == pytest.approx(shot.start_frame / 24, abs=1e-6)
        assert shot.end_s == pytest.approx(shot.end_frame / 24, abs=1e-6)
    assert all(a.end_frame == b.start_frame for a, b in pairwise(result.shots))


@pytest.mark.parametrize("key", VIDEO_SPECS)
def test_one_thumbnail_preview_and_embedding_per_shot(runs, output_dir, key):
    result = runs[key].result
    n_shots = len(result.shots)
    assert result.embeddings.shape == (n_shots, 64)
    assert result.embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(result.embeddings, axis=1), 1, atol=1e-5)
    files = sorted(p.name for p in (output_dir / key).iterdir())
    expected = sorted(name for shot in result.shots for name in (shot.thumbnail, shot.preview))
    assert [f"{key}/{name}" for name in files] == expected
    assert result.shots[3].thumbnail == f"{key}/shot_00003.jpg"


def test_previews_are_short_small_silent_h264(runs, output_dir):
    for run in runs.values():
        for shot in run.result.shots:
            info = probe(output_dir / shot.preview)
            assert info.codec == "h264"
            assert info.width <= 320 and info.width % 2 == 0 and info.height % 2 == 0
            assert info.duration_s <= 3.0 + 1e-6
            assert info.frame_count == min(shot.end_frame - shot.start_frame, 72)
            with av.open(str(output_dir / shot.preview)) as container:
                assert container.streams.video[0].codec_context.pix_fmt == "yuv420p"
                assert not container.streams.audio


def test_thumbnail_shows_the_middle_frame(runs, output_dir):
    run = runs["solid"]
    frames = {d.index: to_rgb(d.frame) for d in decode_frames(run.video.path, size=(160, 90))}
    for shot in run.result.shots:
        with Image.open(output_dir / shot.thumbnail) as image:
            assert image.format == "JPEG" and image.width <= 320
            thumbnail = np.asarray(image.convert("RGB"), dtype=np.float32)
        middle = frames[(shot.start_frame + shot.end_frame) // 2].astype(np.float32)
        assert np.abs(thumbnail - middle).mean() < 6  # same picture, up to JPEG loss


def test_shot_vector_is_the_normalised_mean_of_its_samples(runs, embedder):
    run = runs["mixed"]
    # The same sizes the pipeline derives: working frames for media, samples at the model's input size.
    working = working_size(160, 90, min_short_side=embedder.image_size, min_width=320)
    size = fit_short_side(*working, embedder.image_size)
    frames = {d.index: d.frame for d in decode_frames(run.video.path, size=working)}
    for shot, vector in zip(run.result.shots, run.result.embeddings, strict=True):
        samples = [to_rgb(frames[i], size) for i in sample_positions(shot.start_frame, shot.end_frame, 3)]
        assert len(samples) == 3
        mean = embedder.embed_images(samples).mean(axis=0)
        np.testing.assert_allclose(vector, mean / np.linalg.norm(mean), atol=1e-4)


def test_progress_reports_every_stage_up_to_100(runs):
    for run in runs.values():
        for stage in ("decoding", "shots", "embedding"):
            percents = [p for s, p in run.progress if s == stage]
            assert percents and percents[-1] == 100
            assert percents == sorted(set(percents))  # strictly increasing, no repeats
        assert {s for s, _ in run.progress} == {"decoding", "shots", "embedding"}


def test_rerun_into_same_dir_overwrites_and_cleans_up(runs, embedder, output_dir):
    run = runs["mixed"]
    # First with a short max length: more, shorter shots (long ones split evenly) ...
    split = ingest_video(
        run.video.path,
        output_dir,
        embedder,
        video_key="mixed",
        options=IngestOptions(limits=ShotLimits(min_frames=6, max_frames=30)),
    )
    assert len(split.shots) > len(run.result.shots)
    assert all(shot.end_frame - shot.start_frame <= 30 for shot in split.shots)
    starts = {shot.start_frame for shot in split.shots}
    assert all(any(abs(cut - s) <= 2 for s in starts) for cut in run.video.cuts)
    # ... then the defaults again: same result as the first time, and the extra files are gone.
    again = ingest_video(run.video.path, output_dir, embedder, video_key="mixed")
    assert again.shots == run.result.shots
    np.testing.assert_allclose(again.embeddings, run.result.embeddings, atol=1e-6)
    assert len(list((output_dir / "mixed").iterdir())) == 2 * len(again.shots)


def test_unusable_video_fails_before_writing_anything(tmp_path, embedder):
    audio = make_audio_only(tmp_path / "tone.mp4")
    with pytest.raises(NoVideoStreamError):
        ingest_video(audio, tmp_path / "out", embedder, video_key="tone")
    assert not (tmp_path / "out").exists()


def test_video_key_must_be_a_plain_name(tmp_path, embedder):
    with pytest.raises(ValueError, match="video_key"):
        ingest_video(tmp_path / "x.mp4", tmp_path, embedder, video_key="../escape")


def test_cancelling_from_the_progress_callback_stops_the_producer(runs, embedder, tmp_path):
    class Cancelled(Exception):
        pass

    def cancel(stage, percent):
        if stage == "decoding" and percent > 20:
            raise Cancelled

    before = threading.active_count()
    with pytest.raises(Cancelled):
        ingest_video(
            runs["texture"].video.path,
            tmp_path,
            embedder,
            video_key="cancelled",
            progress=cancel,
        )
    assert threading.active_count() == before  # the producer thread has ended
