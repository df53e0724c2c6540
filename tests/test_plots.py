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
