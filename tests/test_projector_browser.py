"""The Inside page's projector panel in Chromium: at 1280×720 in presenter mode, the stepper's controls, the word in
context, the unfolded graph, the running prediction and the gates fit on one screen, and stay there on Next; the
text coloured by one hidden unit shows below them. On a 390×844 phone the parts stack without overprinting."""

from __future__ import annotations

import pytest

from benchmarks.browser import wait_for_idle

from .test_browser import PROJECTOR, SCREENSHOTS, browser, exceptions_on, server  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.browser  # drives Chromium against a real server: left out of `make test-fast`
PHONE = {"width": 390, "height": 844}
PANEL = ".st-key-inside_step_panel"
PARTS = ("context", "unfolded", "prediction", "gates")  # what the room must see at once
BOXES = """(parts) => Object.fromEntries(parts.map((part) => {
    const element = document.querySelector('.st-key-inside_step_panel_' + part);
    const box = element.getBoundingClientRect();
    return [part, {top: box.top, bottom: box.bottom, left: box.left, right: box.right}];
}))"""
# Scroll the panel's top to just below Streamlit's fixed header (the navigation bar in presenter mode).
SCROLL_PANEL_TO_TOP = """() => {
    const header = document.querySelector("[data-testid='stHeader']").getBoundingClientRect().bottom;
    const panel = document.querySelector('.st-key-inside_step_panel').getBoundingClientRect().top;
    document.querySelector("[data-testid='stMain']").scrollBy(0, panel - header);
    return header;
}"""
# The panel's window of the text (the whole text is in a folded expander after it).
COLOURED_TOKENS = """() => [...document.querySelector("[data-rnndemo='unit-text']").querySelectorAll("span[title]")]
    .map((span) => [getComputedStyle(span).backgroundColor, span.getBoundingClientRect().height])"""


def open_panel(browser, viewport: dict, query: str, server_url: str):  # noqa: F811 - browser is the fixture's value
    page = browser.new_page(viewport=viewport)
    page.goto(f"{server_url}/inside?present=1&{query}")
    wait_for_idle(page, 120_000)
    page.wait_for_selector(PANEL, timeout=60_000)
    page.wait_for_timeout(800)  # let the charts lay out
    wait_for_idle(page)
    return page


def assert_on_one_screen(page, header: float) -> dict:
    boxes = page.evaluate(BOXES, list(PARTS))
    for part, box in boxes.items():
        assert box["top"] >= header - 1 and box["bottom"] <= PROJECTOR["height"], (part, box, header)
        assert box["bottom"] - box["top"] > 40 and box["right"] <= PROJECTOR["width"], (part, box)
    return boxes


def test_the_projector_panel_fits_one_1280x720_screen_and_stays_there_on_next(server, browser):  # noqa: F811
    """A lecturer on a projector scrolls the stepper to the top once: the controls, the word, the unfolded graph,
    the running prediction and the gates are all on the screen, Next changes them in place, and the text coloured by
    one unit starts below them."""
    page = open_panel(browser, PROJECTOR, "step=9", server)
    assert exceptions_on(page) == 0
    header = page.evaluate(SCROLL_PANEL_TO_TOP)
    page.wait_for_timeout(300)
    assert_on_one_screen(page, header)
    next_button = page.locator(PANEL + " button", has_text="Next")
    assert next_button.bounding_box()["y"] >= header - 1  # the control is on the same screen, not under the header
    assert "just" in page.locator(".st-key-inside_step_panel_context [data-rnndemo='current-token']").inner_text()
    coloured = page.evaluate(COLOURED_TOKENS)
    assert len(coloured) > 20 and all(height > 10 for _, height in coloured)
    assert len({color for color, _ in coloured}) > 5  # a unit's values, not one flat colour
    assert page.locator("[data-rnndemo='unit-legend']").is_visible()
    # The window's current token (the whole text, folded in an expander, has one too).
    assert page.locator(".st-key-inside_step_panel_unit_text [data-rnndemo='unit-current-token']").first.is_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "projector_panel_1280x720.png"))

    next_button.click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.st-key-inside_step_panel_unfolded .gtitle')]"
        ".some((title) => title.textContent.includes('token 10'))",
        timeout=60_000,
    )
    wait_for_idle(page)
    assert_on_one_screen(page, header)  # the fragment redrew in place: nothing moved off the screen
    assert page.locator(".st-key-inside_step_panel_context [data-rnndemo='current-token']").inner_text() == "as"
    assert exceptions_on(page) == 0
    page.close()


