"""The Time series page in Chromium: a visitor picks the series, the horizon, W and the models, drags the origin,
steps the LSTM through its window, and the page redraws with no exception; every option is in the link."""

from __future__ import annotations

import pytest

from benchmarks.browser import open_from_navigation, wait_for_idle
from rnndemo import forecast_serving

from .browser_sweep import exceptions, perform, settle
from .conftest import MODELS_DIR
from .test_browser import NAVIGATION_HEADINGS, browser, server  # noqa: F401 - the same fixtures and Chromium check as test_browser

pytestmark = pytest.mark.browser  # drives Chromium against a real server: left out of `make test-fast`
MAIN = "[data-testid='stMain'] "


def chart_titles(page) -> list[str]:
    return page.locator(MAIN + ".js-plotly-plot .gtitle").all_text_contents()  # SVG text has no innerText


def compact(text: str) -> str:
    """Text without whitespace: a long chart title wraps into SVG lines whose text runs together."""
    return "".join(text.split())


def title_starting(page, start: str) -> str:
    """The chart title that starts with `start`, without whitespace."""
    return next(compact(title) for title in chart_titles(page) if compact(title).startswith(compact(start)))


def legend_names(page) -> list[str]:
    return page.locator(MAIN + ".js-plotly-plot .legendtext").all_text_contents()


def slider_value(page, label: str) -> str:
    slider = page.locator(MAIN + "[data-testid='stSlider']", has_text=label)
    return slider.locator("[data-testid='stSliderThumbValue']").inner_text().strip()


def press_on_slider(page, label: str, key: str, times: int = 1) -> None:
    """Move a slider's thumb with the keyboard, as a visitor dragging it step by step would, one rerun per key."""
    thumb = page.locator(MAIN + "[data-testid='stSlider']", has_text=label).locator("input[type='range']")
    for _ in range(times):
        thumb.focus()  # visually hidden; the keyboard moves the thumb
        page.keyboard.press(key)
        settle(page)


def selectbox_index(page, label: str) -> int:
    boxes = page.locator(MAIN + "[data-testid='stSelectbox'] >> visible=true")
    labels = [boxes.nth(index).locator("label").inner_text() for index in range(boxes.count())]
    return next(index for index, text in enumerate(labels) if text.startswith(label))


def pick(page, label: str, option: str) -> None:
    perform(page, ("selectbox", selectbox_index(page, label), option), None)
    settle(page)


def remove_last_model(page) -> None:
    """Backspace in the models picker removes its last chip, as a visitor's keyboard does."""
    field = page.locator(MAIN + "[data-testid='stMultiSelect'] input").first
    field.focus()
    page.keyboard.press("Backspace")
    page.keyboard.press("Escape")
    settle(page)


def shown_models(page) -> str:
    return page.locator(MAIN + "[data-testid='stMultiSelectTagsContainer']").first.inner_text()


def test_a_visitor_uses_every_picker_drags_the_origin_and_steps_the_lstm(server, browser):  # noqa: F811
    """Series, horizon, W and models picked, the origin dragged a year on, the LSTM stepped back through its window:
    each redraws what it names (chart titles, the stepper's date), and no exception appears at any point."""
    co2, sunspots = (forecast_serving.load_page_data(MODELS_DIR, name) for name in ("co2", "sunspots"))
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/time_series")
    wait_for_idle(page, 120_000)
    settle(page)
    assert page.locator("h1").first.inner_text().startswith("Time series")
    assert exceptions(page) == []

    origin_before = slider_value(page, "Forecast origin")
    assert title_starting(page, "Forecasts from") == compact(f"Forecasts from {origin_before}")
    press_on_slider(page, "Forecast origin", "ArrowRight", times=13)  # 13 stops of 4 weeks: one year on
    origin_after = slider_value(page, "Forecast origin")
    assert origin_after > origin_before and title_starting(page, "Forecasts from") == compact(
        f"Forecasts from {origin_after}"
    )
    assert exceptions(page) == []

    pick(page, "Horizon h", "52")
    assert compact("made 52 weeks before it") in title_starting(page, "Test period")
    assert title_starting(page, "Occlusion").startswith(compact("Occlusion: the LSTM's forecast at h = 52"))

    other = next(width for width in co2.windows if width != co2.chosen_window)
    pick(page, "Window W", str(other))
    assert f"W = {other} is not the W chosen on validation" in page.locator(MAIN).inner_text()
    assert compact(f"(W = {other},") in title_starting(page, "LSTM hidden state")
    assert compact(f"step {other} marked") in title_starting(page, "LSTM hidden state")
    press_on_slider(page, "Step t of the window", "ArrowLeft", times=2)
    assert compact(f"step {other - 2} marked") in title_starting(page, "LSTM hidden state")
    assert f"Step {other - 2} reads" in page.locator(MAIN).inner_text()

    assert "Holt–Winters" in shown_models(page)
    remove_last_model(page)
    assert "Holt–Winters" not in shown_models(page) and "LSTM" in shown_models(page)
    assert not any(trace_name == "Holt–Winters" for trace_name in legend_names(page))
    assert exceptions(page) == []

    page.locator(MAIN + "[data-testid='stRadioOption']", has_text="sunspot").first.click()
    settle(page)
    assert "AR(p) by AIC" in shown_models(page)
    pick(page, "Horizon h", "11")
    assert compact("made 11 years before it") in title_starting(page, "Test period")
    pick(page, "Window W", str(sunspots.windows[0]))
    assert compact(f"(W = {sunspots.windows[0]},") in title_starting(page, "LSTM hidden state")
    assert exceptions(page) == []
    page.close()


