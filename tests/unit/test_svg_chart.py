"""The report's bar charts: valid SVG whose bars stand for the figures they were given."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from sco_green.svg_chart import PLOT_HEIGHT, bar_chart, nice_ticks, tick_label

NS = {"svg": "http://www.w3.org/2000/svg"}


def _bars(svg: str) -> list[tuple[str, float, float]]:
    """(tooltip, top, height) of every bar segment."""
    root = ET.fromstring(svg)
    return [
        (rect.find("svg:title", NS).text, float(rect.get("y")), float(rect.get("height")))
        for rect in root.findall("svg:rect", NS)
        if rect.find("svg:title", NS) is not None
    ]


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0, 583_000, [0, 200_000, 400_000, 600_000]),
        (0, 19_200, [0, 5_000, 10_000, 15_000, 20_000]),
        (0, 0.9, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (-3, 7, [-4, -2, 0, 2, 4, 6, 8]),
        (0, 0, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
    ],
)
def test_ticks_are_round_steps_that_cover_the_values_and_zero(low: float, high: float, expected: list[float]) -> None:
    assert nice_ticks(low, high) == pytest.approx(expected)


def test_tick_labels_show_the_decimals_the_step_needs() -> None:
    assert tick_label(250_000, 50_000) == "250,000"
    assert tick_label(0.5, 0.25) == "0.50"
    assert tick_label(7.5, 2.5) == "7.5"


def test_stacked_bars_are_as_tall_as_their_values_and_carry_them_as_tooltips() -> None:
    svg = bar_chart({"solar": {"2024": 30.0, "2025": 10.0}, "wind": {"2025": 50.0}}, "Exports", "USD million")
    bars = _bars(svg)
    assert [tip for tip, _, _ in bars] == ["solar · 2024: 30", "solar · 2025: 10", "wind · 2025: 50"]
    ticks = nice_ticks(0, 60)  # the 2025 stack is 60 high
    scale = PLOT_HEIGHT / (ticks[-1] - ticks[0])
    heights = {tip: height for tip, _, height in bars}
    assert heights["solar · 2024: 30"] == pytest.approx(30 * scale, abs=0.1)
    assert heights["wind · 2025: 50"] == pytest.approx(50 * scale, abs=0.1)
    # wind sits on top of solar in 2025: its bottom edge is solar's top edge
    (_, solar_top, _), (_, wind_top, wind_height) = bars[1], bars[2]
    assert wind_top + wind_height == pytest.approx(solar_top, abs=0.1)


def test_negative_values_hang_below_the_zero_line() -> None:
    bars = _bars(bar_chart({"net": {"a": -5.0, "b": 5.0}}, "Net", "t"))
    (_, top_a, height_a), (_, top_b, height_b) = bars
    assert top_a == pytest.approx(top_b + height_b, abs=0.1)  # a starts at zero, where b ends
    assert height_a == pytest.approx(height_b, abs=0.1)


def test_text_is_escaped_and_the_legend_names_every_series() -> None:
    svg = bar_chart({"a<b & c": {"x>1": 1.0}, "plain": {"x>1": 2.0}}, 'Title "<>"', "y & z")
    root = ET.fromstring(svg)  # well-formed despite the markup characters
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert 'Title "<>"' in texts and "y & z" in texts and "x>1" in texts
    assert texts.count("a<b & c") == 1 and texts.count("plain") == 1


def test_a_chart_without_data_says_so() -> None:
    root = ET.fromstring(bar_chart({}, "Empty", "t"))
    assert _bars(ET.tostring(root, encoding="unicode")) == []
    assert any("no data" in (t.text or "") for t in root.iter("{http://www.w3.org/2000/svg}text"))
