"""probe(): facts of a good video, and a clear IngestError for each kind of unusable file."""

import pytest

from models_app.ingest import (
    CorruptVideoError,
    EmptyVideoError,
    IngestError,
    NotAVideoError,
    NoVideoStreamError,
    UnsupportedResolutionError,
    VideoNotFoundError,
    probe,
    validate_dimensions,
)
from tests.ingest.videos import (
    make_audio_only,
    make_flat_video,
    make_frameless_video,
    make_truncated_video,
    make_video,
)


@pytest.fixture(scope="module")
def good_video(tmp_path_factory):
    return make_video(tmp_path_factory.mktemp("probe") / "good.mp4", cuts=(20, 40), n_frames=60, seed=3)


def test_probe_describes_a_good_video(good_video):
    info = probe(good_video.path)
    assert (info.width, info.height, info.codec) == (160, 90, "h264")
    assert info.fps == 24
    assert info.frame_count == 60
    assert info.duration_s == pytest.approx(60 / 24, abs=0.05)
    assert not info.has_audio


def _assert_clear_error(path, error_type, words):
    with pytest.raises(error_type) as caught:
        probe(path)
    assert isinstance(caught.value, IngestError)
    message = str(caught.value).lower()
    assert all(word in message for word in words), message
    return caught.value


def test_missing_file(tmp_path):
    _assert_clear_error(tmp_path / "nowhere.mp4", VideoNotFoundError, ["not found", "nowhere.mp4"])


def test_text_file_renamed_mp4(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("These are meeting notes, not a video.\n" * 20)
    _assert_clear_error(path, NotAVideoError, ["not a video"])


def test_random_bytes(tmp_path):
    path = tmp_path / "noise.mp4"
    path.write_bytes(bytes(range(256)) * 64)
    _assert_clear_error(path, NotAVideoError, ["not a video"])


def test_corrupt_truncated_mp4(tmp_path, good_video):
    path = make_truncated_video(good_video.path, tmp_path / "truncated.mp4")
    _assert_clear_error(path, CorruptVideoError, ["corrupt", "truncated.mp4"])


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.mp4"
    path.touch()
    _assert_clear_error(path, EmptyVideoError, ["empty"])


@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_video_without_frames(tmp_path, suffix):
    # An MP4 muxer drops the empty track; an AVI keeps a video stream with nothing in it. Both are empty.
    path = make_frameless_video(tmp_path / f"frameless{suffix}")
    _assert_clear_error(path, EmptyVideoError, ["no video frames"])


def test_audio_only(tmp_path):
    path = make_audio_only(tmp_path / "tone.mp4")
    _assert_clear_error(path, NoVideoStreamError, ["only audio"])


@pytest.mark.parametrize(("width", "height"), [(8, 8), (8208, 16)])
def test_absurd_resolution(tmp_path, width, height):
    path = make_flat_video(tmp_path / "odd.mp4", width, height)
    _assert_clear_error(path, UnsupportedResolutionError, [f"{width}×{height}"])


def test_resolution_bounds():
    validate_dimensions(16, 16)
    validate_dimensions(8192, 4320)
    for width, height in [(8193, 1080), (1920, 10000), (15, 720), (0, 0)]:
        with pytest.raises(UnsupportedResolutionError):
            validate_dimensions(width, height)