def view(page) -> dict:
    """The options as the page shows them: each picker's value, and what the charts and sentences say they are."""
    main = page.locator(MAIN).inner_text()
    return {
        "series": page.locator(MAIN + "[data-testid='stRadio'] input:checked").first.evaluate(
            "input => input.closest('label').innerText"
        ),
        "horizon": title_starting(page, "Test period"),
        "window": next((line for line in main.splitlines() if "is not the W chosen" in line), "the chosen W"),
        "models": shown_models(page),
        "origin": slider_value(page, "Forecast origin"),
        "step": slider_value(page, "Step t of the window"),
        "stepper": title_starting(page, "LSTM hidden state"),
    }


def wait_for_query(page, *parts: str) -> None:
    """Wait until the address bar holds every `parts` (the browser writes a bound option's value after its rerun)."""
    page.wait_for_function(
        "parts => parts.every(part => window.location.search.includes(part))", arg=list(parts), timeout=30_000
    )


def test_the_options_are_in_the_link_reload_a_copied_link_and_back_keep_them(server, browser):  # noqa: F811
    """A visitor comes from the Tokens page and sets W, the origin, the models, the stepper's step and the horizon:
    each goes into the URL, replacing the page's history entry (docs/ARCHITECTURE.md: the page and the text are
    history entries, options are not), so Back returns to the Tokens page at once and Forward to every option as
    set; a page switch, a reload and the copied link opened in a new page all show the same options; and the series
    is in the link too."""
    co2 = forecast_serving.load_page_data(MODELS_DIR, "co2")
    other = next(width for width in co2.windows if width != co2.chosen_window)
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    page.goto(f"{server}/tokens")
    wait_for_idle(page, 120_000)
    page.locator("[data-testid='stSidebarNav'] a", has_text="Time series").first.click()
    page.wait_for_url("**/time_series", timeout=60_000)
    wait_for_idle(page, 120_000)
    settle(page)
    default = view(page)
    pick(page, "Window W", str(other))
    wait_for_query(page, f"ts_window_co2={other}")
    press_on_slider(page, "Forecast origin", "ArrowLeft", times=3)
    origin = slider_value(page, "Forecast origin")
    wait_for_query(page, f"ts_origin_co2={origin}")
    remove_last_model(page)
    wait_for_query(page, "ts_models_co2=")
    press_on_slider(page, "Step t of the window", "ArrowLeft", times=2)
    wait_for_query(page, f"ts_step_co2_{other}={other - 2}")
    pick(page, "Horizon h", "52")
    wait_for_query(page, "ts_horizon_co2=52")
    chosen = view(page)
    assert all(chosen[name] != default[name] for name in ("horizon", "window", "models", "origin", "step"))
    assert exceptions(page) == []

    page.go_back()  # past none of the nine option changes: to the page before
    page.wait_for_url("**/tokens", timeout=60_000)
    wait_for_idle(page, 120_000)
    assert page.locator("h1").first.inner_text() == "Text → tokens → indices"
    page.go_forward()
    page.wait_for_url("**/time_series?*", timeout=60_000)
    wait_for_idle(page, 120_000)
    settle(page)
    assert view(page) == chosen and "ts_horizon_co2=52" in page.url

    open_from_navigation(page, "Inside the RNN", NAVIGATION_HEADINGS)
    settle(page)
    open_from_navigation(page, "Time series", NAVIGATION_HEADINGS)
    settle(page)
    assert view(page) == chosen
    page.reload()
    wait_for_idle(page, 120_000)
    settle(page)
    assert view(page) == chosen

    page.locator("button[data-rnndemo='copy-link']").click()
    page.wait_for_selector("button[data-rnndemo='copy-link']:has-text('Link copied')", timeout=10_000)
    link = page.evaluate("() => navigator.clipboard.readText()")
    assert link.startswith(f"{server}/time_series?") and f"ts_window_co2={other}" in link
    fresh = context.new_page()
    fresh.goto(link)
    wait_for_idle(fresh, 120_000)
    settle(fresh)
    assert view(fresh) == chosen and exceptions(fresh) == []

    fresh.locator(MAIN + "[data-testid='stRadioOption']", has_text="sunspot").first.click()
    settle(fresh)
    wait_for_query(fresh, "ts_series=")
    sunspots = view(fresh)
    fresh.reload()
    wait_for_idle(fresh, 120_000)
    settle(fresh)
    assert view(fresh) == sunspots and "sunspot" in sunspots["series"].lower()
    assert exceptions(page) == [] and exceptions(fresh) == []
    context.close()
