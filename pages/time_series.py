"""Time series: the same recurrent layers forecast a real series, against the baselines forecasters use."""

import numpy as np
import pandas as pd
import streamlit as st

from rnndemo import forecast_inspect, forecast_plots, forecast_serving, forecasting, links, step_plots, stepper, ui
from rnndemo.forecast_models import DISPLAY_NAMES, forecaster_names
from rnndemo.registry import RECURRENT_NAMES

ui.leave_legacy_router()


# Every option of the page is in the link, each in its own query parameter named by its widget's key (issue 23). The
# page writes them itself (rnndemo.links says why not Streamlit's binding): before a widget is drawn, a value this
# session did not write (a shared link, a reload, Back or Forward) sets it; after, its value is written back.


def quoted(value: str) -> str:
    """A value from the URL in a message: as typed, never parsed as Markdown, cut to 60 characters."""
    return ui.literal(value, 60)


def from_link(key: str, option: links.Option, to_widget=lambda value: value) -> None:
    """Before the widget `key` is drawn: set it from a ?key= this session did not write; say what could not be shown."""
    linked, value = ui.url_parameter_to_adopt(key)
    if linked:
        chosen, problem = option.read(value, quote=quoted)
        st.session_state[key] = to_widget(chosen)
        if problem:
            st.warning(problem, icon=":material/link_off:")


def to_link(key: str, option: links.Option, value) -> None:
    """After the widget `key` is drawn: its value into ?key= (nothing for the default)."""
    ui.write_url_parameter(key, option.write(value))


def pickers(*, key: str) -> str:
    """The series (the link holds its name: co2 or sunspots)."""
    option = links.Choice("the series", forecasting.SERIES_NAMES, forecasting.SERIES_NAMES[0])
    from_link(f"{key}_series", option)
    chosen = st.radio(
        "Series",
        forecasting.SERIES_NAMES,
        format_func=lambda name: forecasting.SERIES[name].title,
        horizontal=True,
        **ui.option(f"{key}_series"),
    )
    to_link(f"{key}_series", option, chosen)
    return chosen


def model_pickers(*, config: forecasting.SeriesConfig, chosen_window: int, key: str) -> tuple[int, int, list[str]]:
    """The horizon h, the window W and the models shown (each series keeps its own). The link holds the horizon and W
    as numbers, and the models by their short names (rnn,lstm,holt_winters)."""
    horizon_key, window_key, models_key = (f"{key}_{name}_{config.name}" for name in ("horizon", "window", "models"))
    horizons = tuple(str(horizon) for horizon in config.horizons)
    names = forecaster_names(config.name)
    horizon_option = links.Choice("the horizon h", horizons, horizons[1])
    window_option = links.Choice("the window W", tuple(map(str, config.windows)), str(chosen_window))
    models_option = links.Choices(
        "the models shown", tuple(names), tuple(name for name in names if name != "seasonal_naive")
    )
    from_link(horizon_key, horizon_option)
    from_link(window_key, window_option, int)
    from_link(models_key, models_option, lambda chosen: [DISPLAY_NAMES[name] for name in chosen])
    horizon_column, window_column, models_column = st.columns([1, 1, 3])
    horizon = horizon_column.selectbox(f"Horizon h ({config.step}s ahead)", horizons, index=1, **ui.option(horizon_key))
    window = window_column.selectbox(
        f"Window W ({config.step}s read; {chosen_window} chosen on validation)",
        config.windows,
        index=config.windows.index(chosen_window),
        **ui.option(window_key),
    )
    picked = models_column.multiselect(
        "Models shown",
        [DISPLAY_NAMES[name] for name in names],  # the picker holds the names visitors read
        default=[DISPLAY_NAMES[name] for name in models_option.default],
        **ui.option(models_key),
    )
    shown = [name for name in names if DISPLAY_NAMES[name] in picked]
    to_link(horizon_key, horizon_option, horizon)
    to_link(window_key, window_option, str(window))
    to_link(models_key, models_option, shown)
    return int(horizon), int(window), shown


