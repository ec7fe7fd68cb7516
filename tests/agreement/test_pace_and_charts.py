"""Annotator pace from timestamps, and the SVG charts (pure)."""

import xml.etree.ElementTree as ET

import pytest

from annotation import charts
from annotation.agreement import annotator_pace

SVG = "{http://www.w3.org/2000/svg}"


def test_pace_by_hand():
    # x: gaps 10, 20, 970 (a break: over 300 s, not counted), 5 → 3 timed labels in 35 s.
    events = [("x", 0), ("x", 10), ("x", 30), ("x", 1000), ("x", 1005), ("y", 50)]
    x, y = annotator_pace(events)
    assert (x.annotator, x.labels, x.timed_labels, x.active_seconds) == ("x", 5, 3, 35.0)
    assert x.labels_per_hour == pytest.approx(3 / 35 * 3600)
    assert x.median_seconds == 10.0
    assert (y.labels, y.labels_per_hour, y.median_seconds) == (1, None, None)


def test_pace_order_of_events_does_not_matter():
    events = [("x", 30), ("x", 0), ("x", 10)]
    assert annotator_pace(events)[0].median_seconds == 15.0


def test_stacked_bars_draw_one_rect_per_nonzero_value_and_escape_names():
    svg = charts.stacked_bars("t", ["d1", "d2"], {"<b>": [3, 0], "ann": [1, 2]}, "labels")
    root = ET.fromstring(svg)  # noqa: S314 — our own output, must be well-formed XML
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(bars) == 3
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    heights = sorted(float(r.get("height")) for r in bars)
    # Axis top is nice_max(4) = 5: bars of 1, 2 and 3 labels are 1/5, 2/5, 3/5 of the plot height.
    plot_h = charts.HEIGHT - charts.MARGIN_TOP - charts.MARGIN_BOTTOM
    assert heights == pytest.approx([plot_h / 5, 2 * plot_h / 5, 3 * plot_h / 5], abs=0.11)


def test_line_chart_places_points_on_the_scale():
    svg = charts.line_chart("q", {"ap": [(10, 0.5), (30, 1.0)]}, "labels", "score", y_max=1.0)
    points = list(ET.fromstring(svg).iter(f"{SVG}circle"))  # noqa: S314 — our own output
    assert len(points) == 2
    bottom, top = charts.HEIGHT - charts.MARGIN_BOTTOM, charts.MARGIN_TOP
    assert float(points[1].get("cy")) == pytest.approx(top, abs=0.1)
    assert float(points[0].get("cy")) == pytest.approx((top + bottom) / 2, abs=0.1)
    assert float(points[0].get("cx")) == pytest.approx(charts.MARGIN_LEFT, abs=0.1)


@pytest.mark.parametrize(("value", "bound"), [(0, 1.0), (4, 5.0), (0.73, 1.0), (130, 200.0), (1000, 1000.0)])
def test_nice_max(value, bound):
    assert charts.nice_max(value) == bound


def test_empty_charts_say_so():
    assert "no data yet" in charts.stacked_bars("t", [], {}, "y")
    assert "no data yet" in charts.line_chart("t", {"a": []}, "x", "y")
