"""Every page on a phone (390×844), a laptop and a projector (1280×720, presenter mode) in Chromium: no chart text
or page text overlaps another, none is cut, every chart's tick labels are at least 14 px (18 px presenting) in
dark ink, the chart toolbar never covers a title, and the token axes follow their rule (issue 22, item 5).

The token-axis rule (README, "Readable charts"): every label is a token's number and word, upright, and Plotly
keeps them 1.2 font sizes apart, so a chart labels every token when each has 17 px of axis (120 tokens need
2,040 px, more than a 1280-px screen gives a chart) and otherwise every k-th, k the smallest that fits; hover
names every token. A diagram wider than a phone that sits in a box scrolling sideways counts as on screen.
Screenshots (the first screenful of each page) go to artifacts/screenshots/readable_*.png for people to look at."""

import os
import re

import pytest

from benchmarks.browser import PROJECT_ROOT, chromium_available, launch_browser, streamlit_server, wait_for_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if not chromium_available():
    if os.environ.get("RNNDEMO_REQUIRE_BROWSER"):
        raise RuntimeError("Chromium is required for the browser tests here (apt-get install -y chromium)")
    pytest.skip("no Chromium on this machine (apt-get install -y chromium)", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

SCREENSHOTS = PROJECT_ROOT / "artifacts" / "screenshots"
PAGES = [
    "home",
    "tokens",
    "embeddings",
    "compare",
    "language_model",
    "time_series",
    "inside?step=31",  # presenting, the projector panel around "unnecessarily", the lesson text's longest word
    "race",
    "model_cards",
    "batch",
]
# (name, viewport, query, smallest tick label in px)
VIEWS = [
    ("phone", {"width": 390, "height": 844}, "", 14),
    ("laptop", {"width": 1280, "height": 720}, "", 14),
    ("projector", {"width": 1280, "height": 720}, "?present=1", 18),
]
OVERLAP_PX = 1.5  # boxes may touch: a glyph box is taller than its ink

# Every chart text Plotly draws in SVG (3-D axes are WebGL, not checked here), and every page text that could be
# cut or run into another. Each box: its text, rectangle, the chart it belongs to (-1: the page), what it is.
MEASURE = """
() => {
  const boxes = [];
  const charts = [...document.querySelectorAll('.js-plotly-plot')];
  const chartText = '.gtitle, .xtick text, .ytick text, .g-xtitle text, .g-ytitle text, .legendtext, '
    + '.annotation-text, .cbtitle text, .cbaxis text';
  charts.forEach((chart, index) => {
    const frame = chart.getBoundingClientRect();
    // A chart wider than a phone inside a box that scrolls sideways (ui.widgets._READABLE_CSS) is read by scrolling.
    let scrolls = false;
    for (let box = chart.parentElement; box; box = box.parentElement)
      if (['auto', 'scroll'].includes(getComputedStyle(box).overflowX) && box.scrollWidth > box.clientWidth + 1)
        scrolls = true;
    boxes.push({chart: index, kind: 'frame', text: '', scrolls, ...rect(frame)});
    for (const element of chart.querySelectorAll(chartText)) {
      const box = element.getBoundingClientRect();
      const style = getComputedStyle(element);
      if (!element.textContent.trim() || box.width === 0 || style.display === 'none' || style.visibility === 'hidden')
        continue;
      const kind = element.matches('.xtick text') ? 'xtick' : element.matches('.ytick text') ? 'tick'
        : element.matches('.gtitle') ? 'title' : element.matches('.legendtext') ? 'legend' : 'text';
      boxes.push({chart: index, kind, text: element.textContent, size: parseFloat(style.fontSize),
                  fill: style.fill, ...rect(box)});
    }
    // The boxes a diagram draws (rectangles of its shape layer), for the labels written inside them.
    for (const shape of chart.querySelectorAll('.shapelayer path')) {
      const box = shape.getBoundingClientRect();
      if (box.width > 0 && box.height > 0) boxes.push({chart: index, kind: 'shape', text: '', ...rect(box)});
    }
    for (const bar of chart.querySelectorAll('.modebar')) {
      const box = bar.getBoundingClientRect();
      if (box.width > 0) boxes.push({chart: index, kind: 'toolbar', text: '', ...rect(box)});
    }
  });
  const pageText = 'h1, h2, h3, [data-testid="stMetricValue"], [data-testid="stMetricLabel"], '
    + '[data-testid="stMarkdownContainer"] p, [data-testid="stCaptionContainer"], label, '
    + '[data-testid="stHtml"] span[data-rnndemo]';  // the app's own HTML texts (the Copy-link hint)
  for (const element of document.querySelectorAll(pageText)) {
    if (element.querySelector(pageText)) continue;  // the innermost: a label's paragraph, not the label too
    // The text's own box, not the paragraph's: its line height's leading is not ink (a slider's value sits
    // in the leading under its label).
    const range = document.createRange();
    range.selectNodeContents(element);
    const box = range.getBoundingClientRect();
    // Text a visitor cannot see (the top bar's links folded into its "more" menu) cannot run into anything.
    // So is text wholly outside a box that clips it (links the top bar is about to fold away).
    const clip = [...ancestors(element)].find(box => ['hidden', 'clip'].includes(getComputedStyle(box).overflowX));
    const outside = clip && (range => range.left >= range.right)(intersect(element.getBoundingClientRect(),
                                                                        clip.getBoundingClientRect()));
    const hidden = outside || !element.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
    if (!element.innerText || !element.innerText.trim() || box.width === 0 || hidden
        || element.closest('[data-testid="stSidebar"]'))
      continue;
    const cut = element.scrollWidth > element.clientWidth + 1 && getComputedStyle(element).overflow !== 'visible';
    boxes.push({chart: -1, kind: 'page', text: element.innerText.slice(0, 60), cut, ...rect(box)});
  }
  // A hint written as an empty box's placeholder (the Copy-link control's) is text too: cut when wider than its box.
  const ruler = document.createElement('canvas').getContext('2d');
  for (const input of document.querySelectorAll('[data-testid="stMain"] input:placeholder-shown')) {
    const box = input.getBoundingClientRect(), style = getComputedStyle(input);
    if (box.width === 0 || !input.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
    ruler.font = style.font;
    const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const cut = ruler.measureText(input.placeholder).width > room + 1;
    boxes.push({chart: -1, kind: 'page', text: input.placeholder.slice(0, 60), cut, ...rect(box)});
  }
  return {boxes, width: document.documentElement.clientWidth, scrollWidth: document.documentElement.scrollWidth};
  function* ancestors(element) { for (let box = element.parentElement; box; box = box.parentElement) yield box; }
  function intersect(first, second) { return {left: Math.max(first.left, second.left),
                                              right: Math.min(first.right, second.right)}; }
  function rect(box) { return {left: box.left + scrollX, top: box.top + scrollY, right: box.right + scrollX,
                               bottom: box.bottom + scrollY}; }
}
"""


# Streamlit draws a chart only once it comes near the screen: the page is scrolled through to its end, a screenful
# at a time, so that every chart is drawn and measured (not only the first screenful's), then back to its top.
REVEAL = """
async () => {
  const scrollers = [document.scrollingElement, ...document.querySelectorAll('[data-testid="stMain"], '
                     + '[data-testid="stAppViewContainer"]')].filter(box => box.scrollHeight > box.clientHeight + 1);
  for (const scroller of scrollers) {
    for (let y = 0; y < scroller.scrollHeight; y += scroller.clientHeight / 2) {
      scroller.scrollTo(0, y);
      await new Promise(done => setTimeout(done, 60));
    }
    scroller.scrollTo(0, 0);
  }
}
"""


def overlap(first: dict, second: dict) -> float:
    """How far two boxes overlap, in px (the smaller of the two overlaps' sides; 0 when apart)."""
    width = min(first["right"], second["right"]) - max(first["left"], second["left"])
    height = min(first["bottom"], second["bottom"]) - max(first["top"], second["top"])
    return max(0.0, min(width, height))


def inside(box: dict, frame: dict, slack: float = 1.0) -> bool:
    return (
        box["left"] >= frame["left"] - slack
        and box["right"] <= frame["right"] + slack
        and box["top"] >= frame["top"] - slack
        and box["bottom"] <= frame["bottom"] + slack
    )


def problems(measured: dict, smallest_tick: float) -> list[str]:
    """What a visitor could not read: text boxes that overlap, text cut by its chart or the page, small or pale
    ticks, a toolbar over a title, a page wider than the screen."""
    boxes, found = measured["boxes"], []
    if measured["scrollWidth"] > measured["width"] + 1:
        found.append(f"the page is {measured['scrollWidth']} px wide on a {measured['width']} px screen")
    frames = {box["chart"]: box for box in boxes if box["kind"] == "frame"}
    shapes = [box for box in boxes if box["kind"] == "shape"]
    texts = [box for box in boxes if box["kind"] not in ("frame", "toolbar", "shape")]
    for box in texts:
        where = f"chart {box['chart']} {box['kind']} {box['text']!r}" if box["chart"] >= 0 else f"page {box['text']!r}"
        if box["chart"] >= 0 and not inside(box, frames[box["chart"]]):
            found.append(f"{where} is cut by its chart")
        # In reach by scrolling its box; but not a legend: the key to a diagram's colours is read before scrolling.
        scrolls = box["chart"] >= 0 and frames[box["chart"]]["scrolls"] and box["kind"] != "legend"
        if not scrolls and (box["right"] > measured["width"] + 1 or box["left"] < -1):
            found.append(f"{where} runs off the screen")
        if box.get("cut"):
            found.append(f"{where} is cut short")
        if box["kind"] in ("tick", "xtick") and box["size"] < smallest_tick - 0.01:
            found.append(f"{where} is {box['size']} px")
        if box["kind"] in ("tick", "xtick") and sum(int(part) for part in box["fill"][4:-1].split(",")[:3]) > 3 * 90:
            found.append(f"{where} is pale ({box['fill']})")
    # An upright label's box is its line box across the axis, ~1.36 font sizes, while Plotly keeps labels 1.2 font
    # sizes apart (plots.token_axis_spec): side by side, two boxes overlapped by 2 px where the letters stood 3 px
    # apart (Chromium). Across the axis an upright label is measured by its em box, one font size wide.
    for box in texts:
        if box["kind"] == "xtick" and box["bottom"] - box["top"] > box["right"] - box["left"]:
            middle = (box["left"] + box["right"]) / 2
            box["left"], box["right"] = middle - box["size"] / 2, middle + box["size"] / 2
    # Within a chart, on the page, and page text against chart text (charts never overlap each other).
    for index, first in enumerate(texts):
        for second in texts[index + 1 :]:
            same_place = first["chart"] == second["chart"] or -1 in (first["chart"], second["chart"])
            if same_place and overlap(first, second) > OVERLAP_PX:
                found.append(f"{first['text']!r} overlaps {second['text']!r} (chart {first['chart']})")
    found += token_axis_problems(texts)
    found += state_label_problems(texts, shapes)
    for toolbar in (box for box in boxes if box["kind"] == "toolbar"):
        for title in (box for box in texts if box["kind"] == "title" and box["chart"] == toolbar["chart"]):
            if overlap(toolbar, title) > 0:
                found.append(f"the toolbar covers the title {title['text']!r}")
    return found


# A diagram's box label: a state box's "h12 0.53" and an input box's "x12 word" (token_plots.unfolded_graph, the LM
# graph; the words are shortened to their box, plots.fitted_word).
STATE_LABEL = re.compile(r"^[xh]\d")


def state_label_problems(texts: list[dict], shapes: list[dict]) -> list[str]:
    """A diagram's boxes hold their labels: a state box hₜ its p, an input box xₜ its word. Each label stays inside
    the box its middle is in."""
    found = []
    for box in (box for box in texts if box["kind"] == "text" and STATE_LABEL.match(box["text"])):
        middle = ((box["left"] + box["right"]) / 2, (box["top"] + box["bottom"]) / 2)
        holders = [
            shape
            for shape in shapes
            if shape["chart"] == box["chart"]
            and shape["left"] <= middle[0] <= shape["right"]
            and shape["top"] <= middle[1] <= shape["bottom"]
        ]
        # The innermost box: the projector panel outlines the current step's two boxes with a larger one.
        holder = min(holders, key=lambda shape: shape["right"] - shape["left"], default=None)
        if holder is None:
            found.append(f"chart {box['chart']}: the label {box['text']!r} is in no box")
        elif not inside(box, holder):
            found.append(f"chart {box['chart']}: the label {box['text']!r} spills out of its box")
    return found


TOKEN_LABEL = re.compile(r"^(\d+) ")  # "29 favor": a token axis's label (plots.token_axis_spec)


def token_axis_problems(texts: list[dict]) -> list[str]:
    """The token-axis rule (docs/ARCHITECTURE.md, plots.token_axis_spec): a chart along the tokens labels every
    k-th token, each with its number, k the smallest that keeps the labels a line of type apart (Plotly's
    1.2 × the font size; so every token when they fit, as with ≤ 120 tokens on a wide enough chart), evenly."""
    found = []
    for chart in {box["chart"] for box in texts if box["kind"] == "xtick"}:
        labels = sorted(
            (int(match.group(1)), (box["left"] + box["right"]) / 2, box["size"])
            for box in texts
            if box["chart"] == chart and box["kind"] == "xtick" and (match := TOKEN_LABEL.match(box["text"]))
        )
        if len(labels) < 3:
            continue
        steps = {second[0] - first[0] for first, second in zip(labels, labels[1:])}
        if len(steps) > 1:
            found.append(f"chart {chart}: token labels unevenly spaced ({sorted(steps)})")
            continue
        every = steps.pop()
        per_token = (labels[-1][1] - labels[0][1]) / (labels[-1][0] - labels[0][0])  # px along the axis
        line = round(1.2 * labels[0][2])
        if every > 1 and (every - 1) * per_token >= line + 1:
            found.append(f"chart {chart}: every {every}th token labelled, but every {every - 1}th would fit")
    return found


@pytest.fixture(scope="module")
def server():
    with streamlit_server() as (url, process, seconds):
        yield url


def test_every_page_reads_on_a_phone_a_laptop_and_a_projector(server):
    """A student on a phone and a lecturer on a projector open every page: no text runs into another or off its
    chart, ticks are large and dark, no toolbar covers a chart title, and the token axes label every token that
    fits. The three views of a page load at once (one tab each), so the server runs them side by side."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    found = {}
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        tabs = {view: browser.new_page(viewport=viewport) for view, viewport, _, _ in VIEWS}
        for name in PAGES:
            for view, _, query, _ in VIEWS:
                tabs[view].goto(f"{server}/{name}{query.replace('?', '&') if '?' in name else query}")
            for view, _, _, smallest_tick in VIEWS:
                tab = tabs[view]
                wait_for_idle(tab, 120_000)
                tab.evaluate(REVEAL)
                tab.wait_for_timeout(600)  # Plotly lays out after the script has finished, and after a chart is shown
                for problem in problems(tab.evaluate(MEASURE), smallest_tick):
                    found.setdefault(f"{view} /{name}", []).append(problem)
                tab.screenshot(path=str(SCREENSHOTS / f"readable_{view}_{name.split('?')[0]}.png"))
        browser.close()
    assert not found, "\n".join(f"{where}: {problem}" for where, items in found.items() for problem in items[:30])
