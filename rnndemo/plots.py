"""Plotly figures for every stage. Each function takes data and returns a figure.

Any text that came from a visitor is escaped before it reaches a figure,
because Plotly renders a subset of HTML (links, bold) inside labels.
"""

from __future__ import annotations

import html
import math

import numpy as np
import plotly.graph_objects as go
from plotly.colors import diverging, sample_colorscale

MODEL_COLORS = {
    "rnn": "#EF553B",
    "rnn_last": "#8B1A10",  # the memory experiment's textbook last-state SimpleRNN: the SimpleRNN's red, darker
    "lstm": "#636EFA",
    "gru": "#FFA15A",
    "baseline": "#7f7f7f",
    "dfn": "#19D3F3",
    "cnn": "#B6E880",
    "glove": "#00CC96",
    "ngram": "#AB63FA",
}


def safe(text: str, limit: int = 40) -> str:
    """Escape a visitor's token for a Plotly label, shortening very long ones."""
    text = str(text)
    return html.escape(text if len(text) <= limit else text[: limit - 1] + "…")


def figure_from(traces: list[dict], layout: dict) -> go.Figure:
    """A figure from plain trace and layout dicts, validated once.

    add_trace, update_layout and update_xaxes each validate and walk the figure again: a 400-token
    heatmap built that way took 9 ms, and 2–3 ms built at once (measured), on every rerun of every
    visitor, under the one interpreter lock the whole class shares."""
    return go.Figure(data=traces, layout=layout)


def layout_spec(title: str, height: int = 360) -> dict:
    """The title, height and margins every chart shares, as layout properties."""
    # No template here: Streamlit's own chart theme (light or dark) styles the figure, and
    # setting a template deep-copies it (~35 ms a figure, measured), on every rerun.
    return dict(title=dict(text=title), height=height, margin=dict(l=40, r=20, t=50, b=40))


def _layout(figure: go.Figure, title: str, height: int = 360) -> go.Figure:
    figure.update_layout(layout_spec(title, height))
    return figure


# The sizes (px) Streamlit's chart theme gives text it styles. The theme sets them explicitly on the
# axes, the legend and the title, so a larger layout font alone would not reach them.
THEME_FONT_SIZES = {"text": 12, "title": 16, "axis_title": 14, "ticks": 12, "legend": 12}


def scale_fonts(figure: go.Figure, scale: float) -> go.Figure:
    """Every text of `figure` `scale` times larger, and the figure as much taller so that its plotting
    area keeps its size (presenter mode). Updates and returns `figure`."""
    if scale == 1:
        return figure
    sizes = THEME_FONT_SIZES
    layout = figure.layout
    figure.update_layout(
        font_size=(layout.font.size or sizes["text"]) * scale,
        title_font_size=(layout.title.font.size or sizes["title"]) * scale,
        legend_font_size=(layout.legend.font.size or sizes["legend"]) * scale,
        hoverlabel_font_size=(layout.hoverlabel.font.size or sizes["text"]) * scale,
    )
    if layout.height:
        figure.update_layout(height=round(layout.height * scale))

    def scale_axis(axis) -> None:
        axis.update(
            tickfont_size=(axis.tickfont.size or sizes["ticks"]) * scale,
            title_font_size=(axis.title.font.size or sizes["axis_title"]) * scale,
        )

    figure.for_each_xaxis(scale_axis)
    figure.for_each_yaxis(scale_axis)
    figure.for_each_scene(lambda scene: [scale_axis(axis) for axis in (scene.xaxis, scene.yaxis, scene.zaxis)])
    for annotation in layout.annotations:  # those without a size follow the layout font, scaled above
        if annotation.font.size:
            annotation.font.size *= scale
    for trace in figure.data:
        # Only colour bars that are drawn: touching any other would make Plotly draw it.
        if trace.type == "heatmap" and trace.showscale is not False:
            colorbar = trace.colorbar
        elif trace.type == "scatter" and trace.marker.showscale:
            colorbar = trace.marker.colorbar
        else:
            continue
        colorbar.update(
            tickfont_size=(colorbar.tickfont.size or sizes["ticks"]) * scale,
            title_font_size=(colorbar.title.font.size or sizes["axis_title"]) * scale,
        )
    return figure


