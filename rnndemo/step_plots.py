"""Figures for the inside page's stepper and its log-odds importance. Each takes data and returns a figure.

The stepper marks one token t: a point on each model's running prediction, and the column of the
hidden state that the step's equation fills in.
"""

from __future__ import annotations

import re

import numpy as np
import plotly.graph_objects as go
from plotly.colors import get_colorscale

from rnndemo import plots, stepper, token_plots

STATE_WINDOW = 15  # tokens on each side of t in the stepper's hidden-state map
# State boxes on each side of t in the projector panel's unfolded graph: with two, a box was 49 px wide at 1280×720
# presenting and held five letters of 18-px type ("suffers" spilled out; Chromium). With one it holds about eight.
UNFOLDED_RADIUS = 1
# px of the panel's plotting area at its narrowest: a third of a 1280-px projector (347 px) or a phone's width
# (350 px), less its 20 px of margins.
PANEL_PLOT_WIDTH = 320
PANEL_HEIGHT = 230  # px of each projector-panel chart (presenter mode scales it by 1.25)


def step_prediction_chart(
    trajectories: dict[str, np.ndarray],
    tokens: list[str],
    step: int,
    display_names: dict[str, str],
    height: int = 320,
    narrow: bool = False,
) -> go.Figure:
    """The running prediction of every model, with token `step` (from 0) marked on each line. `narrow`, for a
    third of the page: the axis numbers the tokens, the cursor names its word, and the legend sits below (in a
    narrow column, word ticks overprint and a legend at the side takes the lines' width)."""
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
    # In a third of a projector's width the long title was cut by its chart: there the cursor's word says which token.
    title = "Running prediction" if narrow else f"Running prediction, token {step + 1} marked"
    layout.update(title=dict(text=title), height=height)
    if narrow:
        # The title's place and the legend below the plot are the readable layout's (plots.layout_spec): set here,
        # a fixed top margin and a legend pushed further down were cut by the chart at 1280×720 (Chromium).
        layout.update(
            xaxis=dict(title=dict(text="token"), range=[0.5, len(tokens) + 0.5]),
            annotations=[
                dict(
                    x=step + 1,
                    y=1,
                    yref="y domain",
                    yanchor="top",  # inside the plot, under the title
                    text=f"<b>{plots.safe(tokens[step], 20)}</b>",
                    showarrow=False,
                )
            ],
        )
    # A shape's x on a category axis is the category's index (from 0), not its value: token `step` is index `step`;
    # the narrow chart's axis is numeric (the positions 1 … n), so there it is the position.
    cursor = step + 1 if narrow else step
    layout["shapes"] = [*layout["shapes"], plots.vertical_line_shape(cursor, color="black", width=1, opacity=0.5)]
    return plots.figure_from(traces, layout, validate=False)


def state_window(
    hidden: np.ndarray, tokens: list[str], step: int, units: tuple[int, ...], title: str, position: str = "token"
) -> go.Figure:
    """The hidden state (units × tokens) around token `step`, with its column and the equation's units marked.
    `position` names what the x axis counts, on the axis and in the hover: "token", or on a series "step and date"
    (the labels are then "10 1999-03-06")."""
    start, stop = max(0, step - STATE_WINDOW), min(len(tokens), step + STATE_WINDOW + 1)
    matrix = np.asarray(hidden[start:stop]).T  # (units, tokens in the window)
    heatmap = dict(
        type="heatmap",
        z=matrix,
        x=np.arange(start + 1, stop + 1),  # the tokens' own positions, counting from 1, labelled "29 favor"
        y=list(range(matrix.shape[0])),
        colorscale=get_colorscale("RdBu"),  # as pairs, the form validation gives: the figure is not validated
        zmin=-1,
        zmax=1,
        hovertemplate=f"{position} <b>%{{x}}</b><br>unit %{{y}}<br>h = %{{z:.3f}}<extra></extra>",
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
        xaxis=plots.token_axis_spec(tokens[start:stop], position, first=start + 1),
        yaxis=dict(title=dict(text="unit")),
    )
    return plots.figure_from([heatmap, marked], layout, validate=False)


def log_odds_bars(tokens: list[str], effects: np.ndarray, title: str, scale: float) -> go.Figure:
    """Occlusion effects in log-odds as bars, on the y range ±`scale` that every model shares."""
    effects = np.asarray(effects, dtype=np.float64)
    positions = np.arange(1, len(tokens) + 1)
    traces = plots.signed_bars(positions, effects, "token <b>%{x}</b><br>Δ log-odds = %{y:+.3f}<extra></extra>")
    layout = plots.layout_spec(title, height=300) | dict(
        barmode="overlay",  # each position is in one trace: overlay keeps every bar full width
        yaxis=dict(title=dict(text="logit p(text) − logit p(without)"), range=[-scale * 1.05, scale * 1.05]),
        xaxis=plots.token_axis_spec(tokens, "token"),
    )
    return plots.figure_from(traces, layout, validate=False)


