"""The projector panel's library parts: text coloured by one hidden unit (colours recomputed with numpy from the
inspection's hidden states), escaping, the gates at one token, the token window and the unfolded graph at t."""

import html
import re

import numpy as np
import pytest
from plotly.colors import diverging

from rnndemo import explain, step_plots, stepper, unit_text

TEXT = "A dull start, but the acting is superb and the ending moved me. Not bad at all, actually quite good."
HOSTILE = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "a&b", "fine"]
SPAN = re.compile(  # title, fill channels, ink, token
    r'<span title="([^"]*)"[^>]*style="background:rgb\(([^)]*)\);color:(#[0-9a-f]{6});[^"]*">([^<]*)</span>'
)


@pytest.fixture(scope="module")
def inspection(shared_inspector):
    return shared_inspector("lstm").inspect(TEXT)


def numpy_rdbu(values: np.ndarray, scale: float) -> np.ndarray:
    """ColorBrewer's RdBu (plotly's 11 stops), linearly interpolated per channel at (v / scale + 1) / 2."""
    stops = np.array([[float(part) for part in color[4:-1].split(",")] for color in diverging.RdBu])  # (11, 3)
    positions = np.clip((np.asarray(values) / scale + 1) / 2, 0, 1)
    grid = np.linspace(0, 1, len(stops))
    return np.stack([np.interp(positions, grid, stops[:, channel]) for channel in range(3)], axis=1)


def test_the_default_unit_is_the_one_that_varies_most_over_the_text(inspection):
    """The picker's default is the unit whose hₜ has the largest standard deviation over this text, and it offers
    the next few in order of that spread; they are the units the heatmaps choose."""
    spread = inspection.hidden.std(axis=0)
    assert unit_text.most_active_unit(inspection.hidden) == int(np.argmax(spread))
    offered = unit_text.units_by_activity(inspection.hidden, 8)
    assert offered == [int(unit) for unit in np.argsort(-spread)[:8]]
    assert all(spread[first] >= spread[second] for first, second in zip(offered, offered[1:]))
    assert sorted(offered) == explain.most_active_units(inspection.hidden, 8).tolist()


def test_each_token_is_coloured_by_the_units_value_on_a_diverging_scale(inspection):
    """A visitor reads one unit over the text: each token's background is the RdBu colour of its hₜ for that unit,
    saturating at the unit's largest |hₜ| (recomputed with numpy), and the hover says the value."""
    unit = unit_text.most_active_unit(inspection.hidden)
    values = inspection.hidden[:, unit]
    scale = unit_text.unit_scale(values)
    assert scale == pytest.approx(float(np.abs(values).max()))
    markup = unit_text.unit_text_html(inspection.tokens, values, scale=scale, marked=3)
    spans = SPAN.findall(markup)
    assert [html.unescape(token) for *_, token in spans] == inspection.tokens
    shown = np.array([[float(part) for part in fill.split(",")] for _, fill, _, _ in spans])
    np.testing.assert_allclose(shown, numpy_rdbu(values, scale), atol=0.51)  # plotly rounds each channel
    strongest = int(np.argmax(np.abs(values)))  # the saturated end: deep red (103, 0, 31) or deep blue (5, 48, 97)
    assert tuple(shown[strongest]) in {(103.0, 0.0, 31.0), (5.0, 48.0, 97.0)}
    for position, (title, *_rest) in enumerate(spans):
        assert f"token {position + 1}: " in title and f"h = {values[position]:+.3f}" in title
    assert markup.count('data-rnndemo="unit-current-token"') == 1
    assert 'data-rnndemo="unit-current-token"' in markup.split("<span")[4]  # token 4 (position 3) is outlined


def test_dark_fills_get_white_ink_and_light_fills_black(inspection):
    """Every word stays readable on its fill: white on the saturated ends, black near zero."""
    values = np.array([-1.0, -0.05, 0.0, 0.05, 1.0])
    spans = SPAN.findall(unit_text.unit_text_html(["a", "b", "c", "d", "e"], values, scale=1.0))
    assert [ink for _, _, ink, _ in spans] == ["#ffffff", "#000000", "#000000", "#000000", "#ffffff"]


def test_a_window_of_the_text_marks_what_it_leaves_out():
    """The panel shows the tokens around t; "…" stands for the rest on either side."""
    tokens = [f"w{position}" for position in range(10)]
    markup = unit_text.unit_text_html(tokens, np.linspace(-1, 1, 10), scale=1.0, start=3, stop=6, marked=4)
    assert [token for *_, token in SPAN.findall(markup)] == ["w3", "w4", "w5"]
    assert markup.count("<span>…</span>") == 2
    assert "token 5: w4" in markup


