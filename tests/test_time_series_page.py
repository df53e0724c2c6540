"""The Time series page under AppTest: the four steps, the verdict against Holt–Winters, the pickers and the origin."""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd
import pytest

from rnndemo import forecast_serving, forecasting, ui

from .apptest_support import all_text, open_page
from .conftest import MODELS_DIR

PATH = "pages/time_series.py"


def title_of(chart: dict) -> str:
    """A chart's title as read: the line breaks the plots add to fit a phone read as spaces."""
    return str(chart["layout"].get("title", {}).get("text", "")).replace("<br>", " ")


def chart_titles(app) -> list[str]:
    return [title_of(json.loads(chart.proto.spec)) for chart in app.get("plotly_chart")]


def chart(app, title_start: str) -> dict:
    charts = [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]
    return next(chart for chart in charts if title_of(chart).startswith(title_start))


def dataframe_with(app, column: str):
    """The first table on the page that has `column`."""
    return next(frame.value for frame in app.dataframe if column in frame.value.columns)


def values(array) -> list:
    """A Plotly array as drawn: a list, or numpy's bytes that Plotly sends as {"dtype", "bdata"}."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


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
    beaten, sentences = forecast_serving.baseline_verdict(test, (1, 13, 52), "ppm", "holt_winters")
    shown = " ".join(str(element.value) for element in (app.success if beaten else app.warning))
    for sentence in sentences:
        assert sentence in shown
    assert f"{test['holt_winters']['mase']['13']:.3f}" in shown


@pytest.mark.slow
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
    assert title_of(origin_chart) == f"Forecasts from {last_origin}"
    assert [trace.get("name") for trace in origin_chart["data"] if trace.get("showlegend", True)] == [
        "truth (recorded)",
        "AR(p) by AIC",
    ]
    assert origin_chart["layout"]["yaxis"]["title"]["text"] == "sunspots"
    horizon_chart = chart(app, "Test period")
    assert "made 5 years before it" in title_of(horizon_chart)


def test_the_origin_slider_moves_every_model_s_forecast():
    """Dragging the origin a year on changes where each model's forecast starts."""
    app = open_page(PATH)
    app.select_slider(key="ts_origin_co2").set_value("1999-01-09").run()
    first = chart(app, "Forecasts from")
    app.select_slider(key="ts_origin_co2").set_value("2000-01-08").run()
    second = chart(app, "Forecasts from")
    assert title_of(first) == "Forecasts from 1999-01-09"
    assert title_of(second) == "Forecasts from 2000-01-08"
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
    shown = next(box for box in boxes if f"AR({order}) at every horizon" in box)
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


@pytest.mark.slow
def test_the_window_picker_offers_every_trained_w_and_switches_the_networks():
    """W defaults to the W chosen on validation; picking the other W redraws the networks' forecasts and scores
    with that W's, says it was not the validation choice, and leaves the baselines as they were."""
    app = open_page(PATH)
    data = forecast_serving.load_page_data(MODELS_DIR, "co2")
    picker = app.selectbox(key="ts_window_co2")
    assert list(picker.options) == [str(width) for width in data.windows]  # plain numbers: what a link holds
    assert f"{data.chosen_window} chosen on validation" in picker.label
    assert picker.value == data.chosen_window and "the W chosen on validation" in all_text(app)
    other = next(width for width in data.windows if width != data.chosen_window)
    before = chart(app, "Test period")
    picker.set_value(other).run()
    assert not app.exception, [error.value for error in app.exception]
    assert f"W = {other} is not the W chosen on validation ({data.chosen_window})" in all_text(app)
    after = chart(app, "Test period")
    lines = {
        name: [trace for trace in figure["data"] if trace.get("name") == name][0]["y"]
        for name, figure in (("LSTM", before), ("Holt–Winters", before))
    }
    lstm_after = next(trace for trace in after["data"] if trace.get("name") == "LSTM")["y"]
    holt_after = next(trace for trace in after["data"] if trace.get("name") == "Holt–Winters")["y"]
    assert lstm_after != lines["LSTM"] and holt_after == lines["Holt–Winters"]
    forecasts, _, scores = data.at_window(other)
    table = dataframe_with(app, "MASE h=13")
    lstm_row = table[table["model"].str.startswith("LSTM")].iloc[0]
    assert f"W = {other}" in lstm_row["model"] and lstm_row["MASE h=13"] == scores["lstm"]["mase"]["13"]
    assert "4. One window" in " ".join(chart_titles(app))
    assert app.slider(key=f"ts_step_co2_{other}").max == other