_BOX_LABEL = re.compile(r"^([xh])(\d+)<br>")  # "x3<br>…" and "h3<br>…": token_plots.unfolded_graph's box labels


def unfolded_at_step(
    tokens: list[str], trajectory: np.ndarray, step: int, model_name: str, radius: int = UNFOLDED_RADIUS
) -> go.Figure:
    """token_plots.unfolded_graph of one model for the tokens around `step` (from 0), numbered as in the whole text,
    with the current step's boxes outlined; no colour bar (the running prediction beside it shows p on its
    axis)."""
    start, stop = stepper.token_window(len(tokens), step, radius)
    figure = token_plots.unfolded_graph(
        tokens[start:stop], [float(value) for value in trajectory[start:stop]], stop - start, PANEL_PLOT_WIDTH
    )
    for annotation in figure.layout.annotations:
        if annotation.text:
            annotation.text = _BOX_LABEL.sub(
                lambda match: f"{match.group(1)}{int(match.group(2)) + start}<br>", annotation.text
            )
    x = (step - start) * token_plots.UNFOLDED_PITCH  # where token_plots.unfolded_graph puts box k
    outline = token_plots.UNFOLDED_BOX / 2 + 0.1
    figure.add_shape(type="rect", x0=x - outline, x1=x + outline, y0=-0.45, y1=1.65, line=dict(color="black", width=3))
    figure.update_traces(marker_showscale=False)
    figure.update_layout(
        title=dict(text=f"{model_name} unfolded at token {step + 1}<br>(hₜ's box: p so far)"),
        height=PANEL_HEIGHT,
        margin=dict(l=10, r=10, t=50, b=10),
    )
    return figure


def gates_at_step_chart(
    gates: dict[str, list[stepper.GateAtStep]], step: int, display_names: dict[str, str], unit_label: str | None
) -> go.Figure:
    """Each gated model's σ gates at token `step` (from 0) as horizontal bars of their mean over the units, and
    the chosen unit's value as a diamond (`unit_label` names it; None: no unit marked)."""
    traces = []
    for name, rows in gates.items():
        labels = [f"{display_names.get(name, name)} {row.gate}" for row in rows]
        traces.append(
            dict(
                type="bar",
                orientation="h",
                x=[row.mean for row in rows],
                y=labels,
                marker=dict(color=plots.MODEL_COLORS.get(name)),
                name=display_names.get(name, name),
                showlegend=False,
                hovertemplate="%{y}: mean over the units %{x:.3f}<extra></extra>",
            )
        )
        marked = [(label, row.unit_value) for label, row in zip(labels, rows) if row.unit_value is not None]
        if marked and unit_label:
            traces.append(
                dict(
                    type="scatter",
                    mode="markers",
                    x=[value for _, value in marked],
                    y=[label for label, _ in marked],
                    marker=dict(symbol="diamond", size=12, color="black"),
                    name=unit_label,
                    showlegend=False,
                    hovertemplate=f"%{{y}}: {unit_label} %{{x:.3f}}<extra></extra>",
                )
            )
    # Short lines: a third of the page cuts a long title, and a third line of title overprints the bars.
    title = f"Gates at token {step + 1}<br>bars: mean of the units"
    axis_title = "0 = shut, 1 = open" + (f"<br>◆: {unit_label}" if unit_label else "")
    # A bar a line of type apart and more: at PANEL_HEIGHT five bars had 22 px each at 18 px presenting, and Plotly
    # left out every other gate's name (Chromium, 1280×720). Up to five bars it is no taller than the running
    # prediction beside it with its legend.
    bars = sum(len(rows) for rows in gates.values())
    layout = plots.layout_spec(title, height=max(PANEL_HEIGHT, 150 + 26 * bars)) | dict(
        # A little past 1, so that a diamond at 1 is not cut in half.
        xaxis=dict(range=[0, 1.05], tickvals=[0, 0.5, 1], title=dict(text=axis_title)),
        yaxis=dict(autorange="reversed", type="category"),
        margin=dict(l=110, r=20, t=75, b=70 if unit_label else 45),
    )
    return plots.figure_from(traces, layout, validate=False)
