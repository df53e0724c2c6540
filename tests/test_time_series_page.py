"""The Time series page under AppTest: the four steps, the verdict against Holt–Winters, the pickers and the origin."""

from __future__ import annotations

import json

from rnndemo import forecast_serving, forecasting

from .apptest_support import all_text, open_page
from .conftest import MODELS_DIR

PATH = "pages/time_series.py"


def chart_titles(app) -> list[str]:
    charts = [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]
    return [str(chart["layout"].get("title", {}).get("text", "")) for chart in charts]


def chart(app, title_start: str) -> dict:
    charts = [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]
    return next(chart for chart in charts if str(chart["layout"]["title"]["text"]).startswith(title_start))


def test_the_page_walks_the_four_steps_with_their_numbers():
    """A visitor sees the raw series with its 59 missing weeks, how they were filled, the scaler and the windows."""
    app = open_page(PATH)
    assert not app.exception, [error.value for error in app.exception]
    text = all_text(app)
    assert "59 weeks were not recorded" in text and "linear interpolation in time" in text
    scaler = forecast_serving.load_page_data(MODELS_DIR, "co2").prepared.scaler
    assert f"{scaler.mean:.3f} ppm" in text and f"{scaler.scale:.3f} ppm" in text
    titles = chart_titles(app)
    for start in ("1. The raw series", "2. The longest gap", "3. Scaled", "4. One window", "Test period", "Forecasts"):
        assert any(title.startswith(start) for title in titles), (start, titles)
    raw = chart(app, "1. The raw series")
    assert raw["layout"]["xaxis"]["title"]["text"] == "date" and raw["layout"]["yaxis"]["title"]["text"] == "ppm"
    assert any(trace["name"] == "missing week (59)" for trace in raw["data"])


def test_the_page_says_with_numbers_whether_the_networks_beat_holt_winters():
    """The verdict names the best recurrent model and both MASEs at every horizon, as the metrics file has them."""
    app = open_page(PATH)
    test = forecast_serving.load_page_data(MODELS_DIR, "co2").metrics["test"]
    beaten, sentences = forecast_serving.holt_winters_verdict(test, (1, 13, 52), "ppm")
    shown = " ".join(str(element.value) for element in (app.success if beaten else app.warning))
    for sentence in sentences:
        assert sentence in shown
    assert f"{test['holt_winters']['mase']['13']:.3f}" in shown


def test_switching_series_horizon_models_and_origin_redraws_the_forecasts():
    """Sunspots with AR(p), a 5-year horizon, one model, and the origin dragged to the end of the test period."""
    app = open_page(PATH)
    app.radio(key="ts_series").set_value("sunspots").run()
    assert not app.exception and "AR(p) by AIC" in app.multiselect(key="ts_models_sunspots").options
    app.selectbox(key="ts_horizon_sunspots").set_value("5").run()
    app.multiselect(key="ts_models_sunspots").set_value(["AR(p) by AIC"]).run()
    slider = app.select_slider(key="ts_origin_sunspots")
    slider.set_value(slider.options[-1]).run()
    assert not app.exception, [error.value for error in app.exception]
    data = forecast_serving.load_page_data(MODELS_DIR, "sunspots")
    last_origin = data.prepared.series.dates[data.test_origins[-1]].date()
    origin_chart = chart(app, "Forecasts from")
    assert origin_chart["layout"]["title"]["text"] == f"Forecasts from {last_origin}"
    assert [trace.get("name") for trace in origin_chart["data"] if trace.get("showlegend", True)] == [
        "truth (recorded)",
        "AR(p) by AIC",
    ]
    assert origin_chart["layout"]["yaxis"]["title"]["text"] == "sunspots"
    horizon_chart = chart(app, "Test period")
    assert "made 5 years before it" in horizon_chart["layout"]["title"]["text"]


