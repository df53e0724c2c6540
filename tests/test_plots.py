"""Plot builders: the data drawn is the data given, and visitor text is escaped."""

import math
from collections.abc import Callable

import numpy as np
import pytest

from rnndemo import embedding_plots, evaluation_plots, language_model_plots, memory_plots, plots, token_plots

NAMES = {"rnn": "SimpleRNN", "lstm": "LSTM"}


@pytest.mark.parametrize(
    ("length", "mode"),
    [
        (5, "lines+markers"),
        (token_plots.TRAJECTORY_MARKER_LIMIT, "lines+markers"),
        (token_plots.TRAJECTORY_MARKER_LIMIT + 1, "lines"),
        (400, "lines"),
    ],
)
def test_trajectory_chart_draws_every_step_and_markers_only_for_short_reviews(length, mode):
    """One point per token per model, in order; markers only while they stay cheap for the browser."""
    rng = np.random.default_rng(0)
    trajectories = {name: rng.random(length).tolist() for name in NAMES}
    tokens = {name: [f"w{i}" for i in range(length)] for name in NAMES}
    figure = token_plots.trajectory_chart(trajectories, tokens, NAMES)
    assert [trace.name for trace in figure.data] == ["SimpleRNN", "LSTM"]
    for trace, name in zip(figure.data, NAMES):
        assert trace.mode == mode
        assert list(trace.x) == list(range(1, length + 1))
        assert list(trace.y) == pytest.approx(trajectories[name])
        assert "%{x}" in trace.hovertemplate and trace.customdata is None  # the axis names the token
    assert figure.layout.xaxis.labelalias == plots.token_labels(tokens["rnn"])


def test_trajectory_chart_escapes_tokens():
    """A token that looks like HTML reaches its label (tick and hover) escaped."""
    figure = token_plots.trajectory_chart({"rnn": [0.2]}, {"rnn": ["<img src=x onerror=alert(1)>"]}, NAMES)
    assert "<img" not in str(figure.layout.xaxis.labelalias) and "&lt;img" in figure.layout.xaxis.labelalias["1"]


def test_next_word_bars_hold_each_models_words_most_probable_on_top_and_escaped():
    from rnndemo.language_model_plots import next_word_bars

    candidates = {"rnn": [("the", 0.3), ("<b>x</b>", 0.1)], "lstm": [("a", 0.5), ("film", 0.2), ("it", 0.1)]}
    figure = next_word_bars(candidates, {"rnn": "SimpleRNN LM", "lstm": "LSTM LM"})
    rnn, lstm = figure.data
    assert list(rnn.x) == [0.1, 0.3] and rnn.y[-1].strip() == "the"  # Plotly draws the last bar on top
    assert "<b>" not in "".join(rnn.y) and "&lt;b&gt;" in "".join(rnn.y)
    assert list(lstm.x) == [0.1, 0.2, 0.5]


def test_language_model_graph_shows_the_last_steps_and_each_models_prediction():
    from rnndemo.language_model_plots import language_model_graph

    tokens = [f"w{i}" for i in range(12)] + ["<script>"]
    predictions = {"lstm": [(f"p{i}", 0.5) for i in range(8)]}  # after each of the last 8 tokens
    figure = language_model_graph(tokens, predictions, {"lstm": "LSTM LM"}, max_steps=8)
    texts = " ".join(annotation.text for annotation in figure.layout.annotations)
    assert "x5<br>" not in texts and "x6<br>" in texts and "x13<br>" in texts  # only the last 8 steps
    assert "&lt;script&gt;" in texts and "<script>" not in texts
    assert "p0 50%" in texts and "p7 50%" in texts
    # The colours are named in the legend below, not in the title (four lines of it ran into the predictions).
    assert [trace.name for trace in figure.data] == ["LSTM LM"] and figure.layout.showlegend
    assert figure.data[0].marker.color == plots.MODEL_COLORS["lstm"] and "LSTM LM" not in figure.layout.title.text


def test_context_memory_figure_labels_the_whole_review_as_all():
    from rnndemo.language_model_plots import context_memory_figure

    result = {"contexts": [1, 2, 0], "models": {"lstm": [300.0, 200.0, 150.0], "ngram": [250.0, 170.0, 170.0]}}
    figure = context_memory_figure(result, {})
    assert list(figure.data[0].x) == ["1", "2", "all"] and list(figure.data[0].y) == [300.0, 200.0, 150.0]
    assert figure.data[1].line.dash == "dot"


def test_surprise_html_escapes_tokens_and_shades_by_surprisal():
    import numpy as np

    from rnndemo.language_model_plots import surprise_html

    markup = surprise_html(["<script>alert(1)</script>", "film"], np.array([12.0, 0.0]))
    assert "<script>" not in markup and "&lt;script&gt;" in markup
    assert markup.count("<span") == 2 and "rgba(214,39,40,1.00)" in markup and "rgba(214,39,40,0.00)" in markup


