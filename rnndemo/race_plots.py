"""Figures of the race page: the live curves, and test error against the lag T. Each takes data and returns a figure."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from rnndemo import plots
from rnndemo.race import CurvePoint

# A test MSE of exactly 0 cannot sit on a log axis; it is drawn at this floor (a perfect score, for the chart).
MSE_FLOOR = 1e-6
AXES = {"seconds": "training seconds (each cell's own)", "steps": "gradient steps"}


def _floored(values: Sequence[float]) -> list[float]:
    return [max(MSE_FLOOR, float(value)) for value in values]


def _chance_line(figure: go.Figure, chance: float) -> None:
    plots.horizontal_line(figure, chance, color="gray", dash="dot", width=2)
    figure.add_annotation(
        xref="x domain", x=1, yref="y", y=chance, text="chance", showarrow=False, xanchor="right", yanchor="bottom"
    )


def race_curves(
    curves: dict[str, Sequence[CurvePoint]],
    chance_mse: float | None,
    display_names: dict[str, str],
    axis: str = "seconds",
    budget_seconds: float | None = None,
) -> go.Figure:
    """Each cell's held-out MSE as it trains, on one log axis, with the chance level drawn.

    `axis`: "seconds" (each cell's own training time; the x-axis spans the budget, so the curves grow
    towards its end) or "steps". Hover gives the training loss of the same moment too.
    """
    figure = go.Figure()
    for name, points in curves.items():
        display = display_names.get(name, name)
        figure.add_trace(
            go.Scatter(
                x=[point.seconds if axis == "seconds" else point.step for point in points],
                y=_floored([point.test_mse for point in points]),
                customdata=[[point.step, point.seconds, point.train_loss] for point in points],
                name=display,
                mode="lines+markers",
                marker=dict(size=5),
                line=dict(color=plots.MODEL_COLORS.get(name)),
                hovertemplate="step %{customdata[0]}, %{customdata[1]:.1f} s: test MSE %{y:.4f}, "
                f"train loss %{{customdata[2]:.4f}}<extra>{display}</extra>",
            )
        )
    if chance_mse:
        _chance_line(figure, chance_mse)
    figure.update_yaxes(type="log", title="test MSE (log scale)", dtick=1)  # powers of ten (see error_against_lag)
    figure.update_xaxes(title=AXES[axis])
    if axis == "seconds" and budget_seconds:
        figure.update_xaxes(range=[0, budget_seconds * 1.02])
    return plots.lay_out(figure, "Held-out error while training", height=380)


def error_against_lag(
    series: dict[str, list[dict]],
    chance: dict[int, float],
    display_names: dict[str, str],
    title: str,
) -> go.Figure:
    """Test MSE against T per cell: rows of {"lag", "test_mse"} and, for the sweep, "low" and "high" (error bars).

    `chance`: the chance MSE at each T, drawn as a gray line.
    """
    figure = go.Figure()
    for name, rows in series.items():
        rows = sorted(rows, key=lambda row: row["lag"])
        bars = all("low" in row for row in rows) and rows
        figure.add_trace(
            go.Scatter(
                x=[row["lag"] for row in rows],
                y=_floored([row["test_mse"] for row in rows]),
                name=display_names.get(name, name),
                mode="lines+markers" if bars else "markers",
                marker=dict(size=8, color=plots.MODEL_COLORS.get(name)),
                line=dict(color=plots.MODEL_COLORS.get(name)),
                error_y=dict(
                    type="data",
                    symmetric=False,
                    array=[max(0.0, row["high"] - row["test_mse"]) for row in rows],
                    arrayminus=[max(0.0, row["test_mse"] - max(MSE_FLOOR, row["low"])) for row in rows],
                )
                if bars
                else None,
                hovertemplate="T = %{x}: test MSE %{y:.4f}<extra>" + display_names.get(name, name) + "</extra>",
            )
        )
    if chance:
        lags = sorted(chance)
        figure.add_trace(
            go.Scatter(
                x=lags,
                y=[chance[lag] for lag in lags],
                name="chance",
                mode="lines",
                line=dict(color="gray", dash="dot"),
                hovertemplate="T = %{x}: chance %{y:.4f}<extra></extra>",
            )
        )
    # Powers of ten only: Plotly writes the 2 and 5 between them at three quarters of the tick size (10.5 px).
    figure.update_yaxes(type="log", title="test MSE (log scale)", dtick=1)
    figure.update_xaxes(title="lag T (steps)", type="log", dtick=1)
    return plots.lay_out(figure, title, height=340)