def test_the_origin_slider_moves_every_model_s_forecast():
    """Dragging the origin a year on changes where each model's forecast starts."""
    app = open_page(PATH)
    app.select_slider(key="ts_origin_co2").set_value("1999-01-09").run()
    first = chart(app, "Forecasts from")
    app.select_slider(key="ts_origin_co2").set_value("2000-01-08").run()
    second = chart(app, "Forecasts from")
    assert first["layout"]["title"]["text"] == "Forecasts from 1999-01-09"
    assert second["layout"]["title"]["text"] == "Forecasts from 2000-01-08"
    lstm_first = next(trace for trace in first["data"] if trace.get("name") == "LSTM")
    lstm_second = next(trace for trace in second["data"] if trace.get("name") == "LSTM")
    assert lstm_first["x"][0] != lstm_second["x"][0]


def test_no_model_picked_gets_a_message():
    """Clearing the model picker says to pick one instead of drawing empty charts."""
    app = open_page(PATH)
    app.multiselect(key="ts_models_co2").set_value([]).run()
    assert not app.exception and "Pick at least one model" in all_text(app)
    assert forecasting.SERIES["co2"].unit == "ppm"


def test_sunspots_says_with_numbers_whether_the_networks_beat_ar_p():
    """On sunspots a second verdict sets the best recurrent model against AR(p) at every horizon, with the order p
    and both MASEs read from the metrics file; co2 has no AR(p) and no such verdict."""
    app = open_page(PATH)
    assert not any("AR(" in str(element.value) for element in [*app.success, *app.warning])
    app.radio(key="ts_series").set_value("sunspots").run()
    assert not app.exception, [error.value for error in app.exception]
    metrics = forecast_serving.load_page_data(MODELS_DIR, "sunspots").metrics
    order = max(metrics["baselines"]["ar"]["lags"])
    assert forecast_serving.ar_order(metrics) == order
    beaten, sentences = forecast_serving.baseline_verdict(metrics["test"], (1, 5, 11), "sunspots", "ar", f"AR({order})")
    boxes = [str(element.value) for element in (app.success if beaten else app.warning)]
    shown = next(box for box in boxes if f"beat AR({order}) at every horizon" in box)
    assert f"AIC chose p = {order} on training" in shown
    for sentence in sentences:
        assert sentence in shown
    for horizon in ("1", "5", "11"):
        assert f"AR({order}) has {metrics['test']['ar']['mase'][horizon]:.3f}" in shown


def test_the_baseline_verdict_follows_the_scores_it_is_given():
    """The sentence is computed: the same call on made-up scores names the best cell and says who wins."""
    scores = {
        "rnn": {"mase": {"1": 0.9, "5": 2.0}, "rmse": {"1": 9.0, "5": 20.0}},
        "lstm": {"mase": {"1": 0.5, "5": 1.5}, "rmse": {"1": 5.0, "5": 15.0}},
        "gru": {"mase": {"1": 0.7, "5": 1.4}, "rmse": {"1": 7.0, "5": 14.0}},
        "ar": {"mase": {"1": 0.6, "5": 1.2}, "rmse": {"1": 6.0, "5": 12.0}},
    }
    beaten, sentences = forecast_serving.baseline_verdict(scores, (1, 5), "sunspots", "ar", "AR(9)")
    assert not beaten
    assert sentences == [
        "h = 1: the best recurrent model, the LSTM, has MASE 0.500 (RMSE 5.000 sunspots); AR(9) has 0.600 "
        "(RMSE 6.000 sunspots): the network matches or beats it.",
        "h = 5: the best recurrent model, the GRU, has MASE 1.400 (RMSE 14.000 sunspots); AR(9) has 1.200 "
        "(RMSE 12.000 sunspots): AR(9) is better.",
    ]
    assert forecast_serving.baseline_verdict(scores, (1,), "sunspots", "ar")[1][0].endswith("beats it.")
    assert "AR(p) by AIC has 0.600" in forecast_serving.baseline_verdict(scores, (1,), "sunspots", "ar")[1][0]
