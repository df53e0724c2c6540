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


def _layout(figure: go.Figure, title: str, unit: str, height: int = 360) -> go.Figure:
    """Dates along x, the series' unit up y, one hover for all lines; title, legend and text as every chart's
    (plots.lay_out: the legend below the plot and in the height)."""
    # At most 4 dates: on a phone Plotly's choice, and 5, put "Jan 1999" into "Apr 1999" (Chromium, 390 px).
    figure.update_layout(xaxis_title="date", xaxis_nticks=4, yaxis_title=unit, hovermode="x unified")
    return plots.lay_out(figure, title, height)


def _shade_parts(figure: go.Figure, dates: pd.DatetimeIndex, starts: dict[str, int]) -> None:
    """Validation and test shaded from their first date; the training part is left plain."""
    end = dates[-1]
    boundaries = [("validation", starts["validation"], starts["test"]), ("test", starts["test"], None)]
    for part, start, stop in boundaries:
        figure.add_vrect(
            x0=dates[start],
            x1=dates[stop] if stop is not None else end,
            fillcolor=PART_COLORS[part],
            line_width=0,
            annotation_text=part,
            # Each name on its own side of the boundary between them: both at the left, "validation" ran into
            # "test" on a phone, where four years are some 20 px.
            annotation_position="top right" if part == "validation" else "top left",
        )


def _filled_marks(dates: pd.DatetimeIndex, values: np.ndarray, name: str, size: int) -> dict:
    """A trace's settings that mark filled (interpolated) values: the same red cross on every chart, so the close-up
    is read as the overview's marks."""
    return dict(x=dates, y=values, mode="markers", name=name, marker=dict(color="#EF553B", symbol="x", size=size))


def raw_series(
    dates: pd.DatetimeIndex, raw: np.ndarray, cleaned: np.ndarray, starts: dict[str, int], unit: str, step: str
) -> go.Figure:
    """The series as recorded, a mark under each missing step (at its filled value), the parts shaded."""
    figure = go.Figure()
    figure.add_trace(go.Scattergl(x=dates, y=raw, mode="lines", name="recorded", line=dict(color=TRUTH_COLOR)))
    missing = np.isnan(raw)
    if missing.any():
        marks = _filled_marks(dates[missing], cleaned[missing], f"missing {step} ({int(missing.sum())})", size=7)
        figure.add_trace(go.Scattergl(**marks))  # WebGL: the whole series has thousands of points
    _shade_parts(figure, dates, starts)
    return _layout(figure, "1. The raw series", unit)


def gap_detail(
    dates: pd.DatetimeIndex, raw: np.ndarray, cleaned: np.ndarray, around: int, span: int, unit: str
) -> go.Figure:
    """A close-up of `span` steps each side of position `around`: recorded points and the filled ones."""
    window = slice(max(0, around - span), min(len(raw), around + span))
    shown_dates, shown_raw, shown_clean = dates[window], raw[window], cleaned[window]
    filled = np.isnan(shown_raw)
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=shown_dates, y=shown_clean, mode="lines", name="cleaned", line=dict(color="#636EFA")))
    figure.add_trace(
        go.Scatter(x=shown_dates, y=shown_raw, mode="markers", name="recorded", marker=dict(color=TRUTH_COLOR))
    )
    marks = _filled_marks(shown_dates[filled], shown_clean[filled], "filled (interpolated)", size=9)
    figure.add_trace(go.Scatter(**marks))
    return _layout(figure, "2. The longest gap, filled", unit, height=320)


def scaled_series(dates: pd.DatetimeIndex, scaled: np.ndarray, starts: dict[str, int]) -> go.Figure:
    """The scaled series with the training part's range marked: what lies outside it was never seen in training."""
    figure = go.Figure()
    figure.add_trace(go.Scattergl(x=dates, y=scaled, mode="lines", name="scaled", line=dict(color="#636EFA")))
    training = scaled[: starts["validation"]]
    for value, label in ((training.min(), "training minimum"), (training.max(), "training maximum")):
        plots.horizontal_line(figure, float(value), color="gray", dash="dot", width=1)
        figure.add_annotation(
            xref="x domain", x=0, y=float(value), text=label, showarrow=False, xanchor="left", yanchor="bottom"
        )
    _shade_parts(figure, dates, starts)
    return _layout(figure, "3. Scaled with the training part's mean and standard deviation", "z (no unit)")