@pytest.mark.parametrize("dimensions", [2, 3])
def test_pca_axes_state_the_variance_scikit_learn_explains(dimensions):
    """Golden: each axis title carries the explained-variance ratio of scikit-learn's PCA of the same vectors."""
    import re

    from sklearn.decomposition import PCA

    from rnndemo.embeddings import pca_project

    # Columns of decreasing spread, so that the components explain clearly different shares.
    vectors = np.random.default_rng(1).normal(size=(40, 50)) * np.linspace(4.0, 0.5, 50)
    coordinates, ratios = pca_project(vectors, dimensions)
    reference = PCA(n_components=dimensions, random_state=0).fit(vectors).explained_variance_ratio_
    figure = embedding_plots.pca_scatter([f"w{i}" for i in range(40)], coordinates, ["words"] * 40, ratios, "PCA")
    if dimensions == 3:
        axes = [figure.layout.scene.xaxis, figure.layout.scene.yaxis, figure.layout.scene.zaxis]
    else:
        axes = [figure.layout.xaxis, figure.layout.yaxis]
    for component, (axis, expected) in enumerate(zip(axes, reference), start=1):
        match = re.fullmatch(r"PC(\d) \((\d+)% of variance\)", axis.title.text)
        assert match and int(match[1]) == component
        assert int(match[2]) == round(100 * expected)
    assert f"keep {round(100 * reference.sum())}% of the variance" in figure.layout.title.text


def test_pca_3d_labels_every_highlighted_word_and_the_nearest_neighbours_and_hover_names_all():
    """In 3-D the query and every word the visitor added (the sentiment preset's 11) carry a text label, of the
    neighbours only the nearest; every point still names its word in its hover."""
    mine = [f"mine{i}" for i in range(10)] + ["<b>mine</b>"]
    words = ["query"] + [f"near{i}" for i in range(8)] + mine
    groups = ["query"] + ["neighbour"] * 8 + ["your words"] * len(mine)
    coordinates = np.random.default_rng(0).normal(size=(len(words), 3))
    figure = embedding_plots.pca_scatter(words, coordinates, groups, np.array([0.4, 0.2, 0.1]), "PCA")
    texts = [text for trace in figure.data for text in trace.text]
    hovers = [text for trace in figure.data for text in trace.customdata]
    nearest = words[1 : 1 + embedding_plots.PCA_3D_NEIGHBOUR_LABELS]
    assert [text for text in texts if text] == ["query", *nearest, *mine[:-1], "&lt;b&gt;mine&lt;/b&gt;"]
    assert hovers[:-1] == words[:-1] and hovers[-1] == "&lt;b&gt;mine&lt;/b&gt;"
    flat = embedding_plots.pca_scatter(words, coordinates[:, :2], groups, np.array([0.4, 0.2]), "PCA")
    assert all(text for trace in flat.data for text in trace.text)  # 2-D keeps every label


def test_confusion_figure_has_short_tick_labels_and_the_counts_in_place():
    figure = evaluation_plots.confusion_figure([[40, 10], [7, 43]], "AUC 0.912")
    heatmap = figure.data[0]
    assert list(heatmap.x) == ["pred. neg", "pred. pos"] and list(heatmap.y) == ["true neg", "true pos"]
    assert [list(row) for row in heatmap.z] == [[40, 10], [7, 43]]
    assert heatmap.customdata[0][1] == "true negative, predicted positive"  # hover spells the 10 out


def test_memory_gradient_axis_uses_powers_of_ten_and_the_title_fits():
    result = {"models": {"rnn": {"gradient": {"distance": [0, 1, 2], "mean_norm": [1e-2, 1e-6, 0.0]}}}}
    figure = memory_plots.memory_gradient_figure(result, NAMES)
    assert figure.layout.yaxis.type == "log" and figure.layout.yaxis.exponentformat == "power"
    assert list(figure.data[0].y) == [1e-2, 1e-6, 1e-7]  # zero is drawn a decade below the smallest value
    lines = figure.layout.title.text.split("<br>")
    assert len(lines) == 2 and max(len(line) for line in lines) <= 48  # each line fits a half-width column


def test_memory_accuracy_chance_label_sits_outside_the_points():
    rows = [{"distance": d, "accuracy": 0.5, "ci_low": 0.4, "ci_high": 0.6} for d in (0, 100, 400)]
    figure = memory_plots.memory_accuracy_figure({"models": {"rnn": {"accuracy": rows}}}, NAMES)
    (label,) = [annotation for annotation in figure.layout.annotations if annotation.text == "chance"]
    # Right of the plotting area (x domain 1, anchored on its left), where no point is drawn.
    assert (label.xref, label.x, label.xanchor, label.y) == ("x domain", 1, "left", 0.5)
    assert figure.layout.margin.r >= 60


