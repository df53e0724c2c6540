"""Figures of the Time series page. Each takes data and returns a Plotly figure; dates on every x-axis."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from rnndemo import plots
from rnndemo.forecasting import Series

FORECAST_COLORS = plots.MODEL_COLORS | {
    "seasonal_naive": "#7f7f7f",
    "holt_winters": "#00CC96",
    "ar": "#AB63FA",
}
PART_COLORS = {"validation": "rgba(255, 161, 90, 0.12)", "test": "rgba(99, 110, 250, 0.12)"}
TRUTH_COLOR = "#222222"


def _figure(traces: list[dict], title: str, unit: str, height: int = 360, **layout) -> go.Figure:
    """`traces` (plain dicts) under dates along x, the series' unit up y and one hover for all lines; title, legend
    and text as every chart's, validated once (plots.figure_from): built trace by trace and laid out after, a
    forecast chart spent most of a rerun in Plotly's update_layout (py-spy over the page's AppTest reruns)."""
    # At most 4 dates: on a phone Plotly's choice, and 5, put "Jan 1999" into "Apr 1999" (Chromium, 390 px).
    axes = dict(xaxis=dict(title=dict(text="date"), nticks=4), yaxis=dict(title=dict(text=unit)), hovermode="x unified")
    return plots.figure_from(traces, plots.layout_spec(title, height) | axes | layout)


def _part_shading(dates: pd.DatetimeIndex, starts: dict[str, int]) -> tuple[list[dict], list[dict]]:
    """The shapes and annotations that shade validation and test from their first date (what figure.add_vrect
    draws); the training part is left plain."""
    end = dates[-1]
    boundaries = [("validation", starts["validation"], starts["test"]), ("test", starts["test"], None)]
    shapes, annotations = [], []
    for part, start, stop in boundaries:
        x0, x1 = dates[start], dates[stop] if stop is not None else end
        shapes.append(
            dict(type="rect", xref="x", x0=x0, x1=x1, yref="y domain", y0=0, y1=1, line=dict(width=0))
            | dict(fillcolor=PART_COLORS[part])
        )
        # Each name on its own side of the boundary between them: both at the left, "validation" ran into "test"
        # on a phone, where four years are some 20 px.
        side = "right" if part == "validation" else "left"
        at = dict(xref="x", x=x1 if side == "right" else x0, xanchor=side, yref="y domain", y=1, yanchor="top")
        annotations.append(dict(text=part, showarrow=False) | at)
    return shapes, annotations


def _filled_marks(dates: pd.DatetimeIndex, values: np.ndarray, name: str, size: int, kind: str = "scatter") -> dict:
    """A trace that marks filled (interpolated) values: the same red cross on every chart, so the close-up is read
    as the overview's marks."""
    marker = dict(color="#EF553B", symbol="x", size=size)
    return dict(type=kind, x=dates, y=values, mode="markers", name=name, marker=marker)


def _line(dates, values, name: str, color: str, kind: str = "scatter", width: float | None = None, **more) -> dict:
    """A trace of `values` over `dates` drawn as a line of `color` (and `width`, if given: else Plotly's)."""
    line = dict(color=color) if width is None else dict(color=color, width=width)
    return dict(type=kind, x=dates, y=values, mode="lines", name=name, line=line) | more


def _marked(dates, values, name: str, marker: dict) -> dict:
    """A trace of `values` over `dates` as a line with a `marker` at every value."""
    return dict(type="scatter", x=dates, y=values, mode="lines+markers", name=name, marker=marker)


def raw_series(
    dates: pd.DatetimeIndex, raw: np.ndarray, cleaned: np.ndarray, starts: dict[str, int], unit: str, step: str
) -> go.Figure:
    """The series as recorded, a mark under each missing step (at its filled value), the parts shaded."""
    traces = [_line(dates, raw, "recorded", TRUTH_COLOR, kind="scattergl")]  # WebGL: thousands of points
    missing = np.isnan(raw)
    if missing.any():
        name = f"missing {step} ({int(missing.sum())})"
        traces.append(_filled_marks(dates[missing], cleaned[missing], name, size=7, kind="scattergl"))
    shapes, annotations = _part_shading(dates, starts)
    return _figure(traces, "1. The raw series", unit, shapes=shapes, annotations=annotations)


def gap_detail(
    dates: pd.DatetimeIndex, raw: np.ndarray, cleaned: np.ndarray, around: int, span: int, unit: str
) -> go.Figure:
    """A close-up of `span` steps each side of position `around`: recorded points and the filled ones."""
    window = slice(max(0, around - span), min(len(raw), around + span))
    shown_dates, shown_raw, shown_clean = dates[window], raw[window], cleaned[window]
    filled = np.isnan(shown_raw)
    recorded = dict(type="scatter", x=shown_dates, y=shown_raw, mode="markers", name="recorded")
    traces = [
        _line(shown_dates, shown_clean, "cleaned", "#636EFA"),
        recorded | dict(marker=dict(color=TRUTH_COLOR)),
        _filled_marks(shown_dates[filled], shown_clean[filled], "filled (interpolated)", size=9),
    ]
    return _figure(traces, "2. The longest gap, filled", unit, height=320)


