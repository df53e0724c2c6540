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