def test_token_labels_give_each_position_its_number_and_escaped_word():
    assert plots.token_labels(["<b>x</b>", "fine"]) == {"1": "1 &lt;b&gt;x&lt;/b&gt;", "2": "2 fine"}
    assert plots.token_labels(["a", "b"], first=29) == {"29": "29 a", "30": "30 b"}
    assert plots.token_labels([]) == {}
    assert plots.token_labels(["x" * 30])["1"] == "1 " + "x" * 11 + "…"  # long words are cut


@pytest.mark.parametrize("length", [1, 7, 120, 400])
def test_token_position_plots_label_every_token_with_its_number(length):
    """Every chart along the tokens names every position "29 favor" on a category axis in reading order, which
    Plotly thins to what fits (one label per 1.2 font sizes): every token where there is room or when
    zoomed in, a subset otherwise; the hover names each token through the same labels."""
    from rnndemo import step_plots

    tokens = [f"word{i}" for i in range(length)]
    expected = plots.token_labels(tokens)
    trajectories = {"rnn": np.full(length, 0.5)}
    figures = [
        token_plots.heatmap(np.zeros((length, 4)), tokens, "states"),
        token_plots.trajectory_chart({"rnn": [0.5] * length}, {"rnn": tokens}, NAMES),
        step_plots.step_prediction_chart(trajectories, tokens, length - 1, NAMES),
        step_plots.log_odds_bars(tokens, np.linspace(-1, 1, length), "LSTM", scale=1.0),
    ]
    for figure in figures:
        axis = figure.layout.xaxis
        assert axis.type == "category" and axis.categoryorder == "array"
        assert list(axis.categoryarray) == list(range(1, length + 1)) and axis.labelalias == expected
        assert axis.tickvals is None and axis.ticktext is None  # Plotly picks the labels that fit
        assert axis.tickangle == -90  # upright: one line's width each, so the labels kept never touch
        assert all("token <b>%{x}</b>" in trace.hovertemplate for trace in figure.data)
    window = step_plots.state_window(np.zeros((length, 3)), tokens, length - 1, (0, 1), "h")
    # The marked token's line stands on its column: a shape's x on a category axis is the category's index.
    marked = step_plots.step_prediction_chart(trajectories, tokens, length - 1, NAMES)
    assert marked.layout.shapes[-1].x0 == length - 1 == list(marked.layout.xaxis.categoryarray).index(length)
    window_axis = list(window.layout.xaxis.categoryarray)
    assert window.layout.shapes[0].x0 == window_axis.index(length) and window.data[1].x[0] == length
    start = max(0, length - 1 - step_plots.STATE_WINDOW)
    assert list(window.layout.xaxis.categoryarray) == list(range(start + 1, length + 1))
    assert window.layout.xaxis.labelalias == {key: value for key, value in expected.items() if int(key) > start}


def test_heatmap_hover_names_each_column_word_without_a_word_per_cell():
    """Hover gives position and word from the column itself: no (units × time) array of words to send."""
    tokens = ["a", "<b>bold</b>", "a"]
    figure = token_plots.heatmap(np.arange(6, dtype=np.float32).reshape(3, 2), tokens, "states")
    trace = figure.data[0]
    assert list(trace.x) == [1, 2, 3]  # positions: repeated words stay apart
    assert figure.layout.xaxis.labelalias == {"1": "1 a", "2": "2 &lt;b&gt;bold&lt;/b&gt;", "3": "3 a"}  # escaped
    assert trace.customdata is None and "token <b>%{x}</b>" in trace.hovertemplate
    assert figure.layout.xaxis.type == "category"
    np.testing.assert_array_equal(np.asarray(trace.z), [[0, 2, 4], [1, 3, 5]])  # (units, time)


