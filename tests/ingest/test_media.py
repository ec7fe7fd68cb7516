"""Thumbnails and previews from frames of awkward sizes."""

from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from models_app.ingest import probe
from models_app.ingest.media import preview_span, write_preview, write_thumbnail


def _frames(width, height, count):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(count, height, width, 3), dtype=np.uint8)
    return [av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p") for image in images]


@pytest.mark.parametrize(("size", "expected"), [((642, 362), (320, 180)), ((161, 91), (160, 90))])
def test_preview_is_even_sized_and_at_most_320_wide(tmp_path, size, expected):
    path = tmp_path / "preview.mp4"
    assert write_preview(_frames(*size, 10), path, frame_rate=Fraction(30000, 1001)) == expected
    info = probe(path)
    assert (info.width, info.height, info.codec) == (*expected, "h264")
    assert info.frame_count == 10
    assert info.frame_rate == Fraction(30000, 1001)


def test_preview_span_is_centred_and_capped():
    assert preview_span(100, 400, fps=24) == (214, 286)  # 72 frames (3 s) from the middle
    assert preview_span(10, 40, fps=24) == (10, 40)  # short shots are shown whole
    assert preview_span(0, 1000, fps=24, max_seconds=1.0) == (488, 512)


def test_thumbnail_is_a_jpeg_no_wider_than_320(tmp_path):
    path = tmp_path / "thumb.jpg"
    assert write_thumbnail(_frames(1280, 720, 1)[0], path) == (320, 180)
    with Image.open(path) as image:
        assert (image.format, image.size) == ("JPEG", (320, 180))


def test_failed_write_leaves_no_partial_file(tmp_path):
    path = tmp_path / "preview.mp4"
    with pytest.raises(ValueError):
        write_preview([], path, frame_rate=Fraction(24))
    assert list(tmp_path.iterdir()) == []
