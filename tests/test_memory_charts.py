"""The memory charts' text is whole in a real browser (issue 22): every axis title and the title fit the chart,
on a phone's column and in presenter mode, measured from the SVG that Plotly draws in Chromium."""

from __future__ import annotations

import json
import os
from contextlib import closing

import plotly.io
import pytest

from benchmarks.browser import chromium_available, launch_browser
from rnndemo import memory, memory_plots, plots

from .conftest import MODELS_DIR

pytestmark = pytest.mark.browser  # drives Chromium: left out of `make test-fast`

if not chromium_available():
    if os.environ.get("RNNDEMO_REQUIRE_BROWSER"):
        raise RuntimeError("Chromium is required for the browser tests here (apt-get install -y chromium)")
    pytest.skip("no Chromium on this machine (apt-get install -y chromium)", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

RESULT = json.loads((MODELS_DIR / "memory_experiment.json").read_text(encoding="utf-8"))
FIGURES = {"accuracy": memory_plots.memory_accuracy_figure, "gradient": memory_plots.memory_gradient_figure}
# (column width in px, font scale): a 390 px phone's column; half of the wide layout in presenter mode at 1280 px.
VIEWS = [(360, 1.0), (560, 1.25)]

MEASURE = """() => {
    const box = (element) => { const r = element.getBoundingClientRect();
        return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
    const one = (selector) => { const found = document.querySelector(selector); return found ? box(found) : null; };
    return {svg: one('svg.main-svg'), plot: one('.nsewdrag'), xtitle: one('.g-xtitle text'),
            ytitle: one('.g-ytitle text'), title: one('.g-gtitle text')};
}"""


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright, closing(launch_browser(playwright)) as chromium:
        yield chromium


def boxes(browser, figure) -> dict:
    """The bounding boxes of the chart's SVG, plotting area and titles, drawn by Plotly in Chromium."""
    page = browser.new_page(viewport={"width": int(figure.layout.width) + 40, "height": 1200})
    try:
        page.set_content(plotly.io.to_html(figure, include_plotlyjs=True, full_html=True))
        page.wait_for_selector(".g-ytitle text")
        return page.evaluate(MEASURE)
    finally:
        page.close()


def text_problems(found: dict) -> list[str]:
    """Which of the chart's texts are cut (outside the SVG) or run past the plotting area along their axis."""
    svg, plot, slack = found["svg"], found["plot"], 1.0
    problems = []
    for name in ("xtitle", "title"):
        box = found[name]
        if box["left"] < svg["left"] - slack or box["right"] > svg["right"] + slack:
            problems.append(f"{name} is cut at the chart's sides: {box} in {svg}")
    y = found["ytitle"]
    if y["top"] < plot["top"] - slack or y["bottom"] > plot["bottom"] + slack:
        problems.append(f"the y-axis title runs past the plotting area's height: {y} beside {plot}")
    if y["left"] < svg["left"] - slack:
        problems.append(f"the y-axis title is cut at the left: {y}")
    return problems


@pytest.mark.parametrize("width, scale", VIEWS)
@pytest.mark.parametrize("kind", FIGURES)
def test_every_memory_chart_text_is_whole(browser, kind, width, scale):
    """A student on a phone and a class in front of the projector read every axis title of both memory charts."""
    figure = FIGURES[kind](RESULT, memory.display_names(RESULT))
    figure = plots.scale_fonts(figure, scale).update_layout(width=width)
    found = boxes(browser, figure)
    assert all(found[name] for name in ("svg", "plot", "xtitle", "ytitle", "title")), found
    assert text_problems(found) == []


def test_the_check_above_catches_a_cut_axis_title(browser):
    """The gradient chart's former y-axis title, 'mean |d(w·h_T)/de_t| (log)', ran past its plotting area."""
    figure = memory_plots.memory_gradient_figure(RESULT, memory.display_names(RESULT))
    figure = plots.scale_fonts(figure, 1.25).update_layout(width=560, height=400)
    figure.update_yaxes(title_text="mean |d(w·h_T)/de_t| (log), a title as long as the old one")
    problems = text_problems(boxes(browser, figure))
    assert any("y-axis title" in problem for problem in problems), problems