def test_next_brings_the_whole_panel_onto_a_1280x720_screen_from_anywhere_on_the_page(server, browser):  # noqa: F811
    """A lecturer who has not scrolled the panel to the top presses Next (reached by scrolling until it shows, or by
    the keyboard): the panel's top moves under the header, and the controls, the word, the verdicts so far, the
    unfolded graph, the running prediction and the gates are all on the screen (they started at ~900 px)."""
    page = open_panel(browser, PROJECTOR, "step=31", server)
    header = page.evaluate("() => document.querySelector(\"[data-testid='stHeader']\").getBoundingClientRect().bottom")
    next_button = page.locator(PANEL + " button", has_text="Next")
    next_button.scroll_into_view_if_needed()  # the button at the screen's bottom edge, the panel below the fold
    assert page.evaluate(BOXES, ["unfolded"])["unfolded"]["bottom"] > PROJECTOR["height"]
    next_button.click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.st-key-inside_step_panel_unfolded .gtitle')]"
        ".some((title) => title.textContent.includes('token 32'))",
        timeout=60_000,
    )
    wait_for_idle(page)
    page.wait_for_timeout(300)
    assert_on_one_screen(page, header)
    verdicts = page.locator(".st-key-inside_step_panel_context", has_text="If the review ended here").first
    box = verdicts.bounding_box()
    assert box["y"] + box["height"] <= PROJECTOR["height"]
    for name in ("SimpleRNN", "LSTM", "GRU"):
        assert name in verdicts.inner_text()
    # Every gate's bar is named (at 230 px Plotly left out every other name: "LSTM forget", "GRU update").
    gate_names = page.evaluate(
        "() => [...document.querySelectorAll('.st-key-inside_step_panel_gates .ytick text')].map((t) => t.textContent)"
    )
    assert sorted(gate_names) == ["GRU reset", "GRU update", "LSTM forget", "LSTM input", "LSTM output"], gate_names
    page.screenshot(path=str(SCREENSHOTS / "projector_panel_after_next_1280x720.png"))
    assert exceptions_on(page) == 0
    page.close()


def test_on_a_phone_the_panel_stacks_without_overprinting(server, browser):  # noqa: F811
    """On a 390×844 phone the panel's parts come one under another, each inside the screen's width, none on
    another; the coloured text wraps inside the screen."""
    page = open_panel(browser, PHONE, "step=9", server)
    boxes = page.evaluate(BOXES, [*PARTS, "unit_text"])
    ordered = sorted(boxes.items(), key=lambda item: item[1]["top"])
    for (part, box), (next_part, next_box) in zip(ordered, ordered[1:]):
        assert box["bottom"] <= next_box["top"] + 1, (part, next_part, box, next_box)
    for part, box in boxes.items():
        assert box["left"] >= 0 and box["right"] <= PHONE["width"], (part, box)
    spans = page.evaluate(
        "() => [...document.querySelectorAll(\"[data-rnndemo='unit-text'] span\")]"
        ".map((span) => span.getBoundingClientRect().right)"
    )
    assert spans and max(spans) <= PHONE["width"]
    page.screenshot(path=str(SCREENSHOTS / "projector_panel_390x844.png"), full_page=False)
    assert exceptions_on(page) == 0
    page.close()
