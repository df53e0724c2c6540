"""Text coloured by one hidden unit, LSTMVis-style: each token's background is that unit's value hₜ after it.

A heatmap of 256 units is noise from the back of a room; one unit over the words it read is a story
("this unit turns blue after every negation"). The colours are the hidden-state maps' own diverging scale
(red below 0, white at 0, blue above), and every token is escaped: the text is a visitor's.
"""

from __future__ import annotations

import html

import numpy as np
from plotly.colors import diverging, sample_colorscale

from rnndemo import plots

UNIT_COLORSCALE = list(diverging.RdBu)  # the hidden-state heatmaps' "RdBu": red low, blue high
SMALLEST_SCALE = 1e-6  # a unit that never moves is drawn white rather than divided by zero


def units_by_activity(hidden: np.ndarray, count: int) -> list[int]:
    """The `count` units (columns of a (time, units) matrix) that vary most over this text, most active first
    (on a tie the lower unit first): the handful worth colouring the text by; the rest barely move."""
    spread = np.asarray(hidden, dtype=np.float64).std(axis=0)  # (units,)
    return [int(unit) for unit in np.argsort(-spread, kind="stable")[:count]]


def most_active_unit(hidden: np.ndarray) -> int:
    """The unit that varies most over this text, as the heatmaps rank them (explain.most_active_units)."""
    return units_by_activity(hidden, 1)[0]


def unit_scale(values: np.ndarray) -> float:
    """The largest |value| of one unit over the text: the colour saturates there, so a quiet unit still shows."""
    values = np.asarray(values, dtype=np.float64)
    return max(float(np.abs(values).max()) if values.size else 0.0, SMALLEST_SCALE)


def unit_positions(values: np.ndarray, scale: float) -> np.ndarray:
    """Each value's place on the colour scale, from 0 (−scale, red) through 0.5 (zero, white) to 1 (+scale, blue)."""
    return np.clip((np.asarray(values, dtype=np.float64) / scale + 1.0) / 2.0, 0.0, 1.0)


def unit_colors(values: np.ndarray, scale: float) -> list[str]:
    """The "rgb(r, g, b)" fill of each value on the diverging scale that saturates at ±`scale`."""
    return sample_colorscale(UNIT_COLORSCALE, unit_positions(values, scale).tolist())


def _span(token: str, fill: str, title: str, current: bool) -> str:
    outline = "outline:3px solid #111;font-weight:bold;" if current else ""
    marker = ' data-rnndemo="unit-current-token"' if current else ""
    return (
        f'<span title="{html.escape(title, quote=True)}"{marker} style="background:{fill};'
        f"color:{plots.readable_text_color(fill)};{outline}padding:1px 4px;margin:1px;border-radius:3px;"
        f'display:inline-block">{html.escape(token)}</span>'
    )


def unit_text_html(
    tokens: list[str],
    values: np.ndarray,
    *,
    scale: float,
    start: int = 0,
    stop: int | None = None,
    marked: int | None = None,
) -> str:
    """Tokens `start`..`stop` (end excluded) as escaped spans coloured by `values` (one per token of the whole
    text) on ±`scale`; the token at position `marked` (from 0, in the whole text) is outlined. Each token's
    hover gives its position and value; "…" stands for tokens left out at either end."""
    stop = len(tokens) if stop is None else stop
    fills = unit_colors(np.asarray(values)[start:stop], scale)
    spans = ["<span>…</span>"] if start > 0 else []
    for position, fill in zip(range(start, stop), fills):
        title = f"token {position + 1}: {tokens[position]}, h = {float(values[position]):+.3f}"
        spans.append(_span(tokens[position], fill, title, position == marked))
    if stop < len(tokens):
        spans.append("<span>…</span>")
    return '<div data-rnndemo="unit-text" style="line-height:2">' + "".join(spans) + "</div>"


def unit_legend_html(unit_name: str, scale: float) -> str:
    """What the colours mean: three swatches (−scale, 0, +scale) and a sentence naming the unit and the scale."""
    swatches = "".join(
        _span(label, fill, label, False)
        for label, fill in zip(
            (f"{-scale:+.2f}", "0", f"{scale:+.2f}"), unit_colors(np.array([-scale, 0.0, scale]), scale)
        )
    )
    sentence = (
        f"Each word's background is {html.escape(unit_name)}'s value hₜ after reading it: red below 0, white at 0, "
        f"blue above; full colour at ±{scale:.2f}, the largest |hₜ| of this unit on this text."
    )
    return f'<div data-rnndemo="unit-legend" style="font-size:0.9em">{swatches} {sentence}</div>'