def figure_builders() -> dict[str, Callable[[], object]]:
    """How to build one figure from every builder the pages draw (plots, step_plots, race_plots), on tiny data;
    a test builds only the figure it names (building all 24 for each of them cost most of this file's time)."""
    from rnndemo import race_plots, step_plots
    from rnndemo.race import CurvePoint

    tokens = ["a", "b", "c"]
    rows = [{"distance": d, "accuracy": 0.6, "ci_low": 0.5, "ci_high": 0.7} for d in (0, 10)]
    memory = {"models": {"rnn": {"accuracy": rows, "gradient": {"distance": [0, 1], "mean_norm": [1e-2, 1e-4]}}}}
    table = {"mean_predicted": [0.2, 0.8], "observed_positive_rate": [0.3, 0.7], "count": [5, 5]}
    points = [CurvePoint(step=1, seconds=0.5, test_mse=0.2, train_loss=0.3)]
    return {
        "trajectory": lambda: token_plots.trajectory_chart({"rnn": [0.2, 0.5, 0.8]}, {"rnn": tokens}, NAMES),
        "pca 2-D": lambda: embedding_plots.pca_scatter(
            tokens, np.eye(3)[:, :2], ["query", "neighbour", "neighbour"], np.ones(2), "p"
        ),
        "pca 3-D": lambda: embedding_plots.pca_scatter(
            tokens, np.eye(3), ["query", "neighbour", "neighbour"], np.ones(3), "p"
        ),
        "heatmap": lambda: token_plots.heatmap(np.zeros((3, 2)), tokens, "states"),
        "unfolded": lambda: token_plots.unfolded_graph(tokens, [0.2, 0.5, 0.8]),
        "training": lambda: evaluation_plots.training_curves({"loss": [1.0, 0.5], "val_loss": [1.1, 0.6]}),
        "confusion": lambda: evaluation_plots.confusion_figure([[1, 2], [3, 4]], "c"),
        "roc": lambda: evaluation_plots.roc_figure({"rnn": (np.array([0, 1]), np.array([0, 1]), 0.5)}, NAMES),
        "calibration": lambda: evaluation_plots.calibration_figure({"rnn": table}, NAMES),
        "memory accuracy": lambda: memory_plots.memory_accuracy_figure(memory, NAMES),
        "memory gradient": lambda: memory_plots.memory_gradient_figure(memory, NAMES),
        "next words": lambda: language_model_plots.next_word_bars({"rnn": [("the", 0.3)], "lstm": [("a", 0.5)]}, NAMES),
        "unrolled LM": lambda: language_model_plots.language_model_graph(tokens, {"rnn": [("x", 0.1)] * 3}, NAMES),
        "context": lambda: language_model_plots.context_memory_figure(
            {"contexts": [1, 0], "models": {"rnn": [90.0, 80.0]}}, NAMES
        ),
        "LM training": lambda: language_model_plots.language_model_training_figure(
            {"rnn": {"history": {"tokens": [1], "val_perplexity": [9]}}}, NAMES
        ),
        "order test": lambda: evaluation_plots.order_test_figure(
            {"n": 10, "models": {"rnn": {"as_written": 0.8}}}, NAMES, {"as_written": "as written"}
        ),
        "step": lambda: step_plots.step_prediction_chart({"rnn": np.array([0.2, 0.5, 0.8])}, tokens, 1, NAMES),
        "state window": lambda: step_plots.state_window(np.zeros((3, 4)), tokens, 1, (0, 1), "h"),
        "log-odds": lambda: step_plots.log_odds_bars(tokens, np.array([0.5, -0.5, 0.0]), "LSTM", 1.0),
        "race": lambda: race_plots.race_curves({"rnn": points}, 0.5, NAMES),
        "race lag": lambda: race_plots.error_against_lag(
            {"rnn": [{"lag": 10, "test_mse": 0.1}]}, {10: 0.5}, NAMES, "t"
        ),
    }


def axes_of(figure) -> list:
    three_d = any(trace.type == "scatter3d" for trace in figure.data)
    scenes = [axis for scene in figure.select_scenes() if three_d for axis in (scene.xaxis, scene.yaxis, scene.zaxis)]
    return [*figure.select_xaxes(), *figure.select_yaxes(), *scenes]


@pytest.mark.parametrize("name", list(figure_builders()))
def test_every_figure_has_readable_text_in_dark_ink(name):
    """Issue 22: on every chart the pages draw, the ticks, axis titles, legend and title are at least 14 px in
    dark ink on white paper and the legend sits below the plot; the chart theme's 12 px grey never shows
    through."""
    figure = figure_builders()[name]()
    layout = figure.layout
    assert plots.is_readable(figure)
    fonts = [layout.font, layout.title.font, layout.legend.font]
    fonts += [font for axis in axes_of(figure) for font in (axis.tickfont, axis.title.font)]
    assert axes_of(figure) and all(font.size >= 14 and font.color == plots.INK for font in fonts)
    assert layout.paper_bgcolor == layout.plot_bgcolor == plots.PAPER
    # Below the plot; across it, but for a diagram wider than a phone, whose legend stacks at its left edge.
    stacked = name == "unrolled LM"
    assert (layout.legend.orientation, layout.legend.yref, layout.legend.y) == ("v" if stacked else "h", "container", 0)
    # The title's lines sit between the toolbar's band (36 px) and the plot, inside the top margin.
    title = layout.title
    if title.text:
        block = (title.text.count("<br>") + 1) * plots.TITLE_LINE_HEIGHT * title.font.size
        top = (1 - title.y) * layout.height - block / 2  # px from the chart's top edge
        assert (title.yref, title.yanchor) == ("container", "middle")
        assert abs(top - plots.TOOLBAR_BAND) < 0.01 and layout.margin.t >= top + block


def test_readable_keeps_a_figures_own_choices_and_reaches_every_subplot():
    layout = plots.readable(
        dict(title="t", xaxis=dict(tickfont=dict(size=20)), xaxis2=dict(title="second"), legend=dict(y=-0.3))
    )
    assert layout["title"]["text"] == "t" and layout["title"]["font"]["size"] == plots.READABLE_FONT_SIZES["title"]
    assert layout["xaxis"]["tickfont"] == dict(size=20, color=plots.INK)  # its own size kept, ink added
    assert layout["xaxis2"]["title"] == dict(text="second", font=dict(size=15, color=plots.INK))
    assert layout["xaxis2"]["tickfont"]["size"] == 14 and layout["legend"]["y"] == -0.3


