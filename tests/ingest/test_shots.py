"""TransNetV2 fed as a stream gives the same per-frame predictions as the wheel's own whole-video code."""

import numpy as np
import pytest
import torch

from models_app.ingest.frames import decode_frames
from models_app.ingest.shots import ShotDetector, detect_shots, load_transnet
from tests.ingest.videos import make_video


@pytest.fixture(scope="module")
def small_frames(tmp_path_factory):
    video = make_video(tmp_path_factory.mktemp("shots") / "v.mp4", cuts=(40, 85), n_frames=130, seed=5, style="mixed")
    return np.stack([decoded.small for decoded in decode_frames(video.path, size=(160, 90))])


def test_streaming_windows_match_reference_implementation(small_frames):
    model = load_transnet()
    with torch.inference_mode():
        reference, _ = model.predict_frames(torch.from_numpy(small_frames), quiet=True)
    detector = ShotDetector(model, precision="fp32")
    streamed = np.concatenate([detector.push(frame) for frame in small_frames] + [detector.finish()])
    assert streamed.shape == (len(small_frames),)
    np.testing.assert_allclose(streamed, reference.numpy(), atol=1e-5)


def test_loading_does_not_touch_global_torch_state():
    # The wheel's constructor would switch on deterministic algorithms process-wide; ours must not.
    load_transnet()
    assert not torch.are_deterministic_algorithms_enabled()


def test_detect_shots_on_frames(small_frames):
    shots = detect_shots(small_frames, fps=24)
    assert [start for start, _ in shots] == pytest.approx([0, 40, 85], abs=2)
    assert shots[-1][1] == len(small_frames)
