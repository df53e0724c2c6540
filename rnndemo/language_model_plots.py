"""The Language model page's figures: next-word bars, the unrolled model, context use, surprisal and training."""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go

from rnndemo import plots

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
        words = [plots.safe(word, 20) for word, _ in candidates[name]][::-1]
        probabilities = [probability for _, probability in candidates[name]][::-1]
        traces.append(
            dict(
                type="bar",
                x=probabilities,
                y=[f"{word} " for word in words],
                orientation="h",
                name=display_names.get(name, name),
                marker=dict(color=plots.MODEL_COLORS.get(name, "#7f7f7f")),
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
    return plots.figure_from(
        traces, plots.layout_spec("", height=max(260, height)) | layout | dict(annotations=titles), validate=False
    )


LM_GRAPH_PLOT_WIDTH = 940  # px of the unrolled graph's plotting area at its narrowest (see language_model_graph)


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
    # px of a box at the narrowest the page draws the graph: 1000 px (its box scrolls sideways on a phone,
    # ui.widgets), less 60 px of margins, across the x range of (steps − 1) · 1.7 + 1.8 units.
    box_width = LM_GRAPH_PLOT_WIDTH * 1.3 / (max(1, len(shown) - 1) * 1.7 + 1.8)
    for column, position in enumerate(shown):
        x = column * 1.7
        for y0, fill in ((-0.3, "rgba(99,110,250,0.15)"), (0.9, "rgba(0,204,150,0.15)")):
            shapes.append(
                dict(type="rect", x0=x - 0.65, x1=x + 0.65, y0=y0, y1=y0 + 0.6, line=dict(color="#888"), fillcolor=fill)
            )
        lines = [f"{plots.safe(predictions[name][column][0], 12)} {predictions[name][column][1]:.0%}" for name in names]
        label = "<br>".join(
            f"<span style='color:{plots.MODEL_COLORS.get(name, '#444')}'>{line}</span>"
            for name, line in zip(names, lines)
        )
        annotations += [
            dict(
                x=x,
                y=0,
                text=f"x{position + 1}<br><b>{plots.fitted_word(tokens[position], box_width)}</b>",
                showarrow=False,
                hovertext=plots.safe(tokens[position], 60),
            ),
            dict(x=x, y=1.2, text=f"h{position + 1}", showarrow=False),
            dict(x=x, y=0.9, ax=x, ay=0.3, **arrow),
            dict(x=x, y=2.0, ax=x, ay=1.5, **arrow),
            # Anchored at its bottom, above the arrowhead, however many models' lines it holds.
            dict(x=x, y=2.05, yanchor="bottom", text=f"ŷ{position + 2}<br>{label}", showarrow=False),
        ]
        if column > 0:
            annotations.append(dict(x=x - 0.65, y=1.2, ax=x - 1.05, ay=1.2, **arrow))
    # The boxes are the recurrent models' steps; an n-gram has no state and predicts from the last two words.
    stateless = {"ngram": "<br>(no hₜ: reads the last two words)"}  # on its own line: a phone's width holds it
    # The models' colours are named in the legend below the chart (a point-less trace per model): written into
    # the title, four lines of it ran into the predictions above the boxes (Chromium, 1280×720 and 390×844).
    keys = [
        dict(
            type="scatter",
            x=[None],
            y=[None],
            mode="markers",
            marker=dict(color=plots.MODEL_COLORS.get(name, "#444"), size=12, symbol="square"),
            name=f"{display_names.get(name, name)}{stateless.get(name, '')}",
            hoverinfo="skip",
        )
        for name in names
    ]
    # The predictions above the boxes hold a line per model and a heading: the y range leaves them room.
    layout = plots.layout_spec("Unrolled: hₜ reads xₜ; ŷₜ₊₁ = softmax(output(hₜ))", height=340 + 40 * len(names))
    return plots.figure_from(
        keys,
        layout
        | dict(
            shapes=shapes,
            annotations=annotations,
            showlegend=True,
            # One model a line, from the chart's left edge: on a phone the diagram keeps 760 px and scrolls
            # sideways (ui.widgets._READABLE_CSS), and a legend across that width was cut at the screen's edge;
            # stacked at the left it is read before scrolling, on a phone as on a projector.
            legend=dict(orientation="v", xref="container", x=0),
            xaxis=dict(visible=False, range=[-0.9, max(1, len(shown) - 1) * 1.7 + 0.9]),
            yaxis=dict(visible=False, range=[-0.5, 2.05 + 0.3 * (len(names) + 1)]),
        ),
        validate=False,
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
            line=dict(color=plots.MODEL_COLORS.get(name, "#7f7f7f")) | (dict(dash="dot") if name == "ngram" else {}),
            hovertemplate="context %{x}: perplexity %{y:.1f}<extra>" + display_names.get(name, name) + "</extra>",
        )
        for name, values in result["models"].items()
    ]
    layout = plots.layout_spec(
        "How much context each language model uses (held-out perplexity: lower is better)", height=380
    ) | dict(
        xaxis=dict(title=dict(text="tokens of context the model may see"), type="category"),
        # A short y title (a long one ran up into the chart's title on a phone); "lower is better" in the title.
        yaxis=dict(title=dict(text="perplexity (log)"), type="log", nticks=6),
    )
    return plots.figure_from(traces, layout, validate=False)


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
                line=dict(color=plots.MODEL_COLORS.get(name)),
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
    return plots.lay_out(figure, "Language models while training: validation perplexity", height=360)