def test_make_readable_fills_a_figure_no_helper_built_and_leaves_built_ones_alone():
    import plotly.graph_objects as go

    figure = go.Figure(go.Scatter(x=[1], y=[2]), layout=dict(title="raw", legend=dict(y=-0.2)))
    assert not plots.is_readable(figure)
    plots.make_readable(figure)
    assert figure.layout.xaxis.tickfont.size == 14 and figure.layout.legend.y == -0.2
    assert figure.layout.title.text == "raw" and figure.layout.title.font.color == plots.INK
    built = token_plots.trajectory_chart({"rnn": [0.2]}, {"rnn": ["a"]}, NAMES)
    before = built.to_plotly_json()
    assert plots.make_readable(built).to_plotly_json() == before


def test_scale_fonts_enlarges_every_text_and_the_height_to_whole_pixels():
    """Presenter mode (ui.PRESENTER_SCALE 1.25): 14 px ticks become 18 px, every other text as much larger."""
    figure = token_plots.trajectory_chart({"rnn": [0.2, 0.8]}, {"rnn": ["a", "b"]}, NAMES)
    figure.add_annotation(text="note", font_size=10)
    height = figure.layout.height
    sizes = plots.READABLE_FONT_SIZES
    plots.scale_fonts(figure, 1.25)
    layout = figure.layout
    assert layout.xaxis.tickfont.size == layout.yaxis.tickfont.size == 18
    assert layout.font.size == 18 and layout.title.font.size == math.ceil(sizes["title"] * 1.25)
    assert layout.legend.font.size == 18 and layout.yaxis.title.font.size == math.ceil(sizes["axis_title"] * 1.25)
    assert layout.annotations[-1].font.size == 13 and layout.height == round(height * 1.25)
    assert all("colorbar" not in trace.get("marker", {}) for trace in figure.to_plotly_json()["data"])  # none added
    heat = plots.scale_fonts(token_plots.heatmap(np.zeros((3, 2)), ["a", "b", "c"], "states"), 1.25)
    assert heat.data[0].colorbar.tickfont.size == 18
    confusion = plots.scale_fonts(evaluation_plots.confusion_figure([[1, 2], [3, 4]], "c"), 1.25).to_plotly_json()
    assert "colorbar" not in confusion["data"][0]  # its scale is hidden and stays so
    unchanged = token_plots.trajectory_chart({"rnn": [0.2]}, {"rnn": ["a"]}, NAMES)
    assert plots.scale_fonts(unchanged, 1).layout.xaxis.tickfont.size == 14


def _rgb(color: str) -> np.ndarray:
    return np.array([float(part) for part in color[color.index("(") + 1 : color.index(")")].split(",")])


def _contrast(first: np.ndarray, second: np.ndarray) -> float:
    """WCAG contrast ratio of two sRGB colours (0–255)."""

    def luminance(color):
        channel = color / 255
        linear = np.where(channel <= 0.03928, channel / 12.92, ((channel + 0.055) / 1.055) ** 2.4)
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_unfolded_graph_colours_diverge_at_one_half_and_its_text_stays_readable():
    probabilities = [0.07, 0.44, 0.5, 0.56, 0.93, 0.0, 1.0]
    figure = token_plots.unfolded_graph([f"t{i}" for i in range(len(probabilities))], probabilities)
    fills = [_rgb(shape.fillcolor) for shape in figure.layout.shapes if shape.y0 == 0.85]
    assert len(fills) == len(probabilities)
    low, below, middle, above, high = fills[:5]
    assert np.linalg.norm(low - below) > 120  # 0.07 and 0.44 are clearly different colours
    assert low[0] > low[2] and below[0] > below[2]  # negative side: red
    assert high[2] > high[0] and above[2] > above[0]  # positive side: blue
    assert np.all(middle > 230)  # the threshold is neutral
    labels = [a for a in figure.layout.annotations if a.text and a.text.startswith("h")]
    for fill, label in zip(fills, labels):
        assert _contrast(fill, _hex(label.font.color)) >= 4.5, label.text
    for probability in np.linspace(0, 1, 101):  # every fill, not only those drawn above
        fill = plots.probability_color(probability)
        assert _contrast(_rgb(fill), _hex(plots.readable_text_color(fill))) >= 4.5, probability
    assert "hₜ₋₁" in figure.layout.title.text and "_{" not in figure.layout.title.text
    colorbar = figure.data[-1].marker
    assert colorbar.showscale and (colorbar.cmin, colorbar.cmax) == (0, 1)


