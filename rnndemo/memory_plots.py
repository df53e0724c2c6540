"""The short-memory experiment's charts: accuracy as filler follows a review, and the vanishing gradient."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from rnndemo import plots


def _memory_line(name: str, values: dict) -> dict:
    """A memory curve's line: the model's colour, dashed for a model that reads the mean of its states."""
    return dict(color=plots.MODEL_COLORS.get(name), dash="dash" if values.get("readout") == "mean" else "solid")


def memory_accuracy_figure(result: dict, display_names: dict[str, str]) -> go.Figure:
    """Accuracy against the neutral tokens appended, one line per model in the experiment's order. Short axis
    titles and a two-line title: the chart sits in a half-width column (a whole phone's width)."""
    figure = go.Figure()
    for name, values in result["models"].items():
        rows = values["accuracy"]
        figure.add_trace(
            go.Scatter(
                x=[row["distance"] for row in rows],
                y=[row["accuracy"] for row in rows],
                name=display_names.get(name, name),
                mode="lines+markers",
                line=_memory_line(name, values),
                error_y=dict(
                    type="data",
                    symmetric=False,
                    array=[row["ci_high"] - row["accuracy"] for row in rows],
                    arrayminus=[row["accuracy"] - row["ci_low"] for row in rows],
                ),
                hovertemplate="%{x} filler tokens: accuracy %{y:.3f}<extra>"
                + display_names.get(name, name)
                + "</extra>",
            )
        )
    # The label sits right of the plotting area, where no point can be.
    figure.add_hline(y=0.5, line_dash="dot", line_color="gray", annotation_text="chance", annotation_position="right")
    figure.update_xaxes(title="neutral tokens appended")
    figure.update_yaxes(title="accuracy", range=[0.3, 1.02])
    plots.lay_out(figure, "Accuracy as filler follows the review<br>(bars: 95% Wilson interval)", height=460)
    figure.update_layout(margin_r=70)  # room for the "chance" label
    return figure


def memory_gradient_figure(result: dict, display_names: dict[str, str]) -> go.Figure:
    """The mean |d(w·h_T)/de_t| against the distance from the end, one line per model (log axis)."""
    figure = go.Figure()
    norms = [np.asarray(values["gradient"]["mean_norm"], dtype=np.float64) for values in result["models"].values()]
    positive = np.concatenate([values[values > 0] for values in norms] + [np.array([1.0])])
    floor = float(positive.min()) / 10  # an exact 0 is drawn one decade below the smallest measured gradient
    for name, values in result["models"].items():
        gradient = values["gradient"]
        norm = np.asarray(gradient["mean_norm"], dtype=np.float64)
        figure.add_trace(
            go.Scatter(
                x=gradient["distance"],
                y=np.where(norm > 0, norm, floor),  # an exact 0 (float32 underflow) cannot sit on a log axis
                name=display_names.get(name, name),
                line=_memory_line(name, values),
                hovertemplate="distance %{x}: mean |d(w·h_T)/de| %{y:.2e}<extra>"
                + display_names.get(name, name)
                + "</extra>",
            )
        )
    figure.update_xaxes(title="tokens from the end")
    # Powers of ten, not SI prefixes (100µ, 10n, 1p read as units, not as a gradient's size). A short title:
    # "mean |d(w·h_T)/de_t| (log)" ran past the plotting area's height and was cut; the chart's title says it.
    figure.update_yaxes(title="gradient (log)", type="log", exponentformat="power", showexponent="all")
    # Short lines: one long line was cut off in a half-width column.
    plots.lay_out(figure, "Vanishing gradient: how much each<br>word still moves h_T, |d(w·h_T)/de_t|", height=460)
    return figure