def test_the_lstm_stepper_walks_the_window_with_its_numbers():
    """Stepping back through the window fills in the LSTM's equation for that week, with the units that moved most,
    and the heatmap marks that step; every h_t shown is the state the layer computed."""
    from rnndemo import forecast_inspect, stepper

    app = open_page(PATH)
    data = forecast_serving.load_page_data(MODELS_DIR, "co2")
    window = data.chosen_window
    slider = app.slider(key=f"ts_step_co2_{window}")
    assert slider.value == window
    slider.set_value(10).run()
    assert not app.exception, [error.value for error in app.exception]
    origin_slider = app.select_slider(key="ts_origin_co2")
    origin = int(data.slider_origins[list(origin_slider.options).index(origin_slider.value)])
    series = data.prepared.series
    date = series.dates[origin - window + 10].date()
    assert f"Step 10 reads {date}" in all_text(app) and stepper.EQUATIONS["LSTM"] in all_text(app)
    states = forecast_inspect.trace_window(data.lstm[window], data.prepared.scaled, origin)
    table = dataframe_with(app, stepper.STATE)
    assert list(table.columns) == ["unit", *stepper.LSTM_COLUMNS]
    for _, row in table.iterrows():
        assert row[stepper.STATE] == pytest.approx(states.hidden[0, 9, int(row["unit"])], abs=1e-9)
    heatmap = chart(app, "LSTM hidden state h across the window")
    assert "step 10 marked" in title_of(heatmap)
    # The step's column: on the category axis of steps a shape's x is the column's index, from 0.
    assert heatmap["layout"]["xaxis"]["type"] == "category"
    # Its axis counts steps of a series, each named by its date: not "token", as on the Inside page.
    assert heatmap["layout"]["xaxis"]["title"]["text"] == "step and date"
    assert heatmap["layout"]["xaxis"]["labelalias"]["10"] == f"10 {date}"
    cells = next(trace for trace in heatmap["data"] if trace["type"] == "heatmap")
    assert cells["hovertemplate"].startswith("step and date <b>") and "token" not in cells["hovertemplate"]
    assert [shape["x0"] for shape in heatmap["layout"]["shapes"]] == [9]
    marked = next(trace for trace in heatmap["data"] if trace["type"] == "scatter")
    assert sorted(values(marked["y"])) == sorted(int(unit) for unit in table["unit"])  # the equation's units


def test_a_server_whose_visitors_open_only_this_page_keeps_keras_between_reruns(monkeypatch):
    """Streamlit's keras.backend.clear_session() after every run (a full gc.collect()) is neutralised by the app's
    frame, not only by the pages that load the classifiers: this page alone loads none of them."""
    import keras
    from keras.src.backend.common import global_state

    from rnndemo.ui import compat

    monkeypatch.setattr(keras.backend, "clear_session", global_state.clear_session)  # as in a fresh server
    app = open_page(PATH)
    assert not app.exception, [error.value for error in app.exception]
    assert keras.backend.clear_session is compat._ignore_clear_session


SHARED_CHARTS = ("4. One window", "Test period", "Forecasts from", "LSTM hidden state", "Occlusion")