def _hex(color: str) -> np.ndarray:
    return np.array([int(color[index : index + 2], 16) for index in (1, 3, 5)], dtype=float)


def test_language_model_reference_lines_are_named_in_the_legend_not_written_on_the_chart():
    """The n-gram references are legend entries (a label written on the chart ran into the curves)."""
    section = {
        "lstm": {"history": {"tokens": [1_000_000, 2_000_000], "val_perplexity": [290.0, 200.0]}},
        "ngram": {"validation_perplexity": 167.6},
        "bigram": {"validation_perplexity": 202.4},
    }
    figure = language_model_plots.language_model_training_figure(
        section, {"lstm": "LSTM LM", "ngram": "trigram", "bigram": "bigram"}
    )
    assert not figure.layout.annotations
    references = {trace.name: list(trace.y) for trace in figure.data if "whole validation split" in trace.name}
    assert references == {
        "bigram (whole validation split)": [202.4, 202.4],
        "trigram (whole validation split)": [167.6, 167.6],
    }
    assert all(list(trace.x) == [1_000_000, 2_000_000] for trace in figure.data)


def test_reference_lines_are_the_shapes_plotly_adds():
    """horizontal_line / vertical_line draw exactly what add_hline / add_vline draw (golden: plotly itself)."""
    import plotly.graph_objects as go

    from rnndemo.plots import horizontal_line, vertical_line

    def figure():
        return go.Figure(go.Scatter(x=[1, 2, 3], y=[0.2, 0.6, 0.9]))

    expected, ours = figure(), figure()
    expected.add_hline(y=0.5, line_dash="dash", line_color="gray")
    expected.add_vline(x=2, line_color="black", line_width=1, opacity=0.5)
    horizontal_line(ours, 0.5, dash="dash", color="gray")
    vertical_line(ours, 2, color="black", width=1, opacity=0.5)
    assert ours.to_dict()["layout"]["shapes"] == expected.to_dict()["layout"]["shapes"]


def test_log_odds_bars_draw_every_token_once_coloured_by_sign_on_the_shared_range():
    """The Inside page's occlusion bars (step_plots.log_odds_bars): one bar per token at its position, green when
    removing the token lowers p(positive) (a positive effect), red otherwise, the word escaped in its hover, and
    every model's chart on the same ±scale (5 % headroom)."""
    from rnndemo.step_plots import log_odds_bars

    tokens = ["<b>great</b>", "plot", "dull", "x"]
    effects = np.array([1.5, 0.0, -2.0, 0.25])
    figure = log_odds_bars(tokens, effects, "LSTM", scale=4.0)
    drawn = {}
    for trace in figure.data:
        for position, value in zip(trace.x, trace.y):
            assert position not in drawn
            drawn[int(position)] = (float(value), figure.layout.xaxis.labelalias[str(position)], trace.marker.color)
    assert drawn == {
        1: (1.5, "1 &lt;b&gt;great&lt;/b&gt;", "#2ca02c"),
        2: (0.0, "2 plot", "#d62728"),
        3: (-2.0, "3 dull", "#d62728"),
        4: (0.25, "4 x", "#2ca02c"),
    }
    assert tuple(figure.layout.yaxis.range) == pytest.approx((-4.2, 4.2))
    assert figure.layout.barmode == "overlay" and figure.layout.title.text == "LSTM"


def test_next_word_bars_lays_out_its_subplots_as_make_subplots_does():
    """The bars' hand-made grid (one row, spacing 0.12) matches plotly's make_subplots: the same axis domains
    and anchors, and the same subplot titles at the same places."""
    from plotly.subplots import make_subplots

    from rnndemo.language_model_plots import next_word_bars

    candidates = {"rnn": [("good", 0.3)], "lstm": [("bad", 0.5)], "ngram": [("the", 0.1)]}
    names = {"rnn": "SimpleRNN LM", "lstm": "LSTM LM", "ngram": "n-gram"}
    figure = next_word_bars(candidates, names).to_dict()["layout"]
    grid = make_subplots(rows=1, cols=3, subplot_titles=list(names.values()), horizontal_spacing=0.12)
    reference = grid.to_dict()["layout"]
    for axis in ("xaxis", "xaxis2", "xaxis3", "yaxis", "yaxis2", "yaxis3"):
        assert figure[axis]["anchor"] == reference[axis]["anchor"]
        np.testing.assert_allclose(figure[axis]["domain"], reference[axis]["domain"], atol=1e-12)
    for ours, theirs in zip(figure["annotations"], reference["annotations"], strict=True):
        assert ours["text"] == theirs["text"] and ours["font"] == theirs["font"]
        assert (ours["x"], ours["y"]) == pytest.approx((theirs["x"], theirs["y"]))
        assert {key: ours[key] for key in ("xref", "yref", "xanchor", "yanchor", "showarrow")} == {
            key: theirs[key] for key in ("xref", "yref", "xanchor", "yanchor", "showarrow")
        }


