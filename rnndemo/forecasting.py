"""Time series: the same recurrent layers forecast a real series, against the baselines forecasters use.

The pipeline is the time-series twin of the text pipeline: raw series → cleaned series (gaps filled) →
scaled (fitted on the training part only) → windows of the last W values with the next values to predict.

Two real series ship with statsmodels: weekly CO₂ at Mauna Loa (ppm, 1958–2001, 59 weeks missing) and yearly
sunspot numbers (1700–2008). Each is split by time into training, validation (choose) and test (score once).
The baselines are statsmodels' own: Holt–Winters exponential smoothing and, for sunspots, AR(p) chosen by AIC.
This module holds the data, the split, the scaler, the windows, the baselines and the metrics; the recurrent
forecasters are trained and served by `forecast_models`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnndemo.registry import FORECAST_SERIES


@dataclass(frozen=True)
class SeriesConfig:
    """How one series is split, windowed and scored."""

    name: str  # "co2" or "sunspots": the CLI's --series and the JSON keys
    title: str  # what visitors read
    unit: str  # the values' unit, shown on every axis and number
    step: str  # "week" or "year": one time step
    period: int  # the season in steps: the seasonal naive forecast repeats the value one period back
    test_steps: int  # the last steps, scored once at the end
    validation_steps: int  # the steps before the test part: choices are made here
    windows: tuple[int, ...]  # the W values trained (a forecaster reads the last W values); one is served,
    # chosen on validation
    horizons: tuple[int, ...]  # the horizons h scored (steps ahead)
    recurrent_units: int  # units of each recurrent forecaster
    epochs: int  # the most training epochs (early stopping on validation may stop sooner)

    @property
    def max_horizon(self) -> int:
        return max(self.horizons)

    @property
    def max_window(self) -> int:
        """The longest W: every forecaster is trained and scored on the origins that have this many values."""
        return max(self.windows)

    def check_window(self, window: int) -> None:
        """ValueError unless `window` is one of the trained W values."""
        if window not in self.windows:
            choices = ", ".join(map(str, self.windows))
            raise ValueError(f"--window {window} was not trained for {self.name}; choose from {choices}")


SERIES: dict[str, SeriesConfig] = {
    "co2": SeriesConfig(
        name="co2",
        title="Atmospheric CO₂ at Mauna Loa (weekly)",
        unit="ppm",
        step="week",
        period=52,
        test_steps=4 * 52,  # the last 4 years: 1998-01 to 2001-12
        validation_steps=4 * 52,  # the 4 years before
        windows=(26, 52),  # half a year and one year (104 weeks cost twice the training time per epoch)
        horizons=(1, 13, 52),
        recurrent_units=32,
        epochs=40,
    ),
    "sunspots": SeriesConfig(
        name="sunspots",
        title="Yearly sunspot number",
        unit="sunspots",
        step="year",
        period=11,  # the cycle's mean length in years
        test_steps=44,  # four cycles: 1965-2008
        validation_steps=44,  # 1921-1964
        windows=(11, 22),  # one cycle and two
        horizons=(1, 5, 11),
        recurrent_units=16,
        epochs=150,
    ),
}
SERIES_NAMES: tuple[str, ...] = FORECAST_SERIES  # the registry's list; tests check SERIES has exactly these


def series_config(name: str) -> SeriesConfig:
    """The configuration of series `name`; ValueError naming the choices otherwise."""
    if name not in SERIES:
        raise ValueError(f"unknown series {name!r}; choose from {', '.join(SERIES_NAMES)}")
    return SERIES[name]


# --- Data ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    """A series as recorded and as cleaned, on a regular time index."""

    config: SeriesConfig
    dates: pd.DatetimeIndex  # one per step, regular
    raw: np.ndarray  # as recorded; NaN where nothing was recorded
    values: np.ndarray  # cleaned: gaps filled by time interpolation
    recorded: np.ndarray  # bool: True where the value was recorded (a filled gap is never truth)

    @property
    def length(self) -> int:
        return len(self.values)


def load_raw(name: str) -> pd.Series:
    """The series as statsmodels ships it, on a regular DatetimeIndex (NaN where nothing was recorded)."""
    import statsmodels.api as statsmodels_api

    series_config(name)
    if name == "co2":
        frame = statsmodels_api.datasets.co2.load_pandas().data
        return frame["co2"].astype(float).rename("co2")
    frame = statsmodels_api.datasets.sunspots.load_pandas().data
    dates = pd.to_datetime(frame["YEAR"].astype(int).astype(str), format="%Y")
    index = pd.DatetimeIndex(dates, freq="YS-JAN")  # one value a year, dated 1 January
    return pd.Series(frame["SUNACTIVITY"].to_numpy(dtype=float), index=index, name="sunspots")


def clean(raw: pd.Series) -> pd.Series:
    """Fill gaps by linear interpolation in time between the recorded neighbours on either side.

    A gap is filled from its two nearest recorded values only, so a value is never filled from data more
    than one recorded step after it; the series' ends are never gaps here (both series start and end recorded).
    """
    if raw.isna().iloc[[0, -1]].any():
        raise ValueError("the series must start and end with a recorded value to be interpolated")
    return raw.interpolate(method="time")


def load_series(name: str) -> Series:
    """The named series, recorded and cleaned, with its recorded-value mask."""
    return series_from_raw(name, load_raw(name))


def series_from_raw(name: str, raw: pd.Series) -> Series:
    """A series as recorded (NaN where not) and cleaned, with its recorded-value mask."""
    cleaned = clean(raw)
    return Series(
        config=series_config(name),
        dates=pd.DatetimeIndex(raw.index),
        raw=raw.to_numpy(dtype=float),
        values=cleaned.to_numpy(dtype=float),
        recorded=raw.notna().to_numpy(),
    )


def longest_gap(recorded: np.ndarray) -> tuple[int, int]:
    """(first position, length) of the longest run of unrecorded steps; (0, 0) when every step was recorded."""
    padded = np.concatenate([[True], np.asarray(recorded, dtype=bool), [True]])
    changes = np.flatnonzero(padded[1:] != padded[:-1])  # starts and ends of the runs of False, alternating
    starts, ends = changes[::2], changes[1::2]
    if not len(starts):
        return (0, 0)
    longest = int(np.argmax(ends - starts))
    return int(starts[longest]), int(ends[longest] - starts[longest])


# --- Split and scaling ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """Positions of the parts, by time: [0, validation_start), [validation_start, test_start), [test_start, end)."""

    validation_start: int
    test_start: int
    end: int

    def part(self, name: str) -> tuple[int, int]:
        """(start, stop) of "train", "validation" or "test"."""
        return {
            "train": (0, self.validation_start),
            "validation": (self.validation_start, self.test_start),
            "test": (self.test_start, self.end),
        }[name]


def split_by_time(length: int, config: SeriesConfig) -> Split:
    """The last `test_steps` are the test part and the `validation_steps` before them the validation part."""
    test_start = length - config.test_steps
    validation_start = test_start - config.validation_steps
    if validation_start <= config.max_window + config.max_horizon:
        raise ValueError("the series is too short for its window, horizon, validation and test parts")
    return Split(validation_start=validation_start, test_start=test_start, end=length)


@dataclass(frozen=True)
class Scaler:
    """Standardisation fitted on the training part only: z = (y - mean) / scale."""

    mean: float  # in the series' unit
    scale: float  # the training part's standard deviation, in the series' unit

    def transform(self, values: np.ndarray) -> np.ndarray:
        return (np.asarray(values, dtype=float) - self.mean) / self.scale

    def inverse(self, scaled: np.ndarray) -> np.ndarray:
        return np.asarray(scaled, dtype=float) * self.scale + self.mean


def fit_scaler(training_values: np.ndarray) -> Scaler:
    """Mean and standard deviation of the training part (the caller passes nothing else)."""
    training_values = np.asarray(training_values, dtype=float)
    return Scaler(mean=float(training_values.mean()), scale=float(training_values.std()))


# --- Windows --------------------------------------------------------------------------------------------------------


def origins_for(split: Split, part: str, config: SeriesConfig) -> np.ndarray:
    """Forecast origins (the position of the last value seen) whose targets at every horizon up to the largest
    can fall in `part`: from `max_horizon` steps before the part's start to one step before its end."""
    start, stop = split.part(part)
    return np.arange(start - config.max_horizon, stop - 1)


