"""How well the classifiers do: training curves, confusion, ROC, calibration and the word-order test."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from rnndemo import plots


def training_curves(history: dict) -> go.Figure:
    figure = go.Figure()
    epochs = list(range(1, len(history.get("loss", [])) + 1))
    for key, dash in (("loss", "solid"), ("val_loss", "dash"), ("accuracy", "solid"), ("val_accuracy", "dash")):
        if key in history:
            figure.add_trace(go.Scatter(x=epochs, y=history[key], name=key, line=dict(dash=dash), mode="lines+markers"))
    figure.update_xaxes(title="epoch", dtick=1)
    return plots.lay_out(figure, "Training curves (validation = early-stopping split)")


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
    return plots.lay_out(figure, title, height=320)


def roc_figure(curves: dict[str, tuple[np.ndarray, np.ndarray, float]], display_names: dict[str, str]) -> go.Figure:
    figure = go.Figure()
    for name, (false_positive, true_positive, auc) in curves.items():
        figure.add_trace(
            go.Scatter(
                x=false_positive,
                y=true_positive,
                name=f"{display_names.get(name, name)} (AUC {auc:.3f})",
                line=dict(color=plots.MODEL_COLORS.get(name)),
            )
        )
    figure.add_trace(go.Scatter(x=[0, 1], y=[0, 1], name="chance", line=dict(dash="dot", color="gray")))
    figure.update_xaxes(title="false positive rate")
    figure.update_yaxes(title="true positive rate")
    return plots.lay_out(figure, "ROC on the IMDB test split", height=380)


def calibration_figure(tables: dict, display_names: dict[str, str]) -> go.Figure:
    figure = go.Figure()
    for name, table in tables.items():
        figure.add_trace(
            go.Scatter(
                x=table["mean_predicted"],
                y=table["observed_positive_rate"],
                mode="lines+markers",
                name=display_names.get(name, name),
                line=dict(color=plots.MODEL_COLORS.get(name)),
                customdata=table["count"],
                hovertemplate="predicted %{x:.2f}, observed %{y:.2f} (n=%{customdata})",
            )
        )
    figure.add_trace(go.Scatter(x=[0, 1], y=[0, 1], name="perfectly calibrated", line=dict(dash="dot", color="gray")))
    figure.update_xaxes(title="mean predicted p(positive)", range=[0, 1])
    figure.update_yaxes(title="observed share positive", range=[0, 1])
    return plots.lay_out(figure, "Calibration on the IMDB test split", height=380)


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
    plots.lay_out(figure, f"Word order: accuracy on {result['n']:,} test reviews, reordered", height=380)
    figure.update_layout(barmode="group", margin_r=70)  # room for the "chance" label
    return figure