def test_wrap_title_breaks_long_plain_lines_for_a_phone_and_leaves_markup_whole():
    title = "Test period: each week's value and the forecasts made 13 weeks before it"
    lines = plots.wrap_title(title).split("<br>")
    assert len(lines) == 2 and all(len(line) <= plots.TITLE_LINE for line in lines) and " ".join(lines) == title
    coloured = "<span style='color:red'>" + "x " * 40 + "</span>"
    assert plots.wrap_title(f"short<br>{coloured}") == f"short<br>{coloured}"
    assert (
        token_plots.trajectory_chart({"rnn": [0.2]}, {"rnn": ["a"]}, NAMES).layout.title.text
        == "Running prediction after each token"
    )


@pytest.mark.parametrize("name", ["race", "race lag"])
def test_the_race_log_axes_label_powers_of_ten_at_full_size(name):
    """The race's errors span several decades: its log axes label whole decades only, as the memory gradient's
    do (powers written out); the 2 and 5 Plotly writes between decades were 10.5 px (Chromium). Log axes
    within one decade (perplexity) get full-size labels from Plotly."""
    axes = [axis for axis in axes_of(figure_builders()[name]()) if axis.type == "log"]
    assert axes and all(axis.dtick == 1 for axis in axes)


def test_the_legend_adds_its_lines_to_the_height_and_presenter_mode_places_the_title_again():
    """Issue 22: under a legend of seven entries (one line each in a half-page column) the ROC chart's plot was
    80 px tall: each legend entry adds a line to the height. Presenter mode's larger title still clears the
    toolbar's band."""
    curves = {name: (np.array([0, 1]), np.array([0, 1]), 0.5) for name in ("rnn", "lstm")}
    one, two = (evaluation_plots.roc_figure(dict(list(curves.items())[:count]), NAMES) for count in (1, 2))
    line = 1.3 * plots.READABLE_FONT_SIZES["legend"]
    assert two.layout.height - one.layout.height == round(3 * line) - round(2 * line)  # + chance line each
    figure = plots.scale_fonts(token_plots.trajectory_chart({"rnn": [0.2]}, {"rnn": ["a"]}, NAMES), 1.25)
    block = plots.TITLE_LINE_HEIGHT * figure.layout.title.font.size
    assert abs((1 - figure.layout.title.y) * figure.layout.height - block / 2 - plots.TOOLBAR_BAND) < 0.01
    assert figure.layout.margin.t >= plots.TOOLBAR_BAND + block


def test_upright_token_labels_add_their_depth_to_the_height():
    """The running prediction's plot keeps its height under labels such as "31 unnecessari…" (in 380 px they left
    it 60 px tall, Chromium at 1280×720): the chart grows by the longest label's length."""
    short = token_plots.trajectory_chart({"rnn": [0.5] * 3}, {"rnn": ["a", "b", "c"]}, NAMES)
    long = token_plots.trajectory_chart({"rnn": [0.5] * 3}, {"rnn": ["a", "unnecessarily", "c"]}, NAMES)
    label = len("2 unnecessari…")  # plots.token_labels cuts a word to 12 characters
    assert long.layout.height - short.layout.height == math.ceil(label * 0.55 * 14) - math.ceil(3 * 0.55 * 14)


def test_a_word_is_shortened_to_what_its_box_holds_and_escaped():
    """A box 89 px wide (the projector panel's, Chromium) holds "flashy" whole and "unnecessarily" as its start and
    "…" in 18-px bold type; a wider box keeps more of it, and a visitor's markup stays text."""
    assert plots.fitted_word("flashy", 89) == "flashy"
    short = plots.fitted_word("unnecessarily", 89)
    assert short.endswith("…") and "unnecessarily".startswith(short[:-1]) and len(short) >= 5
    room = 89 - plots.LABEL_PADDING * plots.PRESENTER_TEXT_SIZE
    assert plots.bold_width(short, plots.PRESENTER_TEXT_SIZE) <= room
    one_more = "unnecessarily"[: len(short)] + "…"  # the longest start that fits was kept
    assert plots.bold_width(one_more, plots.PRESENTER_TEXT_SIZE) > room
    assert len(plots.fitted_word("unnecessarily", 140)) > len(short)
    assert plots.fitted_word("unnecessarily", 140, font_size=10) == "unnecessarily"
    assert plots.fitted_word("mmmmmmmm", 10) == "m…"  # never less than one letter
    assert plots.fitted_word("<b>bold</b>", 400) == "&lt;b&gt;bold&lt;/b&gt;"
    assert "<" not in plots.fitted_word("<script>alert(1)</script>", 60)
    assert plots.bold_width("mw", 10) > plots.bold_width("il", 10)