def windows(values: np.ndarray, origins: np.ndarray, window: int) -> np.ndarray:
    """The last `window` values up to and including each origin: (origins, window)."""
    offsets = np.arange(-window + 1, 1)
    return np.asarray(values)[np.asarray(origins)[:, None] + offsets[None, :]]


def targets(values: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """The next `horizon` values after each origin, NaN beyond the series' end: (origins, horizon)."""
    values = np.asarray(values, dtype=float)
    positions = np.asarray(origins)[:, None] + np.arange(1, horizon + 1)[None, :]
    inside = positions < len(values)
    result = np.full(positions.shape, np.nan)
    result[inside] = values[positions[inside]]
    return result


def level_relative(scaled_windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Windows minus their last value, and that last value: a network reads the shape, not the level.

    CO₂ rises through the test years above anything seen in training; relative to the last value the inputs and
    targets stay in the range the network was trained on.
    """
    last = scaled_windows[:, -1:]
    return scaled_windows - last, last


# --- Baselines (statsmodels) ------------------------------------------------------------------------------------------


def seasonal_naive(values: np.ndarray, origins: np.ndarray, horizon: int, period: int) -> np.ndarray:
    """The value one period (or whole periods) before each target: the same week last year. (origins, horizon)."""
    values = np.asarray(values, dtype=float)
    steps = np.arange(1, horizon + 1)
    back = steps - period * np.ceil(steps / period).astype(int)  # in (-period, 0]
    return values[np.asarray(origins)[:, None] + back[None, :]]


@dataclass(frozen=True)
class HoltWintersFit:
    """Holt–Winters (additive trend and season) parameters estimated by statsmodels on the training part."""

    period: int
    smoothing_level: float
    smoothing_trend: float
    smoothing_seasonal: float
    initial_level: float
    initial_trend: float
    initial_seasons: tuple[float, ...]

    def to_json(self) -> dict:
        return {**self.__dict__, "initial_seasons": list(self.initial_seasons)}


def fit_holt_winters(training_values: np.ndarray, period: int) -> HoltWintersFit:
    """statsmodels' ExponentialSmoothing (additive trend, additive season of `period` steps) fitted by MLE."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    model = ExponentialSmoothing(
        np.asarray(training_values, dtype=float), trend="add", seasonal="add", seasonal_periods=period
    )
    parameters = model.fit().params
    return HoltWintersFit(
        period=period,
        smoothing_level=float(parameters["smoothing_level"]),
        smoothing_trend=float(parameters["smoothing_trend"]),
        smoothing_seasonal=float(parameters["smoothing_seasonal"]),
        initial_level=float(parameters["initial_level"]),
        initial_trend=float(parameters["initial_trend"]),
        initial_seasons=tuple(float(value) for value in parameters["initial_seasons"]),
    )


def holt_winters_forecast(fit: HoltWintersFit, history: np.ndarray, horizon: int) -> np.ndarray:
    """statsmodels' forecast from the end of `history` with the training fit's parameters (no refit):
    the smoothing runs through `history` from the same start, so the states are those at the origin."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    model = ExponentialSmoothing(
        np.asarray(history, dtype=float),
        trend="add",
        seasonal="add",
        seasonal_periods=fit.period,
        initialization_method="known",
        initial_level=fit.initial_level,
        initial_trend=fit.initial_trend,
        initial_seasonal=np.asarray(fit.initial_seasons),
    )
    result = model.fit(
        smoothing_level=fit.smoothing_level,
        smoothing_trend=fit.smoothing_trend,
        smoothing_seasonal=fit.smoothing_seasonal,
        optimized=False,
    )
    return np.asarray(result.forecast(horizon), dtype=float)


@dataclass(frozen=True)
class AutoRegressionFit:
    """AR(p) chosen by AIC on the training part (statsmodels ar_select_order), and its AutoReg parameters."""

    lags: tuple[int, ...]
    parameters: tuple[float, ...]  # the constant first, then one coefficient per lag


def fit_autoregression(training_values: np.ndarray, max_lag: int) -> AutoRegressionFit:
    """The AR order by AIC (lags 1..p, p ≤ max_lag), then AutoReg fitted by least squares."""
    from statsmodels.tsa.ar_model import AutoReg, ar_select_order

    training_values = np.asarray(training_values, dtype=float)
    selection = ar_select_order(training_values, maxlag=max_lag, ic="aic", trend="c")
    lags = tuple(int(lag) for lag in (selection.ar_lags or [1]))
    result = AutoReg(training_values, lags=list(lags), trend="c").fit()
    return AutoRegressionFit(lags=lags, parameters=tuple(float(value) for value in result.params))


def autoregression_forecast(fit: AutoRegressionFit, history: np.ndarray, horizon: int) -> np.ndarray:
    """The AR(p) recursion from the end of `history` with the training fit's parameters (no refit): each forecast
    is the constant plus the coefficients times the values (or forecasts) at their lags. The tests check it
    against statsmodels' own AutoReg forecast."""
    constant, coefficients = fit.parameters[0], np.asarray(fit.parameters[1:])
    lags = np.asarray(fit.lags)
    extended = list(np.asarray(history, dtype=float))
    for _ in range(horizon):
        extended.append(constant + float(coefficients @ np.asarray(extended)[len(extended) - lags]))
    return np.asarray(extended[len(history) :])


def rolling_forecasts(forecast_one, values: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """`forecast_one(history, horizon)` from every origin, each seeing only values up to it: (origins, horizon)."""
    return np.stack([forecast_one(values[: origin + 1], horizon) for origin in origins])


# --- Metrics ----------------------------------------------------------------------------------------------------------


def mase_scale(training_values: np.ndarray, training_recorded: np.ndarray, period: int) -> float:
    """The in-sample seasonal naive error on training: mean |y_t − y_(t−period)| over recorded pairs."""
    values = np.asarray(training_values, dtype=float)
    recorded = np.asarray(training_recorded, dtype=bool)
    both = recorded[period:] & recorded[:-period]
    return float(np.mean(np.abs(values[period:] - values[:-period])[both]))


def scored_pairs(
    forecasts: np.ndarray, series: Series, origins: np.ndarray, part: tuple[int, int], horizon: int
) -> tuple[np.ndarray, np.ndarray]:
    """(forecast, truth) of every h-step forecast whose target lies in `part` and was recorded."""
    targets_at = np.asarray(origins) + horizon
    keep = (targets_at >= part[0]) & (targets_at < part[1])
    keep[keep] = series.recorded[targets_at[keep]]
    return forecasts[keep, horizon - 1], series.raw[targets_at[keep]]


def metrics(forecast: np.ndarray, truth: np.ndarray, scale: float) -> dict[str, float]:
    """MASE (mean absolute error / `scale`), RMSE (in the series' unit) and sMAPE (%)."""
    errors = np.asarray(forecast, dtype=float) - np.asarray(truth, dtype=float)
    denominator = np.abs(forecast) + np.abs(truth)
    return {
        "mase": float(np.mean(np.abs(errors)) / scale),
        "rmse": float(np.sqrt(np.mean(errors**2))),
        "smape": float(np.mean(200.0 * np.abs(errors) / np.where(denominator == 0, 1.0, denominator))),
    }


def metrics_by_horizon(
    forecasts: np.ndarray, series: Series, origins: np.ndarray, part: tuple[int, int], scale: float
) -> dict[str, dict[str, float]]:
    """{"mase": {"1": …, "13": …}, "rmse": {…}, "smape": {…}} over the series' horizons."""
    table: dict[str, dict[str, float]] = {"mase": {}, "rmse": {}, "smape": {}}
    for horizon in series.config.horizons:
        forecast, truth = scored_pairs(forecasts, series, origins, part, horizon)
        for name, value in metrics(forecast, truth, scale).items():
            table[name][str(horizon)] = round(value, 4)
    return table


def residual_bands(
    forecasts: np.ndarray, series: Series, origins: np.ndarray, part: tuple[int, int], coverage: float = 0.9
) -> np.ndarray:
    """Per horizon 1..H, the (low, high) quantiles of truth − forecast on `part` (validation): (H, 2)."""
    low, high = (1 - coverage) / 2, 1 - (1 - coverage) / 2
    rows = []
    for horizon in range(1, forecasts.shape[1] + 1):
        forecast, truth = scored_pairs(forecasts, series, origins, part, horizon)
        residuals = truth - forecast
        rows.append((np.quantile(residuals, low), np.quantile(residuals, high)))
    return np.asarray(rows)