def test_hostile_tokens_are_escaped_in_the_text_and_in_its_hover():
    """A visitor's "<script>" is shown as text: no tag, no attribute breaks out of the title."""
    markup = unit_text.unit_text_html(HOSTILE, np.array([0.5, -0.5, 0.1, 0.0]), scale=0.5, marked=0)
    assert "<script" not in markup and "<img" not in markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in markup
    assert "a&amp;b" in markup
    spans = SPAN.findall(markup)
    assert [html.unescape(token) for *_, token in spans] == HOSTILE
    legend = unit_text.unit_legend_html("<b>unit</b>", 0.5)
    assert "<b>unit" not in legend and "&lt;b&gt;unit&lt;/b&gt;" in legend


def test_the_legend_names_the_unit_and_the_scale():
    """The legend's swatches are the scale's ends and its middle, and its sentence says where colour saturates."""
    legend = unit_text.unit_legend_html("LSTM unit 7", 0.43)
    swatches = SPAN.findall(legend)
    assert [label for *_, label in swatches] == ["-0.43", "0", "+0.43"]
    assert [fill for _, fill, _, _ in swatches] == ["103, 0, 31", "247, 247, 247", "5, 48, 97"]
    assert "LSTM unit 7" in legend and "±0.43" in legend and "red below 0" in legend


def test_a_unit_that_never_moves_is_white():
    assert unit_text.unit_colors(np.zeros(3), unit_text.unit_scale(np.zeros(3))) == ["rgb(247, 247, 247)"] * 3


def test_the_gates_at_a_token_are_their_means_over_the_units_and_the_chosen_units_value(inspection):
    """The panel's gate bars are each σ gate's mean over the units at t; the diamond is the chosen unit's gate."""
    step, unit = 5, 17
    rows = stepper.gates_at_step(inspection.gates, step, unit)
    assert [row.gate for row in rows] == ["input", "forget", "output"]  # the candidate g is tanh, not a gate
    for row in rows:
        assert row.mean == pytest.approx(float(np.mean(inspection.gates[row.gate][step])))
        assert row.unit_value == pytest.approx(float(inspection.gates[row.gate][step, unit]))
        assert 0 <= row.mean <= 1
    assert stepper.gates_at_step(None, step) == []
    assert all(row.unit_value is None for row in stepper.gates_at_step(inspection.gates, step))


def test_gates_chart_draws_those_numbers(inspection):
    rows = stepper.gates_at_step(inspection.gates, 2, 4)
    figure = step_plots.gates_at_step_chart({"lstm": rows}, 2, {"lstm": "LSTM"}, "LSTM unit 4")
    bars, diamonds = figure.data
    assert list(bars.y) == ["LSTM input", "LSTM forget", "LSTM output"]
    assert list(bars.x) == pytest.approx([row.mean for row in rows])
    assert list(diamonds.x) == pytest.approx([row.unit_value for row in rows])
    assert "token 3" in figure.layout.title.text and "LSTM unit 4" in figure.layout.xaxis.title.text


@pytest.mark.parametrize(
    ("length", "step", "radius", "expected"),
    [(100, 50, 2, (48, 53)), (100, 0, 2, (0, 5)), (100, 99, 2, (95, 100)), (3, 1, 2, (0, 3)), (1, 0, 20, (0, 1))],
)
def test_the_token_window_keeps_its_width_near_either_end(length, step, radius, expected):
    assert stepper.token_window(length, step, radius) == expected


def test_the_unfolded_graph_at_a_step_numbers_its_boxes_as_in_the_whole_text(inspection):
    """Around token t the boxes are numbered xₜ, hₜ of the whole text (not from 1), each hₜ with its p."""
    step = 6
    figure = step_plots.unfolded_at_step(inspection.tokens, inspection.trajectory, step, "LSTM")
    labels = [annotation.text for annotation in figure.layout.annotations if annotation.text]
    start, stop = stepper.token_window(len(inspection.tokens), step, step_plots.UNFOLDED_RADIUS)
    for position in range(start, stop):
        assert f"x{position + 1}<br><b>{inspection.tokens[position]}</b>" in labels
        assert f"h{position + 1}<br>{inspection.trajectory[position]:.2f}" in labels
    assert len([label for label in labels if label.startswith("h")]) == stop - start
    assert "token 7" in figure.layout.title.text