@pytest.mark.slow
def test_visitors_at_the_same_view_share_its_charts_and_presenter_mode_changes_no_one_else_s(monkeypatch):
    """A second visitor at the same series, W, horizon, origin and step gets the forecast charts the first one's run
    built (no figure is built again); a presenter gets them in larger type, and the first visitor's charts stay as
    they were: a shared figure is never changed."""
    from rnndemo import forecast_plots, step_plots

    first = open_page(PATH)
    before = {title: chart(first, title) for title in SHARED_CHARTS}
    built = []
    for module, name in (
        (forecast_plots, "window_figure"),
        (forecast_plots, "horizon_forecasts"),
        (forecast_plots, "forecasts_from_origin"),
        (forecast_plots, "occlusion_bars"),
        (step_plots, "state_window"),
    ):
        monkeypatch.setattr(module, name, lambda *args, _name=name, **kwargs: built.append(_name))
    second = open_page(PATH)
    assert not second.exception, [error.value for error in second.exception]
    assert built == [] and {title: chart(second, title) for title in SHARED_CHARTS} == before
    monkeypatch.undo()
    presenter = open_page(PATH, query={"present": "1"})
    assert not presenter.exception, [error.value for error in presenter.exception]
    for title in SHARED_CHARTS:
        assert chart(presenter, title)["layout"]["legend"]["font"]["size"] == 18
        assert before[title]["layout"]["legend"]["font"]["size"] == 14
    first.run()
    assert {title: chart(first, title) for title in SHARED_CHARTS} == before


@pytest.mark.slow
def test_occlusion_shows_which_past_weeks_the_forecast_depends_on():
    """The occlusion chart has a bar per week of the window, dated, in ppm, the precomputed numbers for this origin
    and horizon, and the sentence names the weeks with the largest effects."""
    app = open_page(PATH)
    app.selectbox(key="ts_horizon_co2").set_value("52").run()
    app.select_slider(key="ts_origin_co2").set_value("2000-01-08").run()
    assert not app.exception, [error.value for error in app.exception]
    data = forecast_serving.load_page_data(MODELS_DIR, "co2")
    window = data.chosen_window
    series = data.prepared.series
    origin = int(np.flatnonzero(series.dates == pd.Timestamp("2000-01-08"))[0])
    row = int(np.flatnonzero(data.slider_origins == origin)[0])
    effects = data.occlusion[window][row, 2]
    figure = chart(app, "Occlusion: the LSTM's forecast at h = 52 from 2000-01-08")
    assert figure["layout"]["yaxis"]["title"]["text"] == "Δ forecast (ppm)"  # short; the text above says what Δ is
    assert "Δ = the forecast − the forecast with that value replaced" in all_text(app)
    drawn = {x[:10]: y for trace in figure["data"] for x, y in zip(trace["x"], values(trace["y"]))}
    assert len(drawn) == window
    first = str(series.dates[origin - window + 1].date())
    assert drawn[first] == pytest.approx(effects[0])
    largest = int(np.argmax(np.abs(effects)))
    assert f"{series.dates[origin - window + 1 + largest].date()} ({effects[largest]:+.3f} ppm)" in all_text(app)


# Issue 23: every option of the page is in the link, each in its own parameter named by its widget's key.
SUNSPOTS_LINK = {
    "ts_series": "sunspots",
    "ts_horizon_sunspots": "11",
    "ts_window_sunspots": "22",
    "ts_models_sunspots": "lstm,ar",
    "ts_origin_sunspots": "1985-01-01",
    "ts_step_sunspots_22": "5",
}
OPTION_KINDS = ("radio", "selectbox", "multiselect", "select_slider", "slider")


def option_values(app) -> dict:
    return {widget.key: widget.value for kind in OPTION_KINDS for widget in app.get(kind)}


def link_messages(app) -> list[str]:
    return [str(element.value) for element in app.warning if str(element.value).startswith("This link")]


def test_a_link_sets_every_option_of_the_page():
    """A visitor opens a shared link to sunspots with h = 11, W = 22, two models, an origin and a stepper step: the
    page shows exactly those, draws what they name, and keeps them in the URL."""
    app = open_page(PATH, query=SUNSPOTS_LINK)
    assert not app.exception, [error.value for error in app.exception]
    assert app.radio(key="ts_series").value == "sunspots"
    assert app.selectbox(key="ts_horizon_sunspots").value == "11"
    assert app.selectbox(key="ts_window_sunspots").value == 22
    assert app.multiselect(key="ts_models_sunspots").value == ["LSTM", "AR(p) by AIC"]
    assert app.select_slider(key="ts_origin_sunspots").value == "1985-01-01"
    assert app.slider(key="ts_step_sunspots_22").value == 5
    assert title_of(chart(app, "Forecasts from")) == "Forecasts from 1985-01-01"
    assert "made 11 years before it" in title_of(chart(app, "Test period"))
    assert "Step 5 reads" in all_text(app)
    assert "step 5 marked" in title_of(chart(app, "LSTM hidden state"))
    assert link_messages(app) == []
    assert {key: app.query_params[key] for key in SUNSPOTS_LINK} == SUNSPOTS_LINK


