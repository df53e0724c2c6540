"""Plot builders: the data drawn is the data given, and visitor text is escaped."""

import numpy as np
import pytest

from rnndemo import plots

NAMES = {"rnn": "SimpleRNN", "lstm": "LSTM"}


@pytest.mark.parametrize(
    ("length", "mode"),
    [
        (5, "lines+markers"),
        (plots.TRAJECTORY_MARKER_LIMIT, "lines+markers"),
        (plots.TRAJECTORY_MARKER_LIMIT + 1, "lines"),
        (400, "lines"),
    ],
)
def test_trajectory_chart_draws_every_step_and_markers_only_for_short_reviews(length, mode):
    """One point per token per model, in order; markers only while they stay cheap for the browser."""
    rng = np.random.default_rng(0)
    trajectories = {name: rng.random(length).tolist() for name in NAMES}
    tokens = {name: [f"w{i}" for i in range(length)] for name in NAMES}
    figure = plots.trajectory_chart(trajectories, tokens, NAMES)
    assert [trace.name for trace in figure.data] == ["SimpleRNN", "LSTM"]
    for trace, name in zip(figure.data, NAMES):
        assert trace.mode == mode
        assert list(trace.x) == list(range(1, length + 1))
        assert list(trace.y) == pytest.approx(trajectories[name])
        assert list(trace.customdata) == tokens[name]


def test_trajectory_chart_escapes_tokens():
    """A token that looks like HTML reaches the hover text escaped."""
    figure = plots.trajectory_chart({"rnn": [0.2]}, {"rnn": ["<img src=x onerror=alert(1)>"]}, NAMES)
    assert "<img" not in str(figure.data[0].customdata[0])


def test_next_word_bars_hold_each_models_words_most_probable_on_top_and_escaped():
    from rnndemo.plots import next_word_bars

    candidates = {"rnn": [("the", 0.3), ("<b>x</b>", 0.1)], "lstm": [("a", 0.5), ("film", 0.2), ("it", 0.1)]}
    figure = next_word_bars(candidates, {"rnn": "SimpleRNN LM", "lstm": "LSTM LM"})
    rnn, lstm = figure.data
    assert list(rnn.x) == [0.1, 0.3] and rnn.y[-1].strip() == "the"  # Plotly draws the last bar on top
    assert "<b>" not in "".join(rnn.y) and "&lt;b&gt;" in "".join(rnn.y)
    assert list(lstm.x) == [0.1, 0.2, 0.5]


def test_language_model_graph_shows_the_last_steps_and_each_models_prediction():
    from rnndemo.plots import language_model_graph

    tokens = [f"w{i}" for i in range(12)] + ["<script>"]
    predictions = {"lstm": [(f"p{i}", 0.5) for i in range(8)]}  # after each of the last 8 tokens
    figure = language_model_graph(tokens, predictions, {"lstm": "LSTM LM"}, max_steps=8)
    texts = " ".join(annotation.text for annotation in figure.layout.annotations)
    assert "x5<br>" not in texts and "x6<br>" in texts and "x13<br>" in texts  # only the last 8 steps
    assert "&lt;script&gt;" in texts and "<script>" not in texts
    assert "p0 50%" in texts and "p7 50%" in texts


def test_context_memory_figure_labels_the_whole_review_as_all():
    from rnndemo.plots import context_memory_figure

    result = {"contexts": [1, 2, 0], "models": {"lstm": [300.0, 200.0, 150.0], "ngram": [250.0, 170.0, 170.0]}}
    figure = context_memory_figure(result, {})
    assert list(figure.data[0].x) == ["1", "2", "all"] and list(figure.data[0].y) == [300.0, 200.0, 150.0]
    assert figure.data[1].line.dash == "dot"


def test_surprise_html_escapes_tokens_and_shades_by_surprisal():
    import numpy as np

    from rnndemo.plots import surprise_html

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
    figure = plots.pca_scatter([f"w{i}" for i in range(40)], coordinates, ["words"] * 40, ratios, "PCA")
    if dimensions == 3:
        axes = [figure.layout.scene.xaxis, figure.layout.scene.yaxis, figure.layout.scene.zaxis]
    else:
        axes = [figure.layout.xaxis, figure.layout.yaxis]
    for component, (axis, expected) in enumerate(zip(axes, reference), start=1):
        match = re.fullmatch(r"PC(\d) \((\d+)% of variance\)", axis.title.text)
        assert match and int(match[1]) == component
        assert int(match[2]) == round(100 * expected)
    assert f"keep {round(100 * reference.sum())}% of the variance" in figure.layout.title.text