# Tick labels every visitor can still read: a 400-token review gets every 10th word, not 400 overlapping ones.
MAX_TOKEN_TICKS = 40
# Heatmaps and importance bars are drawn in half-width columns: upright labels need about 14 px each.
NARROW_TOKEN_TICKS = 20


def ticks_for_columns(columns: int) -> int:
    """How many token labels a chart can carry when `columns` charts share the width (20, 13, 10, 8, …):
    at a projector's 1280 px three side-by-side heatmaps have about 300 px of axis each."""
    return max(4, NARROW_TOKEN_TICKS * 2 // (max(1, columns) + 1))


def token_ticks(tokens: list[str], max_labels: int = MAX_TOKEN_TICKS) -> tuple[list[int], list[str]]:
    """Tick positions (1-based token positions) and their labels (the escaped words), at most `max_labels`
    of them, evenly spaced from the first token on."""
    if not tokens or max_labels < 1:
        return [], []
    step = math.ceil(len(tokens) / max_labels)
    positions = list(range(1, len(tokens) + 1, step))
    return positions, [safe(tokens[position - 1], 12) for position in positions]


def token_axis_spec(
    tokens: list[str], title: str, max_labels: int = MAX_TOKEN_TICKS, categories: list[str] | None = None
) -> dict:
    """The properties of a token-position x axis labelled with the tokens themselves (hover still gives every
    position). `categories`: the x values of a category axis, one per token, in order."""
    positions, labels = token_ticks(tokens, max_labels)
    axis = dict(
        title=dict(
            text=title if len(positions) == len(tokens) else f"{title} (one in {positions[1] - positions[0]} labelled)"
        ),
        tickmode="array",
        tickvals=positions if categories is None else [categories[position - 1] for position in positions],
        ticktext=labels,
        automargin=True,
    )
    if categories is not None:
        axis["type"] = "category"
    return axis


# The browser draws one SVG marker per token on every rerun; for long reviews that was a large
# share of Chromium's CPU per paste on the compare page (with the compare page's toggles, -30 %
# in all: benchmarks/paste_cost.py, docs/PERFORMANCE.md). Longer trajectories are drawn as lines;
# hover still names every token.
TRAJECTORY_MARKER_LIMIT = 80


def horizontal_line_shape(y: float, opacity: float | None = None, **line) -> dict:
    """The shape `figure.add_hline(y)` draws, as a layout shape: add_hline walks every axis of the figure
    first (~16 ms on a three-model running-prediction chart, on every rerun)."""
    shape = dict(type="line", xref="x domain", x0=0, x1=1, yref="y", y0=y, y1=y, line=line)
    return shape if opacity is None else shape | {"opacity": opacity}


def vertical_line_shape(x: float, opacity: float | None = None, **line) -> dict:
    """The shape `figure.add_vline(x)` draws, as a layout shape (see horizontal_line_shape)."""
    shape = dict(type="line", xref="x", x0=x, x1=x, yref="y domain", y0=0, y1=1, line=line)
    return shape if opacity is None else shape | {"opacity": opacity}


def horizontal_line(figure: go.Figure, y: float, opacity: float | None = None, **line) -> None:
    """Add horizontal_line_shape(y) to `figure`."""
    figure.add_shape(horizontal_line_shape(y, opacity, **line))


def vertical_line(figure: go.Figure, x: float, opacity: float | None = None, **line) -> None:
    """Add vertical_line_shape(x) to `figure`."""
    figure.add_shape(vertical_line_shape(x, opacity, **line))


def trajectory_chart(
    trajectories: dict[str, list[float]], tokens: dict[str, list[str]], display_names: dict[str, str]
) -> go.Figure:
    """The running prediction after each token, one line per model."""
    return figure_from(*trajectory_spec(trajectories, tokens, display_names))


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
            line=dict(color=MODEL_COLORS.get(name)),
            marker=dict(size=4),
            customdata=np.array([safe(token) for token in tokens[name]], dtype=object),
            hovertemplate="token %{x}: <b>%{customdata}</b><br>p(positive) = %{y:.3f}<extra>"
            + display_names.get(name, name)
            + "</extra>",
        )
        for name, values in trajectories.items()
    ]
    layout = layout_spec("Running prediction after each token", height=380) | dict(
        shapes=[horizontal_line_shape(0.5, dash="dash", color="gray")],
        yaxis=dict(range=[0, 1], title=dict(text="p(positive) so far")),
        xaxis=token_axis_spec(max(tokens.values(), key=len, default=[]), "tokens read"),
    )
    return traces, layout


