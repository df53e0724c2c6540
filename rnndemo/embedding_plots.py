"""The Embeddings page's PCA map of word vectors, in 2-D or 3-D."""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go

from rnndemo import plots

PCA_3D_NEIGHBOUR_LABELS = 5
HIGHLIGHTED_GROUPS = ("query", "your words")


def variance_axis_title(component: int, ratio: float) -> str:
    """An axis title such as "PC1 (41% of variance)"; `component` counts from 1."""
    return f"PC{component} ({ratio:.0%} of variance)"


def pca_scatter(
    words: list[str], coordinates: np.ndarray, groups: list[str], ratios: np.ndarray, title: str
) -> go.Figure:
    """2-D or 3-D scatter of PCA coordinates, coloured by group; each axis says its share of the variance.

    `ratios` are the explained-variance ratios of the PCA that gave `coordinates`, one per column."""
    figure = go.Figure()
    labels = [plots.safe(word) for word in words]
    three_d = coordinates.shape[1] >= 3
    neighbours = [row for row, group in enumerate(groups) if group not in HIGHLIGHTED_GROUPS]
    unlabelled = set(neighbours[PCA_3D_NEIGHBOUR_LABELS:]) if three_d else set()
    labelled = set(range(len(words))) - unlabelled
    for group in dict.fromkeys(groups):
        rows = [row for row, value in enumerate(groups) if value == group]
        common = dict(
            mode="markers+text",
            name=group,
            text=[labels[row] if row in labelled else "" for row in rows],
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
                xaxis=dict(title=dict(text=axis_titles[0])),
                yaxis=dict(title=dict(text=axis_titles[1])),
                zaxis=dict(title=dict(text=axis_titles[2])),
                # A little farther than Plotly's default view, so that the axis titles stay inside the figure.
                camera=dict(eye=dict(x=1.6, y=1.6, z=1.1)),
            )
        )
    else:
        figure.update_xaxes(title=axis_titles[0])
        figure.update_yaxes(title=axis_titles[1] if len(axis_titles) > 1 else None)
    kept = float(np.sum(ratios[: coordinates.shape[1]]))
    # Two lines: a long space name pushed the share off the chart's right edge.
    return plots.lay_out(figure, f"{title}<br>these axes keep {kept:.0%} of the variance", height=520)