def test_the_unfolded_graph_shortens_long_words_to_their_boxes_and_names_them_whole_on_hover():
    tokens = ["i", "happened", "unnecessarily", "flashy"]
    narrow = token_plots.unfolded_graph(tokens, [0.5] * 4, plot_width=300)
    wide = token_plots.unfolded_graph(tokens, [0.5] * 4, plot_width=1200)

    def inputs(figure):
        return {a.hovertext: a.text for a in figure.layout.annotations if a.text and a.text.startswith("x")}

    assert inputs(narrow)["unnecessarily"].endswith("…</b>") and inputs(narrow)["i"] == "x1<br><b>i</b>"
    assert inputs(wide)["unnecessarily"] == "x3<br><b>unnecessarily</b>"
    boxes = [shape for shape in narrow.layout.shapes if shape.y0 == -0.35]
    assert len(boxes) == 4 and boxes[0].x1 - boxes[0].x0 == token_plots.UNFOLDED_BOX
    shown = token_plots.unfolded_graph([f"t{i}" for i in range(20)], [0.5] * 20)
    assert len([shape for shape in shown.layout.shapes if shape.y0 == -0.35]) == token_plots.UNFOLDED_STEPS


def unvalidated_builders() -> dict[str, Callable[[], object]]:
    """The charts built with plots.figure_from(validate=False), on inputs that reach each of their branches."""
    words = ["<b>bold</b>", "a", "unnecessarily", "ok"] * 50
    five = ["rnn", "lstm", "gru", "dfn", "cnn"]
    language_models = {name: [("word", 0.25), ("<i>x</i>", 0.125)] for name in ["rnn", "lstm", "gru", "ngram"]}
    states = np.tanh(np.random.default_rng(0).normal(size=(200, 40)))  # (time, units)
    from rnndemo import step_plots, stepper

    return {
        "trajectory, 5 models, 200 tokens": lambda: token_plots.trajectory_chart(
            {name: list(np.linspace(0, 1, 200)) for name in five}, {name: words for name in five}, NAMES
        ),
        "trajectory, 1 token": lambda: token_plots.trajectory_chart({"rnn": [0.7]}, {"rnn": ["a"]}, NAMES),
        "unfolded, short": lambda: token_plots.unfolded_graph(words[:3], [0.1, 0.5, 0.9]),
        "unfolded, with a gap": lambda: token_plots.unfolded_graph(words, list(np.linspace(0, 1, 200))),
        "unrolled LM": lambda: language_model_plots.language_model_graph(
            words[:12], {name: [("x", 0.5)] * 8 for name in language_models}, NAMES
        ),
        "next words": lambda: language_model_plots.next_word_bars(language_models, NAMES),
        "context": lambda: language_model_plots.context_memory_figure(
            {"contexts": [1, 2, 0], "models": {"rnn": [90.0, 80.0, 70.0], "ngram": [120.0, 110.0, 105.0]}}, NAMES
        ),
        "heatmap, named units": lambda: token_plots.heatmap(states[:, :8], words, "states", units=np.arange(8)),
        "heatmap, every unit": lambda: token_plots.heatmap(states, words, "states", side_by_side=2),
        "gate heatmap": lambda: token_plots.gate_heatmap(np.abs(states[:, :3]), words, "forget", units=np.arange(3)),
        "state window": lambda: step_plots.state_window(states, words, 100, (1, 5), "h"),
        "step prediction": lambda: step_plots.step_prediction_chart(
            {name: np.linspace(0, 1, 200) for name in five}, words, 7, NAMES
        ),
        "step prediction, narrow": lambda: step_plots.step_prediction_chart(
            {"rnn": np.linspace(0, 1, 3)}, words[:3], 0, NAMES, narrow=True
        ),
        "log-odds": lambda: step_plots.log_odds_bars(words[:9], np.linspace(-2, 2, 9), "LSTM", 2.0),
        "gates at a step": lambda: step_plots.gates_at_step_chart(
            {"lstm": [stepper.GateAtStep(gate, 0.25, 0.5) for gate in ("input", "forget", "output")]},
            2,
            NAMES,
            "LSTM unit 4",
        ),
        "gates at a step, no unit": lambda: step_plots.gates_at_step_chart(
            {"gru": [stepper.GateAtStep(gate, 0.75, None) for gate in ("update", "reset")]}, 0, NAMES, None
        ),
    }


@pytest.mark.parametrize("scale", [1, 1.25])
@pytest.mark.parametrize("name", list(unvalidated_builders()))
def test_a_chart_built_without_validation_is_the_figure_plotly_validates_it_into(name, scale):
    """figure_from(validate=False) sends the dicts as written: a `line_color` shorthand or a colour scale by name
    would reach the browser unexpanded, which Plotly's validation (the oracle here) expands."""
    import json

    import plotly.graph_objects as go

    built = unvalidated_builders()[name]()
    validated = go.Figure(built.to_dict())
    # Presenter mode updates a figure in place: an unvalidated figure's dicts shared between two axes were scaled twice.
    sent, oracle = (json.loads(plots.scale_fonts(figure, scale).to_json()) for figure in (built, validated))
    assert sent == oracle