# In 3-D every text label stays on screen whichever way the map turns, so only the first words
# (the query and its nearest neighbours, as the page lists them) carry one; hover names every word.
PCA_3D_LABELS = 6


def variance_axis_title(component: int, ratio: float) -> str:
    """An axis title such as "PC1 (41% of variance)"; `component` counts from 1."""
    return f"PC{component} ({ratio:.0%} of variance)"


def pca_scatter(
    words: list[str], coordinates: np.ndarray, groups: list[str], ratios: np.ndarray, title: str
) -> go.Figure:
    """2-D or 3-D scatter of PCA coordinates, coloured by group; each axis says its share of the variance.

    `ratios` are the explained-variance ratios of the PCA that gave `coordinates`, one per column."""
    figure = go.Figure()
    labels = [safe(word) for word in words]
    three_d = coordinates.shape[1] >= 3
    for group in dict.fromkeys(groups):
        rows = [row for row, value in enumerate(groups) if value == group]
        common = dict(
            mode="markers+text",
            name=group,
            text=[labels[row] if not three_d or row < PCA_3D_LABELS else "" for row in rows],
            customdata=[labels[row] for row in rows],
            textposition="top center",
            hovertemplate="%{customdata}<extra>" + html.escape(group) + "</extra>",
        )
        if three_d:
            figure.add_trace(
                go.Scatter3d(
                    x=coordinates[rows, 0],
                    y=coordinates[rows, 1],
                    z=coordinates[rows, 2],
                    marker=dict(size=4),
                    **common,
                )
            )
        else:
            figure.add_trace(
                go.Scatter(
                    x=coordinates[rows, 0],
                    y=coordinates[rows, 1] if coordinates.shape[1] > 1 else np.zeros(len(rows)),
                    marker=dict(size=9),
                    **common,
                )
            )
    axis_titles = [variance_axis_title(index + 1, ratio) for index, ratio in enumerate(ratios)]
    if three_d:
        figure.update_layout(
            scene=dict(
                xaxis_title=axis_titles[0],
                yaxis_title=axis_titles[1],
                zaxis_title=axis_titles[2],
                # A little farther than Plotly's default view, so that the axis titles stay inside the figure.
                camera=dict(eye=dict(x=1.6, y=1.6, z=1.1)),
            )
        )
    else:
        figure.update_xaxes(title=axis_titles[0])
        figure.update_yaxes(title=axis_titles[1] if len(axis_titles) > 1 else None)
    kept = float(np.sum(ratios[: coordinates.shape[1]]))
    # Two lines: a long space name pushed the share off the chart's right edge.
    _layout(figure, f"{title}<br>these axes keep {kept:.0%} of the variance", height=520)
    figure.update_layout(margin_t=75)
    return figure


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
    page's width, so that each labels fewer tokens. `units`: the unit numbers (columns of `values`) to draw,
    each labelled with its own number; all of them when None."""
    # Each column is named "position: word", so the hover names the word without a word per cell: a
    # (units × time) array of words made a 400-token LSTM(256) heatmap 1.25 MB of JSON and most of its
    # build time, six times per Inside page.
    columns = [f"{position}: {safe(token, 20)}" for position, token in enumerate(tokens, start=1)]
    units = np.arange(np.asarray(values).shape[1]) if units is None else np.asarray(units)
    matrix = np.asarray(values)[:, units].T  # (units shown, time)
    # A few chosen units are rows side by side, each named by its number (a category axis keeps them adjacent).
    named = len(units) <= HEATMAP_NAMED_UNITS
    trace = dict(
        type="heatmap",
        z=matrix,
        x=columns,
        y=[f"unit {unit}" for unit in units] if named else units,
        colorscale=colorscale,
        zmin=zrange[0],
        zmax=zrange[1],
        hovertemplate="token %{x}<br>" + ("%{y}" if named else "unit %{y}") + "<br>value %{z:.3f}<extra></extra>",
        colorbar=dict(thickness=10 if side_by_side > 1 else 20),  # side by side, the data keeps the width
    )
    layout = layout_spec(title, height=380) | dict(
        xaxis=token_axis_spec(list(tokens), "token", ticks_for_columns(side_by_side), categories=columns),
        yaxis=dict(type="category") if named else dict(title=dict(text="unit")),
    )
    return figure_from([trace], layout)


def gate_heatmap(
    values: np.ndarray, tokens: list[str], gate: str, side_by_side: int = 1, units: np.ndarray | None = None
) -> go.Figure:
    """A gate's values (time, units), each in [0, 1], on one fixed scale so that gates compare across charts."""
    return heatmap(
        values, tokens, f"{gate} gate", colorscale="Viridis", zrange=(0, 1), side_by_side=side_by_side, units=units
    )


