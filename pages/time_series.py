"""Time series: the same recurrent layers forecast a real series, against the baselines forecasters use."""

import numpy as np
import pandas as pd
import streamlit as st

from rnndemo import forecast_plots, forecast_serving, forecasting, ui
from rnndemo.forecast_models import DISPLAY_NAMES, forecaster_names
from rnndemo.registry import RECURRENT_NAMES

ui.leave_legacy_router()


def pickers(*, key: str) -> str:
    """The series."""
    return st.radio(
        "Series",
        forecasting.SERIES_NAMES,
        format_func=lambda name: forecasting.SERIES[name].title,
        horizontal=True,
        **ui.option(f"{key}_series"),
    )


def model_pickers(*, config: forecasting.SeriesConfig, key: str) -> tuple[int, list[str]]:
    """The horizon h and the models shown (each series keeps its own)."""
    horizon_column, models_column = st.columns([1, 3])
    horizon = horizon_column.selectbox(
        f"Horizon h ({config.step}s ahead)",
        [str(horizon) for horizon in config.horizons],
        index=1,
        **ui.option(f"{key}_horizon_{config.name}"),
    )
    names = forecaster_names(config.name)
    labels = [DISPLAY_NAMES[name] for name in names]  # the picker holds the names visitors read
    picked = models_column.multiselect(
        "Models shown",
        labels,
        default=[DISPLAY_NAMES[name] for name in names if name != "seasonal_naive"],
        **ui.option(f"{key}_models_{config.name}"),
    )
    shown = [name for name in names if DISPLAY_NAMES[name] in picked]
    return int(horizon), shown


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
    ui.plotly_chart(
        forecast_plots.raw_series(series.dates, series.raw, series.values, starts, config.unit, config.step),
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
    ui.plotly_chart(
        forecast_plots.gap_detail(
            series.dates, series.raw, series.values, start + length // 2, length + 20, config.unit
        ),
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
    ui.plotly_chart(
        forecast_plots.scaled_series(
            series.dates, prepared.scaled, {"validation": split.validation_start, "test": split.test_start}
        ),
        key="ts_scaled_chart",
    )
    st.caption(
        "Where the test values lie beyond the training maximum, a network that read raw levels would extrapolate. "
        "So each window is read relative to its last value, and the network predicts the change from it."
    )


def windows_step(*, data: forecast_serving.PageData, origin: int, horizon: int) -> None:
    """Step 4: windows of the last W values, and the values to predict."""
    prepared = data.prepared
    series, config = prepared.series, prepared.series.config
    window = config.window
    training_windows = prepared.split.validation_start - window - config.max_horizon + 1
    st.subheader("4. Windows: the last W values and what to predict")
    st.write(
        f"W = {window} {config.step}s in, up to H = {config.max_horizon} {config.step}s out. The training part gives "
        f"{training_windows:,} windows whose targets all lie in training: inputs ({training_windows:,}, {window}, 1), "
        f"targets ({training_windows:,}, {config.max_horizon}) for the direct forecasters, or "
        f"({training_windows:,}, 1) for the recursive ones, which feed their forecast back h times. "
        "This is the time-series twin of words → indices → padded sequence."
    )
    ui.plotly_chart(
        forecast_plots.window_figure(series.dates, series.values, origin, window, horizon, config.unit),
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
    stride = 4 if series.config.step == "week" else 1
    options = [str(date.date()) for date in dates[::stride]]
    chosen = st.select_slider(
        "Forecast origin (the last value the models see; its forecasts land in the test period)",
        options,
        value=options[len(options) // 2],
        **ui.option(f"{key}_origin_{series.config.name}"),
    )
    return max(0, int(np.searchsorted(dates, pd.Timestamp(chosen), side="right") - 1))


def verdict(*, data: forecast_serving.PageData) -> None:
    """Whether the best recurrent forecaster beats Holt–Winters on the test period, and, for sunspots, the AR(p)
    model, in numbers computed from the metrics file."""
    config = data.prepared.series.config
    references = [("holt_winters", "Holt–Winters", "")]
    if "ar" in data.metrics["test"]:
        order = forecast_serving.ar_order(data.metrics)
        note = (
            f" AR({order}) is an autoregression on the last {order} {config.step}s; AIC chose p = {order} on training."
        )
        references.append(("ar", f"AR({order})", note))
    for baseline, label, note in references:
        beaten, sentences = forecast_serving.baseline_verdict(
            data.metrics["test"], config.horizons, config.unit, baseline, label
        )
        headline = (
            f"On the test period the best recurrent model matches or beats {label} at every horizon."
            if beaten
            else f"On the test period the recurrent models do **not** beat {label} at every horizon."
        )
        (st.success if beaten else st.warning)(headline + note + "\n\n" + "\n".join(f"- {line}" for line in sentences))


def metrics_table(*, data: forecast_serving.PageData, shown: list[str]) -> None:
    """Test MASE, RMSE and sMAPE per horizon of every model shown."""
    config = data.prepared.series.config
    test, chosen = data.metrics["test"], data.metrics["chosen_strategy"]
    rows = []
    for name in shown:
        row = {"model": DISPLAY_NAMES[name] + (f" ({chosen[name]})" if name in RECURRENT_NAMES else "")}
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


st.title("Time series: the same recurrent layers forecast")
st.write(
    "The recurrent layers that read reviews read any sequence. Here a SimpleRNN, an LSTM and a GRU forecast a real "
    "series, and face the baselines forecasters check first: the seasonal naive forecast and Holt–Winters "
    "exponential smoothing (statsmodels)."
)
series_name = pickers(key="ts")
page_data = ui.forecast_page_data(series_name)
if isinstance(page_data, str):
    st.error(page_data)
    st.stop()
series_config = page_data.prepared.series.config
horizon, shown = model_pickers(config=series_config, key="ts")
starts = raw_step(data=page_data)
cleaned_step(data=page_data)
scaling_step(data=page_data)
origin_row = origin_picker(data=page_data, key="ts")
origin = int(page_data.test_origins[origin_row])
windows_step(data=page_data, origin=origin, horizon=horizon)

st.subheader("Forecasts on the test period")
verdict(data=page_data)
if not shown:
    st.info("Pick at least one model to see its forecasts.")
    st.stop()
metrics_table(data=page_data, shown=shown)
series = page_data.prepared.series
ui.plotly_chart(
    forecast_plots.horizon_forecasts(
        series.dates,
        series.raw,
        page_data.test_origins,
        {name: page_data.forecasts[name] for name in shown},
        page_data.bands,
        horizon,
        DISPLAY_NAMES,
        series_config.unit,
        series_config.step,
        page_data.prepared.split.test_start,
    ),
    key="ts_horizon_chart",
)
st.caption("Bands: 90 % of each model's errors at this horizon on the validation period (5th to 95th percentile).")
ui.plotly_chart(
    forecast_plots.forecasts_from_origin(
        series.dates,
        series.raw,
        origin,
        {name: page_data.forecasts[name][origin_row, :horizon] for name in shown},
        page_data.bands,
        horizon,
        DISPLAY_NAMES,
        series_config.unit,
        history=max(2 * horizon, series_config.period),
    ),
    key="ts_origin_chart",
)