def test_pca_3d_labels_only_the_first_words_and_hover_names_all():
    """In 3-D only the query and its nearest neighbours carry a text label; every point still names its word."""
    words = ["query"] + [f"near{i}" for i in range(8)] + ["<b>mine</b>"]
    groups = ["query"] + ["neighbour"] * 8 + ["your words"]
    coordinates = np.random.default_rng(0).normal(size=(len(words), 3))
    figure = plots.pca_scatter(words, coordinates, groups, np.array([0.4, 0.2, 0.1]), "PCA")
    texts = [text for trace in figure.data for text in trace.text]
    hovers = [text for trace in figure.data for text in trace.customdata]
    assert [text for text in texts if text] == words[: plots.PCA_3D_LABELS]
    assert hovers[:-1] == words[:-1] and hovers[-1] == "&lt;b&gt;mine&lt;/b&gt;"
    flat = plots.pca_scatter(words, coordinates[:, :2], groups, np.array([0.4, 0.2]), "PCA")
    assert all(text for trace in flat.data for text in trace.text)  # 2-D keeps every label


def test_confusion_figure_has_short_tick_labels_and_the_counts_in_place():
    figure = plots.confusion_figure([[40, 10], [7, 43]], "AUC 0.912")
    heatmap = figure.data[0]
    assert list(heatmap.x) == ["pred. neg", "pred. pos"] and list(heatmap.y) == ["true neg", "true pos"]
    assert [list(row) for row in heatmap.z] == [[40, 10], [7, 43]]
    assert heatmap.customdata[0][1] == "true negative, predicted positive"  # hover spells the 10 out


def test_memory_gradient_axis_uses_powers_of_ten_and_the_title_fits():
    result = {"models": {"rnn": {"gradient": {"distance": [0, 1, 2], "mean_norm": [1e-2, 1e-6, 0.0]}}}}
    figure = plots.memory_gradient_figure(result, NAMES)
    assert figure.layout.yaxis.type == "log" and figure.layout.yaxis.exponentformat == "power"
    assert list(figure.data[0].y) == [1e-2, 1e-6, 1e-7]  # zero is drawn a decade below the smallest value
    lines = figure.layout.title.text.split("<br>")
    assert len(lines) == 2 and max(len(line) for line in lines) <= 48  # each line fits a half-width column


def test_memory_accuracy_chance_label_sits_outside_the_points():
    rows = [{"distance": d, "accuracy": 0.5, "ci_low": 0.4, "ci_high": 0.6} for d in (0, 100, 400)]
    figure = plots.memory_accuracy_figure({"models": {"rnn": {"accuracy": rows}}}, NAMES)
    (label,) = [annotation for annotation in figure.layout.annotations if annotation.text == "chance"]
    # Right of the plotting area (x domain 1, anchored on its left), where no point is drawn.
    assert (label.xref, label.x, label.xanchor, label.y) == ("x domain", 1, "left", 0.5)
    assert figure.layout.margin.r >= 60


@pytest.mark.parametrize("length", [1, 7, plots.MAX_TOKEN_TICKS, plots.MAX_TOKEN_TICKS + 1, 99, 400])
def test_token_ticks_label_words_evenly_and_never_more_than_the_limit(length):
    tokens = [f"w{i}" for i in range(length)]
    positions, labels = plots.token_ticks(tokens)
    assert 1 <= len(positions) <= plots.MAX_TOKEN_TICKS and positions[0] == 1
    assert len(set(np.diff(positions))) <= 1  # evenly spaced
    assert positions[-1] > length - (positions[1] - positions[0] if len(positions) > 1 else 1)  # reaches the end
    assert labels == [tokens[position - 1] for position in positions]
    if length <= plots.MAX_TOKEN_TICKS:
        assert positions == list(range(1, length + 1))  # short reviews: every word


def test_token_ticks_escape_words_and_handle_no_tokens():
    assert plots.token_ticks([]) == ([], [])
    assert plots.token_ticks(["<b>x</b>", "fine"]) == ([1, 2], ["&lt;b&gt;x&lt;/b&gt;", "fine"])


def test_token_position_plots_use_the_words_as_tick_labels():
    """The heatmaps and the running prediction label their x axis with the tokens; the half-width ones with fewer
    labels."""
    tokens = [f"word{i}" for i in range(120)]
    figures = [
        (plots.heatmap(np.zeros((120, 4)), tokens, "states"), plots.NARROW_TOKEN_TICKS, "one in 6 labelled"),
        (plots.trajectory_chart({"rnn": [0.5] * 120}, {"rnn": tokens}, NAMES), plots.MAX_TOKEN_TICKS, "one in 3"),
    ]
    for figure, limit, note in figures:
        positions, labels = plots.token_ticks(tokens, limit)
        ticks = list(figure.layout.xaxis.tickvals)
        if figure.layout.xaxis.type == "category":  # ticks name the columns they label: back to positions
            ticks = [list(figure.data[0].x).index(tick) + 1 for tick in ticks]
        assert ticks == positions and list(figure.layout.xaxis.ticktext) == labels
        assert len(positions) <= limit and note in figure.layout.xaxis.title.text
    short = plots.heatmap(np.zeros((5, 2)), ["a", "b", "c", "d", "e"], "states")
    assert list(short.layout.xaxis.ticktext) == ["a", "b", "c", "d", "e"] and short.layout.xaxis.title.text == "token"