def raw_step(*, data: forecast_serving.PageData) -> dict[str, int]:
    """Step 1: the raw series with its missing steps marked."""
    series, split = data.prepared.series, data.prepared.split
    config = series.config
    missing = int((~series.recorded).sum())
    st.subheader("1. The raw series")
    st.write(
        f"{series.length:,} {config.step}s from {series.dates[0].date()} to {series.dates[-1].date()}, in "
        f"{config.unit}; **{missing} {config.step}s were not recorded** (marked ✕). Split by time: training until "
        f"{series.dates[split.validation_start - 1].date()} ({split.validation_start:,} {config.step}s), validation "
        f"from {series.dates[split.validation_start].date()} ({config.validation_steps} {config.step}s: every choice "
        f"is made here), test from {series.dates[split.test_start].date()} ({config.test_steps} {config.step}s, "
        "scored once at the end)."
    )
    starts = {"validation": split.validation_start, "test": split.test_start}
    ui.shared_chart(  # depends on the series alone (statsmodels' data, the split): built once per server
        lambda: forecast_plots.raw_series(series.dates, series.raw, series.values, starts, config.unit, config.step),
        cache_key=("ts_raw_chart", config.name),
        key="ts_raw_chart",
    )
    return starts


def cleaned_step(*, data: forecast_serving.PageData) -> None:
    """Step 2: the gaps filled, and how."""
    series = data.prepared.series
    config = series.config
    st.subheader("2. The cleaned series")
    start, length = forecasting.longest_gap(series.recorded)
    if not length:
        st.write(f"Every {config.step} was recorded: nothing to fill.")
        return
    st.write(
        f"Each gap is filled by **linear interpolation in time** between the recorded {config.step}s on either side "
        "(pandas `interpolate(method='time')`). A filled value is used as an input of a window, never as truth: "
        f"no metric scores it. The longest gap: {length} {config.step}s from {series.dates[start].date()}. "
        f"The last gap ends in {series.dates[np.flatnonzero(~series.recorded)[-1]].year}, before validation starts."
    )
    ui.shared_chart(
        lambda: forecast_plots.gap_detail(
            series.dates, series.raw, series.values, start + length // 2, length + 20, config.unit
        ),
        cache_key=("ts_gap_chart", config.name),
        key="ts_gap_chart",
    )