# Red for negative, blue for positive, white at the decision threshold: ColorBrewer's RdBu, which
# stays readable for red–green colour blindness. Boxes are opaque and their text colour follows the
# fill, so they read the same on Streamlit's light and dark backgrounds.
PROBABILITY_COLORSCALE = list(diverging.RdBu)


def probability_color(probability: float) -> str:
    """The fill for p(positive): deep red at 0, white at 0.5, deep blue at 1 (clipped to [0, 1])."""
    return sample_colorscale(PROBABILITY_COLORSCALE, [min(1.0, max(0.0, float(probability)))])[0]


def _relative_luminance(red: float, green: float, blue: float) -> float:
    """WCAG relative luminance of an sRGB colour given as 0–255 channels."""
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (red / 255, green / 255, blue / 255)]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def readable_text_color(fill: str) -> str:
    """Black or white, whichever contrasts more with an "rgb(r, g, b)" fill (WCAG contrast ratio); on every
    fill of the probability scale that is at least 4.5:1."""
    channels = (float(part) for part in fill[fill.index("(") + 1 : fill.index(")")].split(","))
    luminance = _relative_luminance(*channels)
    return "#000000" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "#ffffff"


def unfolded_graph(tokens: list[str], trajectory: list[float], max_steps: int = 12) -> go.Figure:
    """Token boxes in a row with arrows hₜ₋₁ → hₜ: the RNN unfolded over time. Each state box is
    coloured by the prediction had the review ended there, on a scale centred at p = 0.5."""
    shown = (
        list(range(len(tokens)))
        if len(tokens) <= max_steps
        else list(range(max_steps // 2)) + list(range(len(tokens) - max_steps // 2, len(tokens)))
    )
    # Shapes and annotations are collected as plain dicts and set once: add_shape/add_annotation validate
    # and copy the whole layout on every call (72 calls took ~350 ms, a third of the Inside page's CPU).
    shapes, annotations = [], []
    arrow = dict(xref="x", yref="y", axref="x", ayref="y", showarrow=True, arrowhead=2)
    for column, position in enumerate(shown):
        x = column * 1.6
        fill = probability_color(trajectory[position])
        box = dict(type="rect", x0=x - 0.6, x1=x + 0.6, line_color="#888")
        shapes.append(dict(box, y0=-0.3, y1=0.3, fillcolor="rgba(99,110,250,0.15)"))
        shapes.append(dict(box, y0=0.9, y1=1.5, fillcolor=fill))
        word = f"x{position + 1}<br><b>{safe(tokens[position], 12)}</b>"
        annotations.append(dict(x=x, y=0, text=word, showarrow=False))
        annotations.append(
            dict(
                x=x,
                y=1.2,
                text=f"h{position + 1}<br>p={trajectory[position]:.2f}",
                showarrow=False,
                font=dict(color=readable_text_color(fill)),
            )
        )
        annotations.append(dict(x=x, y=0.9, ax=x, ay=0.3, text="", **arrow))
        if column > 0:
            gap = shown[column - 1] != position - 1
            annotations.append(dict(x=x - 0.6, y=1.2, ax=x - 1.0, ay=1.2, text="…" if gap else "", **arrow))
    figure = go.Figure(layout=dict(shapes=shapes, annotations=annotations))
    # The colour key: one invisible point whose colour bar explains the boxes' fills.
    figure.add_trace(
        go.Scatter(
            x=[0],
            y=[1.2],
            mode="markers",
            marker=dict(
                size=0.1,
                opacity=0,
                color=[0.5],
                cmin=0,
                cmax=1,
                colorscale=PROBABILITY_COLORSCALE,
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
    )
    figure.update_xaxes(visible=False, range=[-0.8, (len(shown) - 1) * 1.6 + 0.8])
    figure.update_yaxes(visible=False, range=[-0.5, 1.7])
    return _layout(figure, "The RNN unfolded: hₜ = f(xₜ, hₜ₋₁), the same f at every step", height=260)


def training_curves(history: dict) -> go.Figure:
    figure = go.Figure()
    epochs = list(range(1, len(history.get("loss", [])) + 1))
    for key, dash in (("loss", "solid"), ("val_loss", "dash"), ("accuracy", "solid"), ("val_accuracy", "dash")):
        if key in history:
            figure.add_trace(go.Scatter(x=epochs, y=history[key], name=key, line=dict(dash=dash), mode="lines+markers"))
    figure.update_xaxes(title="epoch", dtick=1)
    return _layout(figure, "Training curves (validation = early-stopping split)")


def confusion_figure(matrix: list[list[int]], title: str) -> go.Figure:
    """Counts of true (rows) against predicted (columns) classes; short tick labels fit narrow columns."""
    # Hover spells out what the short tick labels abbreviate.
    hover = [
        [f"true {truth}, predicted {guess}" for guess in ("negative", "positive")] for truth in ("negative", "positive")
    ]
    figure = go.Figure(
        go.Heatmap(
            z=matrix,
            x=["pred. neg", "pred. pos"],
            y=["true neg", "true pos"],
            colorscale="Blues",
            showscale=False,  # the counts are printed in the cells; a colour bar only took width
            text=matrix,
            texttemplate="%{text}",
            customdata=hover,
            hovertemplate="%{customdata}: %{z}<extra></extra>",
        )
    )
    figure.update_xaxes(automargin=True)
    figure.update_yaxes(autorange="reversed", automargin=True)
    return _layout(figure, title, height=320)


def roc_figure(curves: dict[str, tuple[np.ndarray, np.ndarray, float]], display_names: dict[str, str]) -> go.Figure:
    figure = go.Figure()
    for name, (false_positive, true_positive, auc) in curves.items():
        figure.add_trace(
            go.Scatter(
                x=false_positive,
                y=true_positive,
                name=f"{display_names.get(name, name)} (AUC {auc:.3f})",
                line=dict(color=MODEL_COLORS.get(name)),
            )
        )
    figure.add_trace(go.Scatter(x=[0, 1], y=[0, 1], name="chance", line=dict(dash="dot", color="gray")))
    figure.update_xaxes(title="false positive rate")
    figure.update_yaxes(title="true positive rate")
    return _layout(figure, "ROC on the IMDB test split", height=380)


def calibration_figure(tables: dict, display_names: dict[str, str]) -> go.Figure:
    figure = go.Figure()
    for name, table in tables.items():
        figure.add_trace(
            go.Scatter(
                x=table["mean_predicted"],
                y=table["observed_positive_rate"],
                mode="lines+markers",
                name=display_names.get(name, name),
                line=dict(color=MODEL_COLORS.get(name)),
                customdata=table["count"],
                hovertemplate="predicted %{x:.2f}, observed %{y:.2f} (n=%{customdata})",
            )
        )
    figure.add_trace(go.Scatter(x=[0, 1], y=[0, 1], name="perfectly calibrated", line=dict(dash="dot", color="gray")))
    figure.update_xaxes(title="mean predicted p(positive)", range=[0, 1])
    figure.update_yaxes(title="observed share positive", range=[0, 1])
    return _layout(figure, "Calibration on the IMDB test split", height=380)


def _memory_line(name: str, values: dict) -> dict:
    """A memory curve's line: the model's colour, dashed for a model that reads the mean of its states."""
    return dict(color=MODEL_COLORS.get(name), dash="dash" if values.get("readout") == "mean" else "solid")


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
    _layout(figure, "Accuracy as filler follows the review<br>(bars: 95% Wilson interval)", height=460)
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
    _layout(figure, "Vanishing gradient: how much each<br>word still moves h_T, |d(w·h_T)/de_t|", height=460)
    return figure


SUBPLOT_TITLE_SIZE = 16  # what make_subplots gives its subplot titles


def next_word_bars(candidates: dict[str, list[tuple[str, float]]], display_names: dict[str, str]) -> go.Figure:
    """Each language model's top next words as horizontal bars, side by side (most probable on top)."""
    # The subplots laid out by hand, as make_subplots would (one row, spacing 0.12): make_subplots and
    # add_trace(row=, col=) walk the whole grid per call, several times this figure's build time.
    names = list(candidates)
    columns, spacing = max(1, len(names)), 0.12
    width = (1 - spacing * (columns - 1)) / columns
    traces, layout, titles = [], {}, []
    for column, name in enumerate(names):
        suffix = str(column + 1) if column else ""
        left = column * (width + spacing)
        words = [safe(word, 20) for word, _ in candidates[name]][::-1]
        probabilities = [probability for _, probability in candidates[name]][::-1]
        traces.append(
            dict(
                type="bar",
                x=probabilities,
                y=[f"{word} " for word in words],
                orientation="h",
                name=display_names.get(name, name),
                marker=dict(color=MODEL_COLORS.get(name, "#7f7f7f")),
                showlegend=False,
                text=[f"{p:.1%}" for p in probabilities],
                textposition="auto",
                hovertemplate="<b>%{y}</b> p = %{x:.4f}<extra>" + display_names.get(name, name) + "</extra>",
                xaxis=f"x{suffix}",
                yaxis=f"y{suffix}",
            )
        )
        layout[f"xaxis{suffix}"] = dict(
            domain=[left, left + width], anchor=f"y{suffix}", title=dict(text="p(next word)"), rangemode="tozero"
        )
        layout[f"yaxis{suffix}"] = dict(domain=[0.0, 1.0], anchor=f"x{suffix}")
        titles.append(
            dict(
                text=display_names.get(name, name),
                x=left + width / 2,
                y=1.0,
                xref="paper",
                yref="paper",
                xanchor="center",
                yanchor="bottom",
                showarrow=False,
                font=dict(size=SUBPLOT_TITLE_SIZE),
            )
        )
    height = 120 + 26 * max((len(values) for values in candidates.values()), default=1)
    return figure_from(traces, layout_spec("", height=max(260, height)) | layout | dict(annotations=titles))


def language_model_graph(
    tokens: list[str],
    predictions: dict[str, list[tuple[str, float]]],
    display_names: dict[str, str],
    max_steps: int = 8,
) -> go.Figure:
    """The unrolled language model: inputs x_t, states h_t, and each model's most probable next word y_t.

    `predictions[name]` holds the prediction after each of the last `max_steps` tokens, in order
    (`next_word.step_predictions`)."""
    shown = list(range(max(0, len(tokens) - max_steps), len(tokens)))  # the last steps: where the next word comes from
    names = list(predictions)
    # Shapes and annotations as plain dicts set once: add_shape/add_annotation validate the layout on
    # every call (~180 ms for this figure, measured; the dicts take a few ms).
    shapes, annotations = [], []
    arrow = dict(xref="x", yref="y", axref="x", ayref="y", showarrow=True, arrowhead=2, text="")
    for column, position in enumerate(shown):
        x = column * 1.7
        for y0, fill in ((-0.3, "rgba(99,110,250,0.15)"), (0.9, "rgba(0,204,150,0.15)")):
            shapes.append(
                dict(type="rect", x0=x - 0.65, x1=x + 0.65, y0=y0, y1=y0 + 0.6, line_color="#888", fillcolor=fill)
            )
        lines = [f"{safe(predictions[name][column][0], 12)} {predictions[name][column][1]:.0%}" for name in names]
        label = "<br>".join(
            f"<span style='color:{MODEL_COLORS.get(name, '#444')}'>{line}</span>" for name, line in zip(names, lines)
        )
        annotations += [
            dict(x=x, y=0, text=f"x{position + 1}<br><b>{safe(tokens[position], 12)}</b>", showarrow=False),
            dict(x=x, y=1.2, text=f"h{position + 1}", showarrow=False),
            dict(x=x, y=0.9, ax=x, ay=0.3, **arrow),
            dict(x=x, y=2.0, ax=x, ay=1.5, **arrow),
            # Anchored at its bottom, above the arrowhead, however many models' lines it holds.
            dict(x=x, y=2.05, yanchor="bottom", text=f"ŷ{position + 2}<br>{label}", showarrow=False),
        ]
        if column > 0:
            annotations.append(dict(x=x - 0.65, y=1.2, ax=x - 1.05, ay=1.2, **arrow))
    # The boxes are the recurrent models' steps; an n-gram has no state and predicts from the last two words.
    stateless = {"ngram": " (no hₜ: reads the last two words)"}
    legend = " · ".join(
        f"<span style='color:{MODEL_COLORS.get(name, '#444')}'>{display_names.get(name, name)}"
        f"{stateless.get(name, '')}</span>"
        for name in names
    )
    # Two lines: on one, the legend ran off the right edge in narrow windows and with presenter-mode fonts.
    title = f"Unrolled: hₜ reads xₜ; ŷₜ₊₁ = softmax(output(hₜ))<br>{legend}"
    layout = layout_spec(title, height=360)
    layout["margin"]["t"] = 75
    return figure_from(
        [],
        layout
        | dict(
            shapes=shapes,
            annotations=annotations,
            xaxis=dict(visible=False, range=[-0.9, max(1, len(shown) - 1) * 1.7 + 0.9]),
            yaxis=dict(visible=False, range=[-0.5, 2.3 + 0.22 * (len(names) + 1)]),
        ),
    )


def context_memory_figure(result: dict, display_names: dict[str, str]) -> go.Figure:
    """Held-out perplexity when each model may see only the last k tokens (k = 1, 2, 4, ..., all)."""
    labels = [str(k) if k else "all" for k in result["contexts"]]
    traces = [
        dict(
            type="scatter",
            x=labels,
            y=values,
            name=display_names.get(name, name),
            mode="lines+markers",
            line=dict(color=MODEL_COLORS.get(name, "#7f7f7f"), dash="dot" if name == "ngram" else None),
            hovertemplate="context %{x}: perplexity %{y:.1f}<extra>" + display_names.get(name, name) + "</extra>",
        )
        for name, values in result["models"].items()
    ]
    layout = layout_spec("How much context each language model uses", height=380) | dict(
        xaxis=dict(title=dict(text="tokens of context the model may see"), type="category"),
        yaxis=dict(title=dict(text="held-out perplexity (lower is better, log)"), type="log"),
    )
    return figure_from(traces, layout)


SURPRISE_SCALE_NATS = 12.0  # the surprisal at which the colour is deepest: p = e^−12 ≈ 6e-06


def surprise_legend_html(scale_nats: float = SURPRISE_SCALE_NATS, stops: int = 5) -> str:
    """The colour key of `surprise_html`: swatches from 0 nats to `scale_nats`, each with its p and its bits."""
    swatches = []
    for value in np.linspace(0.0, scale_nats, stops):
        strength = float(value / scale_nats)
        more = "≥ " if value == scale_nats else ""
        swatches.append(
            f"<span style='background:rgba(214,39,40,{strength:.2f});padding:0 6px;border-radius:3px;"
            f"border:1px solid rgba(128,128,128,.4)'>{more}{value:g} nats</span> "
            f"<span>p {'≤' if more else '='} {np.exp(-value):.2g} · {value / np.log(2):.1f} bits</span>"
        )
    return "<div data-rnndemo='surprise-legend' style='line-height:2'>" + " &nbsp; ".join(swatches) + "</div>"


def surprise_html(tokens: list[str], surprisal: np.ndarray, scale_nats: float = SURPRISE_SCALE_NATS) -> str:
    """The text with each token shaded by a model's surprisal (−ln p, nats): white = expected,
    deep red = surprising. Returns escaped HTML (tokens are visitor text); the hover names the value."""
    spans = []
    for token, value in zip(tokens, surprisal):
        strength = float(min(1.0, max(0.0, value / scale_nats)))
        spans.append(
            f"<span title='−ln p = {value:.2f} nats (p = {np.exp(-value):.2g})' "
            f"style='background:rgba(214,39,40,{strength:.2f});padding:0 2px;border-radius:3px'>"
            f"{html.escape(token)}</span>"
        )
    return "<div style='line-height:1.9'>" + " ".join(spans) + "</div>"


def language_model_training_figure(section: dict, display_names: dict[str, str]) -> go.Figure:
    """Validation perplexity (fixed subset) against training tokens, for each recurrent language model."""
    figure = go.Figure()
    for name, entry in section.items():
        history = entry.get("history") or {}
        if not history.get("tokens"):
            continue
        figure.add_trace(
            go.Scatter(
                x=history["tokens"],
                y=history["val_perplexity"],
                name=display_names.get(name, name),
                mode="lines+markers",
                line=dict(color=MODEL_COLORS.get(name)),
                hovertemplate="%{x:,.0f} tokens: perplexity %{y:.1f}<extra>"
                + display_names.get(name, name)
                + "</extra>",
            )
        )
    tokens = [x for trace in figure.data for x in trace.x] or [0, 1]
    for name, dash in (("bigram", "dash"), ("ngram", "dot")):
        if name in section:
            # Reference lines named in the legend: a label written on the chart ran into the curves.
            value = section[name]["validation_perplexity"]
            figure.add_trace(
                go.Scatter(
                    x=[min(tokens), max(tokens)],
                    y=[value, value],
                    name=f"{display_names.get(name, name)} (whole validation split)",
                    mode="lines",
                    line=dict(color="gray", dash=dash, width=1.5),
                    hovertemplate=f"perplexity {value:.1f}<extra>{display_names.get(name, name)}</extra>",
                )
            )
    figure.update_xaxes(title="training tokens seen")
    # A linear axis: Plotly places horizontal lines on a log axis by exponent, not by value.
    figure.update_yaxes(title="validation perplexity")
    return _layout(figure, "Language models while training: validation perplexity", height=360)


def order_test_figure(result: dict, display_names: dict[str, str], condition_names: dict[str, str]) -> go.Figure:
    """Each model's held-out accuracy with its words as written and reordered (the word-order test), as
    grouped bars: one group per model, one bar per condition."""
    figure = go.Figure()
    names = list(result["models"])
    for condition, label in condition_names.items():
        figure.add_trace(
            go.Bar(
                x=[display_names.get(name, name) for name in names],
                y=[result["models"][name][condition] for name in names],
                name=label,
                hovertemplate="%{x}: accuracy %{y:.3f}<extra>" + label + "</extra>",
            )
        )
    figure.add_hline(y=0.5, line_dash="dot", line_color="gray", annotation_text="chance", annotation_position="right")
    figure.update_yaxes(title="test accuracy", range=[0.4, 1.0])
    _layout(figure, f"Word order: accuracy on {result['n']:,} test reviews, reordered", height=380)
    figure.update_layout(barmode="group", margin_r=70)  # room for the "chance" label
    return figure