def test_heatmap_hover_names_each_column_word_without_a_word_per_cell():
    """Hover gives position and word from the column itself: no (units × time) array of words to send."""
    tokens = ["a", "<b>bold</b>", "a"]
    figure = plots.heatmap(np.arange(6, dtype=np.float32).reshape(3, 2), tokens, "states")
    trace = figure.data[0]
    assert list(trace.x) == ["1: a", "2: &lt;b&gt;bold&lt;/b&gt;", "3: a"]  # escaped, and repeated words stay apart
    assert trace.customdata is None and "token %{x}" in trace.hovertemplate
    assert figure.layout.xaxis.type == "category"
    np.testing.assert_array_equal(np.asarray(trace.z), [[0, 2, 4], [1, 3, 5]])  # (units, time)


def test_scale_fonts_enlarges_every_text_the_chart_theme_sets_and_the_height():
    figure = plots.trajectory_chart({"rnn": [0.2, 0.8]}, {"rnn": ["a", "b"]}, NAMES)
    figure.add_annotation(text="note", font_size=10)
    height = figure.layout.height
    sizes = plots.THEME_FONT_SIZES
    plots.scale_fonts(figure, 1.5)
    layout = figure.layout
    assert layout.font.size == sizes["text"] * 1.5 and layout.title.font.size == sizes["title"] * 1.5
    assert layout.legend.font.size == sizes["legend"] * 1.5
    assert (
        layout.xaxis.tickfont.size == sizes["ticks"] * 1.5 and layout.yaxis.title.font.size == sizes["axis_title"] * 1.5
    )
    assert layout.annotations[-1].font.size == 15 and layout.height == round(height * 1.5)
    assert all("colorbar" not in trace.get("marker", {}) for trace in figure.to_plotly_json()["data"])  # none added
    heat = plots.scale_fonts(plots.heatmap(np.zeros((3, 2)), ["a", "b", "c"], "states"), 1.5)
    assert heat.data[0].colorbar.tickfont.size == sizes["ticks"] * 1.5
    confusion = plots.scale_fonts(plots.confusion_figure([[1, 2], [3, 4]], "c"), 1.5).to_plotly_json()
    assert "colorbar" not in confusion["data"][0]  # its scale is hidden and stays so
    unchanged = plots.trajectory_chart({"rnn": [0.2]}, {"rnn": ["a"]}, NAMES)
    assert plots.scale_fonts(unchanged, 1).layout.font.size is None


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
    figure = plots.unfolded_graph([f"t{i}" for i in range(len(probabilities))], probabilities)
    fills = [_rgb(shape.fillcolor) for shape in figure.layout.shapes if shape.y0 == 0.9]
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


def test_side_by_side_heatmaps_label_fewer_tokens_each():
    """Three heatmaps sharing a projector's width each get about a third of the axis: fewer word labels."""
    tokens = [f"w{i}" for i in range(120)]
    values = np.zeros((120, 4))
    counts = [
        len(plots.heatmap(values, tokens, "h", side_by_side=columns).layout.xaxis.tickvals) for columns in (1, 2, 3)
    ]
    assert counts[0] <= plots.NARROW_TOKEN_TICKS and counts[0] > counts[1] > counts[2] >= 4
    assert counts[2] <= 10


def test_language_model_reference_lines_are_named_in_the_legend_not_written_on_the_chart():
    """The n-gram references are legend entries (a label written on the chart ran into the curves)."""
    section = {
        "lstm": {"history": {"tokens": [1_000_000, 2_000_000], "val_perplexity": [290.0, 200.0]}},
        "ngram": {"validation_perplexity": 167.6},
        "bigram": {"validation_perplexity": 202.4},
    }
    figure = plots.language_model_training_figure(section, {"lstm": "LSTM LM", "ngram": "trigram", "bigram": "bigram"})
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
        for position, value, word in zip(trace.x, trace.y, trace.customdata):
            assert position not in drawn
            drawn[int(position)] = (float(value), word, trace.marker.color)
    assert drawn == {
        1: (1.5, "&lt;b&gt;great&lt;/b&gt;", "#2ca02c"),
        2: (0.0, "plot", "#d62728"),
        3: (-2.0, "dull", "#d62728"),
        4: (0.25, "x", "#2ca02c"),
    }
    assert tuple(figure.layout.yaxis.range) == pytest.approx((-4.2, 4.2))
    assert figure.layout.barmode == "overlay" and figure.layout.title.text == "LSTM"


def test_next_word_bars_lays_out_its_subplots_as_make_subplots_does():
    """The bars' hand-made grid (one row, spacing 0.12) matches plotly's make_subplots: the same axis domains
    and anchors, and the same subplot titles at the same places."""
    from plotly.subplots import make_subplots

    from rnndemo.plots import next_word_bars

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