def window_figure(
    dates: pd.DatetimeIndex, values: np.ndarray, origin: int, window: int, horizon: int, unit: str
) -> go.Figure:
    """One window: the last W values the network reads, and the next h values it must predict."""
    inputs = slice(origin - window + 1, origin + 1)
    following = slice(origin + 1, min(len(values), origin + 1 + horizon))
    context = slice(max(0, origin - window - 10), min(len(values), origin + horizon + 10))
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(x=dates[context], y=values[context], mode="lines", name="series", line=dict(color="#cccccc"))
    )
    figure.add_trace(
        go.Scatter(
            x=dates[inputs], y=values[inputs], mode="lines+markers", name=f"input: last {window}", marker=dict(size=4)
        )
    )
    figure.add_trace(
        go.Scatter(
            x=dates[following],
            y=values[following],
            mode="lines+markers",
            name=f"to predict: next {horizon}",
            marker=dict(size=5, color="#EF553B"),
        )
    )
    return _layout(figure, "4. One window and what follows it", unit, height=320)


def _add_forecast(
    figure: go.Figure,
    name: str,
    display_name: str,
    dates: pd.DatetimeIndex,
    path: np.ndarray,
    low: np.ndarray | float,
    high: np.ndarray | float,
) -> None:
    """One model's forecast `path` over `dates` in its colour, over its band from path + low to path + high; the
    band has no legend entry of its own but shows and hides with the line (one legend group)."""
    color = FORECAST_COLORS.get(name, "#444444")
    figure.add_trace(
        go.Scatter(
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
    )
    figure.add_trace(
        go.Scatter(x=dates, y=path, mode="lines", name=display_name, line=dict(color=color), legendgroup=name)
    )


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
    figure = go.Figure()
    for name, forecast in forecasts.items():
        low, high = bands[name][horizon - 1]
        _add_forecast(figure, name, display_names[name], dates[targets], forecast[inside, horizon - 1], low, high)
    figure.add_trace(
        go.Scatter(
            x=dates[targets],
            y=raw[targets],
            mode="lines",
            name="truth (recorded)",
            line=dict(color=TRUTH_COLOR, width=3),
        )
    )
    title = f"Test period: each {step}'s value and the forecasts made {horizon} {step}{'s' * (horizon > 1)} before it"
    return _layout(figure, title, series.config.unit, height=420)


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
    figure = go.Figure()
    past = slice(max(0, origin - history + 1), min(len(raw), origin + 1 + horizon))
    figure.add_trace(
        go.Scatter(x=dates[past], y=raw[past], mode="lines", name="truth (recorded)", line=dict(color=TRUTH_COLOR))
    )
    for name, path in forecasts.items():
        low, high = bands[name][: len(future_dates), 0], bands[name][: len(future_dates), 1]
        _add_forecast(figure, name, display_names[name], future_dates, path[: len(future_dates)], low, high)
    plots.vertical_line(figure, dates[origin], color="gray", dash="dash", width=1)
    return _layout(figure, f"Forecasts from {dates[origin].date()}", series.config.unit, height=420)


def occlusion_bars(dates: pd.DatetimeIndex, effects: np.ndarray, unit: str, title: str) -> go.Figure:
    """One bar per step of the window: the forecast minus the forecast with that step's value occluded."""
    effects = np.asarray(effects, dtype=float)
    figure = go.Figure()
    for wanted, color, name in (
        (effects > 0, "#2ca02c", "raises the forecast"),
        (effects <= 0, "#d62728", "lowers it"),
    ):
        figure.add_trace(
            go.Bar(
                x=dates[wanted],
                y=effects[wanted],
                marker=dict(color=color),
                name=name,
                hovertemplate=f"%{{x|%Y-%m-%d}}: Δ = %{{y:+.3f}} {unit}<extra></extra>",
            )
        )
    figure.update_layout(barmode="overlay")
    # A short y title (the long one ran up into the chart's title); the hover and the page say what Δ is.
    return _layout(figure, title, f"Δ forecast ({unit})", height=320)
