"""Charts over a text's tokens: the running prediction, units × tokens heatmaps and the unfolded RNN."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.colors import get_colorscale

from rnndemo import plots

# The browser draws one SVG marker per token on every rerun; for long reviews that was a large
# share of Chromium's CPU per paste on the compare page (with the compare page's toggles, -30 %
# in all: benchmarks/paste_cost.py, docs/PERFORMANCE.md). Longer trajectories are drawn as lines;
# hover still names every token.
TRAJECTORY_MARKER_LIMIT = 80


def trajectory_chart(
    trajectories: dict[str, list[float]], tokens: dict[str, list[str]], display_names: dict[str, str]
) -> go.Figure:
    """The running prediction after each token, one line per model."""
    return plots.figure_from(*trajectory_spec(trajectories, tokens, display_names), validate=False)


def trajectory_spec(
    trajectories: dict[str, list[float]], tokens: dict[str, list[str]], display_names: dict[str, str]
) -> tuple[list[dict], dict]:
    """trajectory_chart's traces and layout, for charts that add to it."""
    longest = max((len(values) for values in trajectories.values()), default=0)
    mode = "lines+markers" if longest <= TRAJECTORY_MARKER_LIMIT else "lines"
    traces = [
        dict(
            type="scatter",
            # Arrays, not lists: plotly validates and copies a list element by element on every rerun.
            x=np.arange(1, len(values) + 1),
            y=np.asarray(values, dtype=np.float64),
            mode=mode,
            name=display_names.get(name, name),
            line=dict(color=plots.MODEL_COLORS.get(name)),
            marker=dict(size=4),
            # %{x} is the axis's label of the position, "29 favor" (plots.token_axis_spec): no word array to send.
            hovertemplate="token <b>%{x}</b><br>p(positive) = %{y:.3f}<extra>"
            + display_names.get(name, name)
            + "</extra>",
        )
        for name, values in trajectories.items()
    ]
    layout = plots.layout_spec("Running prediction after each token", height=380) | dict(
        shapes=[plots.horizontal_line_shape(0.5, dash="dash", color="gray")],
        yaxis=dict(range=[0, 1], title=dict(text="p(positive) so far")),
        xaxis=plots.token_axis_spec(max(tokens.values(), key=len, default=[]), "tokens read"),
    )
    return traces, layout


# In 3-D every text label stays on screen whichever way the map turns, so of the neighbours only the nearest


HEATMAP_NAMED_UNITS = 32  # up to this many rows, each row is labelled with its unit's number


def heatmap(
    values: np.ndarray,
    tokens: list[str],
    title: str,
    colorscale: str = "RdBu",
    zrange: tuple[float, float] = (-1, 1),
    side_by_side: int = 1,
    units: np.ndarray | None = None,
) -> go.Figure:
    """Units x tokens heatmap; hover shows token, unit and value. `side_by_side`: how many such charts share the
    page's width (their colour bars are thinner). `units`: the unit numbers (columns of `values`) to draw,
    each labelled with its own number; all of them when None."""
    # The hover names each column's word through the axis's labels (plots.token_axis_spec), not a word per cell: a
    # (units × time) array of words made a 400-token LSTM(256) heatmap 1.25 MB of JSON and most of its
    # build time, six times per Inside page.
    units = np.arange(np.asarray(values).shape[1]) if units is None else np.asarray(units)
    matrix = np.asarray(values)[:, units].T  # (units shown, time)
    # A few chosen units are rows side by side, each named by its number (a category axis keeps them adjacent).
    named = len(units) <= HEATMAP_NAMED_UNITS
    trace = dict(
        type="heatmap",
        z=matrix,
        x=np.arange(1, len(tokens) + 1),
        y=[f"unit {unit}" for unit in units] if named else units,
        colorscale=get_colorscale(colorscale),  # as pairs, the form validation gives: the figure is not validated
        zmin=zrange[0],
        zmax=zrange[1],
        hovertemplate="token <b>%{x}</b><br>"
        + ("%{y}" if named else "unit %{y}")
        + "<br>value %{z:.3f}<extra></extra>",
        colorbar=dict(thickness=10 if side_by_side > 1 else 20),  # side by side, the data keeps the width
    )
    # Each named unit's row is a line of type tall (its label's), or the labels ran into each other (Chromium).
    height = (
        max(380, 150 + round(plots.LINE_SPACING * plots.READABLE_FONT_SIZES["ticks"] * len(units))) if named else 380
    )
    layout = plots.layout_spec(title, height=height) | dict(
        xaxis=plots.token_axis_spec(list(tokens), "token"),
        yaxis=dict(type="category") if named else dict(title=dict(text="unit")),
    )
    return plots.figure_from([trace], layout, validate=False)


def gate_heatmap(
    values: np.ndarray, tokens: list[str], gate: str, side_by_side: int = 1, units: np.ndarray | None = None
) -> go.Figure:
    """A gate's values (time, units), each in [0, 1], on one fixed scale so that gates compare across charts."""
    return heatmap(
        values, tokens, f"{gate} gate", colorscale="Viridis", zrange=(0, 1), side_by_side=side_by_side, units=units
    )