def scaling_step(*, data: forecast_serving.PageData) -> None:
    """Step 3: the scaler, fitted on the training part only, and where each part falls."""
    prepared = data.prepared
    series, split, scaler = prepared.series, prepared.split, prepared.scaler
    unit = series.config.unit
    st.subheader("3. Scaling, fitted on the training part only")
    st.write(
        f"z = (value − {scaler.mean:.3f} {unit}) / {scaler.scale:.3f} {unit}: the mean and standard deviation of "
        "the training part. Validation and test values are scaled with these numbers; they never enter them."
    )
    rows = []
    for part in ("train", "validation", "test"):
        start, stop = split.part(part)
        values = series.values[start:stop]
        rows.append(
            {
                "part": part,
                "from": str(series.dates[start].date()),
                "to": str(series.dates[stop - 1].date()),
                f"min ({unit})": round(float(values.min()), 2),
                f"max ({unit})": round(float(values.max()), 2),
                "min z": round(float(scaler.transform(values.min())), 3),
                "max z": round(float(scaler.transform(values.max())), 3),
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="ts_scaling_table")
    ui.shared_chart(  # the scaler is fitted on the series' training part: the same for every visitor
        lambda: forecast_plots.scaled_series(
            series.dates, prepared.scaled, {"validation": split.validation_start, "test": split.test_start}
        ),
        cache_key=("ts_scaled_chart", series.config.name),
        key="ts_scaled_chart",
    )
    st.caption(
        "Where the test values lie beyond the training maximum, a network that read raw levels would extrapolate. "
        "So each window is read relative to its last value, and the network predicts the change from it."
    )


def windows_step(*, data: forecast_serving.PageData, origin: int, horizon: int, window: int) -> None:
    """Step 4: windows of the last W values, and the values to predict."""
    prepared = data.prepared
    series, config = prepared.series, prepared.series.config
    training_windows = prepared.split.validation_start - config.max_window - config.max_horizon + 1
    st.subheader("4. Windows: the last W values and what to predict")
    st.write(
        f"W = {window} {config.step}s in, up to H = {config.max_horizon} {config.step}s out. The training part gives "
        f"{training_windows:,} windows whose targets all lie in training: inputs ({training_windows:,}, {window}, 1), "
        f"targets ({training_windows:,}, {config.max_horizon}) for the direct forecasters, or "
        f"({training_windows:,}, 1) for the recursive ones, which feed their forecast back h times. "
        "This is the time-series twin of words → indices → padded sequence. Every W is taught on the same "
        f"targets (the windows with {config.max_window} {config.step}s before them), so the W values differ only in "
        "how far back the networks read."
    )
    ui.shared_chart(  # like every chart below, it depends only on the options in its cache key: shared by the class
        lambda: forecast_plots.window_figure(series.dates, series.values, origin, window, horizon, config.unit),
        cache_key=("ts_window_chart", config.name, origin, window, horizon),
        key="ts_window_chart",
    )
    positions = np.arange(origin - window + 1, min(series.length, origin + horizon + 1))
    scaled = prepared.scaled
    table = pd.DataFrame(
        {
            "date": [str(date.date()) for date in series.dates[positions]],
            "role": ["input"] * window + ["to predict"] * (len(positions) - window),
            f"value ({config.unit})": np.round(series.values[positions], 3),
            "z": np.round(scaled[positions], 4),
            "z − last input": np.round(scaled[positions] - scaled[origin], 4),
            "recorded": series.recorded[positions],
        }
    )
    st.dataframe(table, hide_index=True, height=240, key="ts_window_table")


def origin_picker(*, data: forecast_serving.PageData, key: str) -> int:
    """The forecast origin (the last value seen), dragged through the test period: every 4th week, or every year."""
    series = data.prepared.series
    dates = series.dates[data.test_origins]
    options = [str(date.date()) for date in series.dates[data.slider_origins]]
    origin_key = f"{key}_origin_{series.config.name}"
    option = links.Choice("the forecast origin", tuple(options), options[len(options) // 2])
    from_link(origin_key, option)
    chosen = st.select_slider(
        "Forecast origin (the last value the models see; its forecasts land in the test period)",
        options,
        value=option.default,
        **ui.option(origin_key),
    )
    to_link(origin_key, option, chosen)
    return max(0, int(np.searchsorted(dates, pd.Timestamp(chosen), side="right") - 1))


def verdict(*, data: forecast_serving.PageData, window: int) -> None:
    """Whether the best recurrent forecaster reading `window` values beats Holt–Winters on the test period, and, for
    sunspots, the AR(p) model, in numbers computed from the metrics file."""
    config = data.prepared.series.config
    _, _, scores = data.at_window(window)
    if window == data.chosen_window:
        st.write(f"The networks read W = {window} {config.step}s, the W chosen on validation.")
    else:
        st.warning(
            f"W = {window} is not the W chosen on validation ({data.chosen_window}). Its test scores are shown to "
            "compare; picking the W with the better test score would be choosing on the test period."
        )
    references = [("holt_winters", "Holt–Winters", "")]
    if "ar" in data.metrics["test"]:
        order = forecast_serving.ar_order(data.metrics)
        note = (
            f" AR({order}) is an autoregression on the last {order} {config.step}s; AIC chose p = {order} on training."
        )
        references.append(("ar", f"AR({order})", note))
    for baseline, label, note in references:
        beaten, sentences = forecast_serving.baseline_verdict(scores, config.horizons, config.unit, baseline, label)
        headline = (
            f"On the test period the best recurrent model matches or beats {label} at every horizon."
            if beaten
            else f"On the test period the recurrent models do **not** beat {label} at every horizon."
        )
        (st.success if beaten else st.warning)(headline + note + "\n\n" + "\n".join(f"- {line}" for line in sentences))


def metrics_table(*, data: forecast_serving.PageData, shown: list[str], window: int) -> None:
    """Test MASE, RMSE and sMAPE per horizon of every model shown (the networks reading `window` values)."""
    config = data.prepared.series.config
    _, _, test = data.at_window(window)
    chosen = data.metrics["by_window"][str(window)]["chosen_strategy"]
    rows = []
    for name in shown:
        row = {"model": DISPLAY_NAMES[name] + (f" (W = {window}, {chosen[name]})" if name in RECURRENT_NAMES else "")}
        for horizon in map(str, config.horizons):
            row[f"MASE h={horizon}"] = test[name]["mase"][horizon]
            row[f"RMSE h={horizon} ({config.unit})"] = test[name]["rmse"][horizon]
            row[f"sMAPE h={horizon} (%)"] = test[name]["smape"][horizon]
        rows.append(row)
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="ts_metrics_table")
    st.caption(
        "MASE divides the mean absolute error by the seasonal naive error on training "
        f"({data.metrics['mase_scale']:.3f} {config.unit}): below 1 beats repeating the value one "
        f"{config.period}-{config.step} season back. Each recurrent model uses the strategy (direct or "
        "recursive) with the lower mean MASE on validation."
    )


def lstm_stepper(*, data: forecast_serving.PageData, origin: int, window: int, key: str) -> None:
    """The LSTM forecaster's hidden state across the window that ends at the origin, one step at a time, with the
    step's equation filled in (the Inside page's stepper, on a series)."""
    series, config = data.prepared.series, data.prepared.series.config
    weights = data.lstm[window]
    inputs = forecast_inspect.window_inputs(data.prepared.scaled, origin, window)
    states = forecast_inspect.trace_window(weights, data.prepared.scaled, origin)
    dates = series.dates[origin - window + 1 : origin + 1]
    step_key = f"{key}_step_{config.name}_{window}"
    option = links.WholeNumber("the stepper's step", 1, window, window)
    from_link(step_key, option)
    step = st.slider(f"Step t of the window (1 to {window})", 1, window, window, **ui.option(step_key))
    to_link(step_key, option, step)
    step -= 1
    table = forecast_inspect.step_table(weights, states, inputs, step)
    st.write(
        f"Step {step + 1} reads {dates[step].date()}: {series.values[origin - window + 1 + step]:.3f} {config.unit}, "
        f"xₜ = {inputs[step]:+.4f} (z minus the window's last z). {stepper.EQUATIONS[weights.layer]}. "
        f"The {len(table['units'])} units whose state moved most at this step:"
    )
    rows = [
        {"unit": unit} | {name: float(values[row]) for name, values in table["terms"].items()}
        for row, unit in enumerate(table["units"])
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key=f"{key}_step_table")
    ui.shared_chart(
        lambda: step_plots.state_window(
            states.hidden[0],
            [str(date.date()) for date in dates],
            step,
            table["units"],
            f"LSTM hidden state h across the window (W = {window}, {weights.units} units), step {step + 1} marked",
            position="step and date",
        ),
        cache_key=("ts_state_chart", config.name, origin, window, step),
        key=f"{key}_state_chart",
    )
    if weights.strategy == "recursive":
        st.caption(
            "This LSTM forecasts recursively (chosen on validation): this is its first pass, the one-step forecast; "
            "each further step reads the window shifted by one with its own forecast appended."
        )


def lstm_occlusion(*, data: forecast_serving.PageData, origin: int, horizon: int, window: int, key: str) -> None:
    """Which past steps the LSTM's forecast h steps ahead depends on: occlusion over the window, precomputed."""
    series, config = data.prepared.series, data.prepared.series.config
    row = int(np.searchsorted(data.slider_origins, origin))
    effects = data.occlusion[window][row, config.horizons.index(horizon)]  # (W,), in the unit
    dates = series.dates[origin - window + 1 : origin + 1]
    ranked = np.argsort(-np.abs(effects), kind="stable")[:3]
    recent = window // 4
    share = float(np.abs(effects[-recent:]).sum() / max(np.abs(effects).sum(), 1e-12))
    st.write(
        f"Each bar replaces one {config.step}'s value with the window's last value (the network's neutral input, "
        f"no change) and shows how the forecast {horizon} {config.step}{'s' * (horizon > 1)} ahead moves: "
        "Δ = the forecast − the forecast with that value replaced. "
        "The largest effects: "
        + ", ".join(f"{dates[position].date()} ({effects[position]:+.3f} {config.unit})" for position in ranked)
        + f". The last {recent} {config.step}s carry {share:.0%} of the total |Δ|. The last {config.step} always "
        "shows 0: it sets the level every forecast is added to, not the shape the network reads."
    )
    ui.shared_chart(
        lambda: forecast_plots.occlusion_bars(
            dates,
            effects,
            config.unit,
            f"Occlusion: the LSTM's forecast at h = {horizon} from {series.dates[origin].date()}",
        ),
        cache_key=("ts_occlusion_chart", config.name, origin, window, horizon),
        key=f"{key}_occlusion_chart",
    )


def inside_lstm(*, data: forecast_serving.PageData, origin: int, horizon: int, window: int, key: str) -> None:
    """Inside the LSTM forecaster: its hidden state step by step, and occlusion over the window."""
    st.subheader("Inside the LSTM forecaster")
    # A fragment: moving the step reruns the stepper alone, not the page above it (the origin, W and the series
    # rerun the page, and the fragment with it, with their new values).
    st.fragment(lstm_stepper)(data=data, origin=origin, window=window, key=key)
    lstm_occlusion(data=data, origin=origin, horizon=horizon, window=window, key=key)


def forecasts_step(
    *, data: forecast_serving.PageData, origin: int, horizon: int, window: int, shown: list[str]
) -> None:
    """The test period's forecasts of the models shown: the verdict, the metrics, every target against the forecast
    made h steps before it, and every model's path from the origin."""
    series, config = data.prepared.series, data.prepared.series.config
    forecasts, bands, _ = data.at_window(window)
    origin_row = int(np.searchsorted(data.test_origins, origin))
    st.subheader("Forecasts on the test period")
    verdict(data=data, window=window)
    if not shown:
        st.info("Pick at least one model to see its forecasts.")
        return
    metrics_table(data=data, shown=shown, window=window)
    ui.shared_chart(  # not the origin's: built once for every origin and step, and shared
        lambda: forecast_plots.horizon_forecasts(
            series,
            data.test_origins,
            {name: forecasts[name] for name in shown},
            bands,
            horizon,
            DISPLAY_NAMES,
            data.prepared.split.test_start,
        ),
        cache_key=("ts_horizon_chart", config.name, window, horizon, tuple(shown)),
        key="ts_horizon_chart",
    )
    st.caption("Bands: 90 % of each model's errors at this horizon on the validation period (5th to 95th percentile).")
    ui.shared_chart(
        lambda: forecast_plots.forecasts_from_origin(
            series,
            origin,
            {name: forecasts[name][origin_row, :horizon] for name in shown},
            bands,
            horizon,
            DISPLAY_NAMES,
            history=max(2 * horizon, config.period),
        ),
        cache_key=("ts_origin_chart", config.name, origin, window, horizon, tuple(shown)),
        key="ts_origin_chart",
    )


def from_the_origin(*, data: forecast_serving.PageData, horizon: int, window: int, shown: list[str], key: str) -> None:
    """Everything the forecast origin moves, from its slider down: the window, the forecasts and inside the LSTM. A
    fragment: dragging the origin reruns this and not the page's frame, pickers and series charts above it (the
    pickers above rerun the whole page, and this with their new values)."""
    origin = int(data.test_origins[origin_picker(data=data, key=key)])
    windows_step(data=data, origin=origin, horizon=horizon, window=window)
    forecasts_step(data=data, origin=origin, horizon=horizon, window=window, shown=shown)
    inside_lstm(data=data, origin=origin, horizon=horizon, window=window, key=key)


st.title("Time series: the same recurrent layers forecast")
st.write(
    "The recurrent layers that read reviews read any sequence. Here a SimpleRNN, an LSTM and a GRU forecast a real "
    "series, and face the baselines forecasters check first: the seasonal naive forecast and Holt–Winters "
    "exponential smoothing (statsmodels)."
)
ui.share_control("time_series")  # every option below is in the link
series_name = pickers(key="ts")
page_data = ui.forecast_page_data(series_name)
if isinstance(page_data, str):
    st.error(page_data)
    st.stop()
series_config = page_data.prepared.series.config
horizon, window, shown = model_pickers(config=series_config, chosen_window=page_data.chosen_window, key="ts")
starts = raw_step(data=page_data)
cleaned_step(data=page_data)
scaling_step(data=page_data)
st.fragment(from_the_origin)(data=page_data, horizon=horizon, window=window, shown=shown, key="ts")
