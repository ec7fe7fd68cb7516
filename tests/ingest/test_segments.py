"""Shot segmentation rules (min/max length) and cut finding from per-frame probabilities."""

from itertools import pairwise

import numpy as np
import pytest

from models_app.ingest.segments import ShotLimits, ShotSegmenter, segment_shots, split_evenly
from models_app.ingest.shots import CutFinder


def _tiles(shots, n_frames):
    return shots[0][0] == 0 and shots[-1][1] == n_frames and all(a[1] == b[0] for a, b in pairwise(shots))


def test_plain_cuts_become_shots():
    assert segment_shots([30, 70], 100, min_frames=5, max_frames=50) == [(0, 30), (30, 70), (70, 100)]


def test_short_segment_merges_into_previous_and_first_into_next():
    # 70..73 is a 3-frame flash: it joins the shot before it.
    assert segment_shots([30, 70, 73], 100, min_frames=5, max_frames=50) == [(0, 30), (30, 73), (73, 100)]
    # A short first segment has no previous one: it joins the next.
    assert segment_shots([2, 40], 80, min_frames=5, max_frames=50) == [(0, 40), (40, 80)]
    # A short last segment joins the one before.
    assert segment_shots([40, 78], 80, min_frames=5, max_frames=50) == [(0, 40), (40, 80)]


def test_long_segment_is_split_evenly():
    assert split_evenly(0, 100, 40) == [(0, 33), (33, 66), (66, 100)]
    assert segment_shots([10], 80, min_frames=5, max_frames=40) == [(0, 10), (10, 45), (45, 80)]


def test_video_shorter_than_min_is_one_shot():
    assert segment_shots([], 3, min_frames=5, max_frames=50) == [(0, 3)]


def test_limits_in_seconds_and_frames():
    assert ShotLimits(min_seconds=0.5, max_seconds=10).resolve(24) == (12, 240)
    assert ShotLimits(min_frames=3, max_frames=30).resolve(24) == (3, 30)
    with pytest.raises(ValueError):
        ShotLimits(min_seconds=2, max_seconds=3).resolve(24)  # max < 2 × min


def test_streaming_is_independent_of_chunking_and_respects_bounds():
    rng = np.random.default_rng(7)
    for _ in range(200):
        n_frames = int(rng.integers(1, 600))
        min_frames = int(rng.integers(1, 15))
        max_frames = int(rng.integers(2 * min_frames, 120))
        cuts = sorted({int(c) for c in rng.integers(1, max(2, n_frames), size=rng.integers(0, 30))} - {0, n_frames})
        batch = segment_shots(cuts, n_frames, min_frames, max_frames)
        # Same cuts, delivered with progress reports in random increments as a live stream would.
        segmenter, streamed, frontier = ShotSegmenter(min_frames, max_frames), [], 0
        for cut in cuts:
            while frontier + 1 < cut and rng.random() < 0.5:
                frontier = int(rng.integers(frontier + 1, cut))
                streamed += segmenter.advance(frontier)
            streamed += segmenter.cut(cut)
        streamed += segmenter.finish(n_frames)
        assert streamed == batch
        assert _tiles(batch, n_frames)
        lengths = [end - start for start, end in batch]
        assert max(lengths) <= max_frames
        if n_frames >= min_frames:
            assert min(lengths) >= min_frames


def test_memory_bound_cuts_very_long_shot_in_max_pieces():
    # One 1000-frame shot with max 100: pieces are emitted while streaming, long before the end is known.
    segmenter = ShotSegmenter(10, 100)
    early = segmenter.advance(500)
    assert early and early[0] == (0, 100)
    shots = early + segmenter.finish(1000)
    assert _tiles(shots, 1000) and all(end - start <= 100 for start, end in shots)


def test_cut_finder_puts_cut_after_the_flagged_frame():
    probabilities = np.zeros(100)
    probabilities[29] = 0.9  # hard cut: last frame of the old shot flagged
    probabilities[[60, 61, 62, 63]] = 0.8  # gradual transition: cut in its middle
    probabilities[[0, 1]] = 0.9  # transition touching the first frame: not a cut
    finder = CutFinder(0.5)
    assert finder.push(probabilities[:50]) + finder.push(probabilities[50:]) == [30, 62]


def test_cut_finder_frontier_waits_for_open_transition():
    finder = CutFinder(0.5)
    finder.push([0.1, 0.1, 0.9, 0.9])
    assert finder.frontier == 3  # a transition is open at frame 2: its cut will land at 3 or later
    assert finder.push([0.1]) == [3]
    assert finder.frontier == 5


def test_cut_finder_bounds_endless_transitions():
    finder = CutFinder(0.5, max_run=10)
    cuts = finder.push([0.1] * 5 + [0.9] * 35 + [0.1] * 5)
    assert cuts == [10, 20, 30, 38]  # every 10 frames a piece of the run is closed, each cut in its middle
    assert finder.frontier == 45