@pytest.mark.slow
def test_each_option_a_visitor_changes_goes_into_the_url_and_a_default_leaves_it():
    """Every option, for both series and every W, is written into its own parameter as the visitor changes it; the
    link that results opens a new session on the same options; and an option set back to its default leaves the URL."""
    app = open_page(PATH)
    assert not any(key.startswith("ts_") for key in app.query_params)  # the defaults: a bare link
    changes = [
        ("radio", "ts_series", "sunspots", "sunspots"),
        ("selectbox", "ts_horizon_sunspots", "1", "1"),
        ("selectbox", "ts_window_sunspots", 22, "22"),
        ("multiselect", "ts_models_sunspots", ["Seasonal naive", "GRU"], "gru,seasonal_naive"),
        ("select_slider", "ts_origin_sunspots", "1960-01-01", "1960-01-01"),
        ("slider", "ts_step_sunspots_22", 17, "17"),
        ("radio", "ts_series", "co2", None),  # back to the default series; the sunspots options stay in the link
        ("selectbox", "ts_window_co2", 26, "26"),
        ("slider", "ts_step_co2_26", 3, "3"),
        ("selectbox", "ts_horizon_co2", "52", "52"),
        ("select_slider", "ts_origin_co2", "2000-01-08", "2000-01-08"),
        ("multiselect", "ts_models_co2", [], ""),
    ]
    for kind, key, value, in_url in changes:
        getattr(app, kind)(key=key).set_value(value).run()
        assert not app.exception, (key, [error.value for error in app.exception])
        assert app.query_params.get(key) == in_url, (key, dict(app.query_params))
    assert {key for kind, key, *_ in changes} == set(ui.PAGE_OPTIONS["time_series"]) - {
        "ts_step_co2_52",
        "ts_step_sunspots_11",
    }
    link = {key: value for key, value in app.query_params.items() if key.startswith("ts_")}
    recipient = open_page(PATH, query=link)
    assert not recipient.exception and link_messages(recipient) == []
    assert option_values(recipient) == option_values(app) and "Pick at least one model" in all_text(recipient)
    app.selectbox(key="ts_horizon_co2").set_value("13").run()  # the default again
    assert "ts_horizon_co2" not in app.query_params
    app.slider(key="ts_step_co2_26").set_value(26).run()
    assert "ts_step_co2_26" not in app.query_params
    hint = ui.link_keeps("time_series")
    assert hint in all_text(app) and all(name in hint for name in ("the series", "the window W", "stepper's step"))


