"""Figures for the inside page's stepper and its log-odds importance. Each takes data and returns a figure.

The stepper marks one token t: a point on each model's running prediction, and the column of the
hidden state that the step's equation fills in.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from rnndemo import plots, token_plots

STATE_WINDOW = 15  # tokens on each side of t in the stepper's hidden-state map


def step_prediction_chart(
    trajectories: dict[str, np.ndarray], tokens: list[str], step: int, display_names: dict[str, str]
) -> go.Figure:
    """The running prediction of every model, with token `step` (from 0) marked on each line."""
    traces, layout = token_plots.trajectory_spec(
        {name: list(map(float, values)) for name, values in trajectories.items()},
        {name: tokens for name in trajectories},
        display_names,
    )
    for name, values in trajectories.items():
        display = display_names.get(name, name)
        traces.append(
            dict(
                type="scatter",
                x=[step + 1],
                y=[float(values[step])],
                mode="markers",
                marker=dict(size=13, color=plots.MODEL_COLORS.get(name), line=dict(width=2, color="black")),
                name=f"{display} at token {step + 1}",
                showlegend=False,
                hovertemplate=f"token <b>%{{x}}</b><br>p(positive) = %{{y:.3f}}<extra>{display}</extra>",
            )
        )
    # A shape's x on a category axis is the category's index (from 0), not its value: token `step` is index `step`.
    layout["shapes"] = [*layout["shapes"], plots.vertical_line_shape(step, color="black", width=1, opacity=0.5)]
    layout.update(title=dict(text=f"Running prediction, token {step + 1} marked"), height=320)
    return plots.figure_from(traces, layout)


def state_window(hidden: np.ndarray, tokens: list[str], step: int, units: tuple[int, ...], title: str) -> go.Figure:
    """The hidden state (units × tokens) around token `step`, with its column and the equation's units marked."""
    start, stop = max(0, step - STATE_WINDOW), min(len(tokens), step + STATE_WINDOW + 1)
    matrix = np.asarray(hidden[start:stop]).T  # (units, tokens in the window)
    heatmap = dict(
        type="heatmap",
        z=matrix,
        x=np.arange(start + 1, stop + 1),  # the tokens' own positions, counting from 1, labelled "29 favor"
        y=list(range(matrix.shape[0])),
        colorscale="RdBu",
        zmin=-1,
        zmax=1,
        hovertemplate="token <b>%{x}</b><br>unit %{y}<br>h = %{z:.3f}<extra></extra>",
    )
    marked = dict(
        type="scatter",
        x=[step + 1] * len(units),
        y=list(units),
        mode="markers",
        marker=dict(symbol="circle-open", size=11, color="black", line=dict(width=2)),
        name="units in the equation",
        hovertemplate="unit %{y}: in the equation<extra></extra>",
        showlegend=False,
    )
    layout = plots.layout_spec(title, height=320) | dict(
        # The category's index, from the window's start (see step_prediction_chart): at step + 1 the line stood
        # one token to the right of the marked column, and past the window's end squeezed the map to the left.
        shapes=[plots.vertical_line_shape(step - start, color="black", width=2)],
        xaxis=plots.token_axis_spec(tokens[start:stop], "token", first=start + 1),
        yaxis=dict(title=dict(text="unit")),
    )
    return plots.figure_from([heatmap, marked], layout)


def log_odds_bars(tokens: list[str], effects: np.ndarray, title: str, scale: float) -> go.Figure:
    """Occlusion effects in log-odds as bars, on the y range ±`scale` that every model shares."""
    effects = np.asarray(effects, dtype=np.float64)
    positions = np.arange(1, len(tokens) + 1)
    # One trace per colour: a colour per bar is validated bar by bar (~17 ms for 400 tokens, on every rerun).
    traces = [
        dict(
            type="bar",
            x=positions[wanted],
            y=effects[wanted],
            marker=dict(color=color),
            showlegend=False,
            hovertemplate="token <b>%{x}</b><br>Δ log-odds = %{y:+.3f}<extra></extra>",
        )
        for wanted, color in ((effects > 0, "#2ca02c"), (effects <= 0, "#d62728"))
    ]
    layout = plots.layout_spec(title, height=300) | dict(
        barmode="overlay",  # each position is in one trace: overlay keeps every bar full width
        yaxis=dict(title=dict(text="logit p(text) − logit p(without)"), range=[-scale * 1.05, scale * 1.05]),
        xaxis=plots.token_axis_spec(tokens, "token"),
    )
    return plots.figure_from(traces, layout)