def scaled_series(dates: pd.DatetimeIndex, scaled: np.ndarray, starts: dict[str, int]) -> go.Figure:
    """The scaled series with the training part's range marked: what lies outside it was never seen in training."""
    training = scaled[: starts["validation"]]
    shapes, annotations = [], []
    for value, label in ((training.min(), "training minimum"), (training.max(), "training maximum")):
        shapes.append(plots.horizontal_line_shape(float(value), color="gray", dash="dot", width=1))
        annotations.append(
            dict(xref="x domain", x=0, y=float(value), text=label, showarrow=False, xanchor="left", yanchor="bottom")
        )
    part_shapes, part_annotations = _part_shading(dates, starts)
    return _figure(
        [_line(dates, scaled, "scaled", "#636EFA", kind="scattergl")],
        "3. Scaled with the training part's mean and standard deviation",
        "z (no unit)",
        shapes=shapes + part_shapes,
        annotations=annotations + part_annotations,
    )


def window_figure(
    dates: pd.DatetimeIndex, values: np.ndarray, origin: int, window: int, horizon: int, unit: str
) -> go.Figure:
    """One window: the last W values the network reads, and the next h values it must predict."""
    inputs = slice(origin - window + 1, origin + 1)
    following = slice(origin + 1, min(len(values), origin + 1 + horizon))
    context = slice(max(0, origin - window - 10), min(len(values), origin + horizon + 10))
    traces = [
        _line(dates[context], values[context], "series", "#cccccc"),
        _marked(dates[inputs], values[inputs], f"input: last {window}", marker=dict(size=4)),
        _marked(
            dates[following], values[following], f"to predict: next {horizon}", marker=dict(size=5, color="#EF553B")
        ),
    ]
    return _figure(traces, "4. One window and what follows it", unit, height=320)


def _forecast_traces(
    name: str,
    display_name: str,
    dates: pd.DatetimeIndex,
    path: np.ndarray,
    low: np.ndarray | float,
    high: np.ndarray | float,
) -> list[dict]:
    """One model's forecast `path` over `dates` in its colour, over its band from path + low to path + high; the
    band has no legend entry of its own but shows and hides with the line (one legend group)."""
    color = FORECAST_COLORS.get(name, "#444444")
    band = dict(
        type="scatter",
        x=np.concatenate([dates, dates[::-1]]),
        y=np.concatenate([path + high, (path + low)[::-1]]),
        fill="toself",
        fillcolor=color,
        opacity=0.15,
        line=dict(width=0),
        hoverinfo="skip",
        showlegend=False,
        legendgroup=name,
    )
    return [band, _line(dates, path, display_name, color, legendgroup=name)]


def horizon_forecasts(
    series: Series,
    origins: np.ndarray,
    forecasts: dict[str, np.ndarray],
    bands: dict[str, np.ndarray],
    horizon: int,
    display_names: dict[str, str],
    test_start: int,
) -> go.Figure:
    """Every test-period target (from position `test_start`) against each model's forecast made `horizon` steps
    before it, with the model's 90 % band from its validation errors at that horizon."""
    dates, raw, step = series.dates, series.raw, series.config.step
    targets = origins + horizon
    inside = (targets >= test_start) & (targets < len(raw))
    targets = targets[inside]
    traces = []
    for name, forecast in forecasts.items():
        low, high = bands[name][horizon - 1]
        traces += _forecast_traces(name, display_names[name], dates[targets], forecast[inside, horizon - 1], low, high)
    traces.append(_line(dates[targets], raw[targets], "truth (recorded)", TRUTH_COLOR, width=3))
    title = f"Test period: each {step}'s value and the forecasts made {horizon} {step}{'s' * (horizon > 1)} before it"
    return _figure(traces, title, series.config.unit, height=420)


def forecasts_from_origin(
    series: Series,
    origin: int,
    forecasts: dict[str, np.ndarray],
    bands: dict[str, np.ndarray],
    horizon: int,
    display_names: dict[str, str],
    history: int,
) -> go.Figure:
    """Every model's path of the next `horizon` steps from one origin, with bands, after `history` steps of truth.

    `forecasts[name]` is that model's (horizon,) forecast from the origin; the truth is drawn where recorded.
    """
    dates, raw = series.dates, series.raw
    following = np.arange(origin + 1, origin + 1 + horizon)
    known = following < len(raw)
    future_dates = dates[following[known]]
    past = slice(max(0, origin - history + 1), min(len(raw), origin + 1 + horizon))
    traces = [_line(dates[past], raw[past], "truth (recorded)", TRUTH_COLOR)]
    for name, path in forecasts.items():
        low, high = bands[name][: len(future_dates), 0], bands[name][: len(future_dates), 1]
        traces += _forecast_traces(name, display_names[name], future_dates, path[: len(future_dates)], low, high)
    origin_line = plots.vertical_line_shape(dates[origin], color="gray", dash="dash", width=1)
    return _figure(
        traces, f"Forecasts from {dates[origin].date()}", series.config.unit, height=420, shapes=[origin_line]
    )


def occlusion_bars(dates: pd.DatetimeIndex, effects: np.ndarray, unit: str, title: str) -> go.Figure:
    """One bar per step of the window: the forecast minus the forecast with that step's value occluded."""
    effects = np.asarray(effects, dtype=float)
    hover = f"%{{x|%Y-%m-%d}}: Δ = %{{y:+.3f}} {unit}<extra></extra>"
    traces = plots.signed_bars(dates, effects, hover, names=("raises the forecast", "lowers it"))
    # A short y title (the long one ran up into the chart's title); the hover and the page say what Δ is.
    return _figure(traces, title, f"Δ forecast ({unit})", height=320, barmode="overlay")