BAD_LINKS = [
    # (parameter, value, what the message calls the option)
    ("ts_series", "Atmospheric CO₂", "the series"),
    ("ts_horizon_co2", "7", "the horizon h"),
    ("ts_horizon_co2", "", "the horizon h"),
    ("ts_window_co2", "26 (chosen on validation)", "the window W"),
    ("ts_models_co2", "[click me](javascript:alert(1))", "the models shown"),
    ("ts_origin_co2", "1900-01-01", "the forecast origin"),
    ("ts_step_co2_52", "abc", "the stepper's step"),
    ("ts_step_co2_52", "53", "the stepper's step"),
    ("ts_step_co2_52", "0", "the stepper's step"),
    ("ts_step_co2_52", "3.5", "the stepper's step"),
    ("ts_step_co2_52", "9" * 400, "the stepper's step"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("parameter", "value", "name"), BAD_LINKS)
def test_a_bad_value_in_the_link_gets_a_message_and_the_default(parameter, value, name):
    """A link whose value the page cannot show: no crash, one sentence that names the option, shows the value as typed
    (never as Markdown) and says the page shows the default; every option is at its default; the URL drops it."""
    defaults = option_values(open_page(PATH))
    app = open_page(PATH, query={parameter: value})
    assert not app.exception, [error.value for error in app.exception]
    messages = link_messages(app)
    assert len(messages) == 1 and name in messages[0] and "the default" in messages[0], messages
    assert (f"` {value[:60]}" in messages[0]) if value else ("to nothing" in messages[0])
    assert option_values(app) == defaults
    assert parameter not in app.query_params


def test_a_link_keeps_the_models_it_names_and_says_which_it_left_out():
    app = open_page(PATH, query={"ts_models_co2": "lstm,cnn,holt_winters"})
    assert app.multiselect(key="ts_models_co2").value == ["LSTM", "Holt–Winters"]
    assert link_messages(app) == [
        "This link lists ` cnn ` in the models shown, which this page does not offer "
        "(it offers rnn, lstm, gru, seasonal_naive, holt_winters), so they are left out."
    ]
    assert app.query_params["ts_models_co2"] == "lstm,holt_winters"


@pytest.mark.slow
def test_a_link_with_a_hostile_value_in_every_option_never_crashes():
    """Markdown, script tags, control characters, 20,000 characters: each option gets one message and shows its
    default, and the values are shown as typed (at most 60 characters of each)."""
    from .hostile_inputs import HOSTILE_INPUTS

    defaults = option_values(open_page(PATH))
    parameters = ["ts_series", "ts_horizon_co2", "ts_window_co2", "ts_models_co2", "ts_origin_co2", "ts_step_co2_52"]
    # Streamlit ignores a whole query string over 524,288 characters (it logs so): the 2 MB input would test that.
    names = [name for name, value in HOSTILE_INPUTS.items() if len(value) < 100_000]
    for start in range(0, len(names), len(parameters)):
        chosen = dict(zip(parameters, (HOSTILE_INPUTS[name] for name in names[start:]), strict=False))
        chosen = {key: value for key, value in chosen.items() if value.strip(" \t\n\r,")}
        app = open_page(PATH, query=chosen)
        assert not app.exception, (chosen, [error.value for error in app.exception])
        messages = link_messages(app)
        assert len(messages) == len(chosen), (chosen, messages)
        assert all(len(message) < 400 for message in messages)
        assert option_values(app) == defaults
        assert not set(chosen) & set(app.query_params)


@pytest.mark.slow
def test_back_and_forward_restore_the_options_of_that_history_entry(monkeypatch):
    """Back to the URL before a change restores the option it had (the default when that entry had no parameter), and
    Forward brings the change back; AppTest marks the run as the browser's Back or Forward, as Streamlit does."""
    import functools

    from streamlit.commands import execution_control
    from streamlit.runtime.scriptrunner import RerunData
    from streamlit.testing.v1 import local_script_runner

    def history_run(app):
        """One run that the browser's Back or Forward started. AppTest resets Streamlit's pages-folder flag before
        every run, so each page run passes once through ui.leave_legacy_router's st.rerun(); that rerun is part of
        the same navigation and keeps the mark (in a browser there is no such rerun after the server's first)."""
        history = functools.partial(RerunData, is_history_navigation=True)
        with monkeypatch.context() as patch:
            patch.setattr(local_script_runner, "RerunData", history)
            patch.setattr(execution_control, "RerunData", history)
            app.run()
        assert not app.exception, [error.value for error in app.exception]

    app = open_page(PATH)
    app.slider(key="ts_step_co2_52").set_value(40).run()
    app.selectbox(key="ts_horizon_co2").set_value("52").run()
    assert app.query_params["ts_horizon_co2"] == "52" and app.query_params["ts_step_co2_52"] == "40"
    del app.query_params["ts_horizon_co2"]  # Back: the entry before the horizon was set
    history_run(app)
    assert app.selectbox(key="ts_horizon_co2").value == "13" and app.slider(key="ts_step_co2_52").value == 40
    assert "made 13 weeks before it" in title_of(chart(app, "Test period"))
    app.query_params["ts_horizon_co2"] = "52"  # Forward again
    history_run(app)
    assert app.selectbox(key="ts_horizon_co2").value == "52"
    assert "made 52 weeks before it" in title_of(chart(app, "Test period"))
    del app.query_params["ts_step_co2_52"]  # a page switch drops the parameters: the options stay, and are written
    app.run()
    assert app.slider(key="ts_step_co2_52").value == 40 and app.query_params["ts_step_co2_52"] == "40"