UNFOLDED_STEPS = 8  # boxes of the Inside page's unfolded graph: the first four tokens and the last four
UNFOLDED_PITCH = 1.6  # x units from one step's boxes to the next's
UNFOLDED_BOX = 1.3  # x units a box is wide; the rest of the pitch is the arrow hₜ₋₁ → hₜ
# px of plotting area at the narrowest the Inside page draws the graph: its box keeps 1000 px and scrolls sideways
# on a phone (ui.widgets), of which the margins and the colour bar take about 200 (Chromium).
UNFOLDED_PLOT_WIDTH = 800


def unfolded_graph(
    tokens: list[str],
    trajectory: list[float],
    max_steps: int = UNFOLDED_STEPS,
    plot_width: float = UNFOLDED_PLOT_WIDTH,
) -> go.Figure:
    """Token boxes in a row with arrows hₜ₋₁ → hₜ: the RNN unfolded over time. Each state box is
    coloured by the prediction had the review ended there, on a scale centred at p = 0.5. `plot_width`: the
    px of plotting area at the narrowest the chart is drawn; each word is shortened ("…") to what its box holds
    there in presenter mode's type, and hover names it whole."""
    shown = (
        list(range(len(tokens)))
        if len(tokens) <= max_steps
        else list(range(max_steps // 2)) + list(range(len(tokens) - max_steps // 2, len(tokens)))
    )
    # Shapes and annotations are collected as plain dicts and set once: add_shape/add_annotation validate
    # and copy the whole layout on every call (72 calls took ~350 ms, a third of the Inside page's CPU).
    shapes, annotations = [], []
    arrow = dict(xref="x", yref="y", axref="x", ayref="y", showarrow=True, arrowhead=2)
    half = UNFOLDED_BOX / 2
    box_width = plot_width * UNFOLDED_BOX / (len(shown) * UNFOLDED_PITCH)  # px: the x range is len(shown) pitches
    for column, position in enumerate(shown):
        x = column * UNFOLDED_PITCH
        fill = plots.probability_color(trajectory[position])
        box = dict(type="rect", x0=x - half, x1=x + half, line=dict(color="#888"))
        shapes.append(dict(box, y0=-0.35, y1=0.35, fillcolor="rgba(99,110,250,0.15)"))
        shapes.append(dict(box, y0=0.85, y1=1.55, fillcolor=fill))
        # Cut at 12 characters, "unnecessari…" ran 30 px past a box of the projector panel (Chromium, 1280×720).
        word = f"x{position + 1}<br><b>{plots.fitted_word(tokens[position], box_width)}</b>"
        annotations.append(dict(x=x, y=0, text=word, showarrow=False, hovertext=plots.safe(tokens[position], 60)))
        annotations.append(
            dict(
                x=x,
                y=1.2,
                # The bare number: "p=0.50" at 18 px was wider than a box of the projector panel's five (Chromium,
                # 1280×720 presenting); the colour bar and the titles name it p.
                text=f"h{position + 1}<br>{trajectory[position]:.2f}",
                showarrow=False,
                font=dict(color=plots.readable_text_color(fill)),
            )
        )
        annotations.append(dict(x=x, y=0.85, ax=x, ay=0.35, text="", **arrow))
        if column > 0:
            gap = shown[column - 1] != position - 1
            annotations.append(dict(x=x - half, y=1.2, ax=x - UNFOLDED_PITCH + half, ay=1.2, text="", **arrow))
            if gap:  # the skipped steps, between the rows where no box is: on the arrow it ran into the state's text
                annotations.append(dict(x=x - UNFOLDED_PITCH / 2, y=0.6, text="…", showarrow=False))
    # The colour key: one invisible point whose colour bar explains the boxes' fills.
    colour_key = dict(
        type="scatter",
        x=[0],
        y=[1.2],
        mode="markers",
        marker=dict(
            size=0.1,
            opacity=0,
            color=[0.5],
            cmin=0,
            cmax=1,
            colorscale=plots.PROBABILITY_COLORSCALE,
            showscale=True,
            colorbar=dict(
                title=dict(text="p(positive)", side="right"),
                tickvals=[0, 0.25, 0.5, 0.75, 1],
                ticktext=["0 negative", "0.25", "0.5", "0.75", "1 positive"],
                thickness=12,
                len=1.0,
            ),
        ),
        hoverinfo="skip",
        showlegend=False,
    )
    edge = UNFOLDED_PITCH / 2
    # Tall enough that a box holds its two lines (at 260 px a box was 33 px for 37 px of 14-px text, Chromium).
    layout = plots.layout_spec("The RNN unfolded: hₜ = f(xₜ, hₜ₋₁), the same f at every step", height=320) | dict(
        shapes=shapes,
        annotations=annotations,
        xaxis=dict(visible=False, range=[-edge, (len(shown) - 1) * UNFOLDED_PITCH + edge]),
        yaxis=dict(visible=False, range=[-0.5, 1.7]),
    )
    # One validation of the whole figure (plots.figure_from): built trace by trace and laid out after, the layout
    # with its ~60 annotations was validated and copied four times, a quarter of an Inside rerun's CPU (py-spy).
    return plots.figure_from([colour_key], layout, validate=False)
