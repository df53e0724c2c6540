"""The Time series page in Chromium: a visitor picks the series, the horizon, W and the models, drags the origin,
steps the LSTM through its window, and the page redraws with no exception; the options survive a page switch."""

from __future__ import annotations

import pytest

from benchmarks.browser import wait_for_idle
from rnndemo import forecast_serving

from .browser_sweep import exceptions, perform, settle
from .conftest import MODELS_DIR
from .test_browser import browser, server  # noqa: F401 - the same fixtures and Chromium check as test_browser

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


def test_the_options_survive_a_page_switch_and_the_url_carries_none_of_them(server, browser):  # noqa: F811
    """Options set on the page are there again after visiting another page (they are session options). The page
    does not write them to the URL (none of its keys is in ui.URL_OPTIONS), so a reload or a copied link opens
    the defaults: this test pins that, so that adding URL sync is a visible change."""
    co2 = forecast_serving.load_page_data(MODELS_DIR, "co2")
    other = next(width for width in co2.windows if width != co2.chosen_window)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/time_series")
    wait_for_idle(page, 120_000)
    settle(page)
    pick(page, "Window W", str(other))
    press_on_slider(page, "Forecast origin", "ArrowLeft", times=3)
    origin = slider_value(page, "Forecast origin")
    page.locator("[data-testid='stSidebarNav'] a", has_text="Inside the RNN").first.click()
    settle(page)
    page.locator("[data-testid='stSidebarNav'] a", has_text="Time series").first.click()
    settle(page)
    assert slider_value(page, "Forecast origin") == origin
    assert f"W = {other} is not the W chosen on validation" in page.locator(MAIN).inner_text()
    assert "ts_" not in page.url
    page.reload()
    wait_for_idle(page, 120_000)
    settle(page)
    assert slider_value(page, "Forecast origin") != origin
    assert "is not the W chosen on validation" not in page.locator(MAIN).inner_text()
    assert exceptions(page) == []
    page.close()
