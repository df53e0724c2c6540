"""Serving the forecasters: verified files, a forecast from any origin, and held-out scores recomputed from files.

The page reads the precomputed test-period forecasts and occlusion of every trained W, and the LSTM forecasters'
weights as numpy arrays (`load_page_data`, cached once per server: no TensorFlow call in a request); the CLI runs
the networks of the W it is given (default: the W chosen on validation) and the statsmodels baselines from the
origin it is given (`forecast_from`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rnndemo import forecast_inspect, forecast_models, forecasting
from rnndemo.registry import RECURRENT_NAMES


def load_metrics(models_dir: Path) -> dict:
    """The verified forecast metrics file (scores, choices, scalers, baseline parameters); ModelFileError if not."""
    from rnndemo import models

    hint = "rebuild it with: python -m rnndemo train-forecasters"
    manifest = models.read_manifest(models_dir)
    if forecast_models.METRICS_FILE not in manifest.get("files", {}):
        raise models.ModelFileError(f"no forecasters in this models folder; {hint}")
    metrics = models.read_json(models.verified_path(models_dir, manifest, forecast_models.METRICS_FILE), hint)
    if not all("by_window" in metrics.get(series, {}) for series in forecasting.SERIES_NAMES):
        raise models.ModelFileError(f"the forecasters were trained before the window picker (one W); {hint}")
    return metrics


def load_forecast_arrays(models_dir: Path) -> dict[str, np.ndarray]:
    """The verified precomputed forecasts (test origins, every model, validation bands), as read-only arrays."""
    from rnndemo import models

    manifest = models.read_manifest(models_dir)
    path = models.verified_path(models_dir, manifest, forecast_models.FORECASTS_FILE)
    with np.load(path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    for array in arrays.values():
        array.setflags(write=False)
    return arrays


def served_window(metrics: dict, series: str, window: int | None = None) -> int:
    """`window` if given (ValueError unless it was trained), else the W chosen on validation."""
    if window is None:
        return int(metrics[series]["window"])
    forecasting.series_config(series).check_window(window)
    return window


def load_networks(
    models_dir: Path, series: str, metrics: dict, window: int | None = None, cells: tuple[str, ...] = RECURRENT_NAMES
) -> dict[str, tuple[object, str]]:
    """Each cell's network reading `window` values (default: the W chosen on validation) with the strategy chosen on
    validation for that W: {cell: (model, strategy)}, verified."""
    import keras

    from rnndemo import models

    window = served_window(metrics, series, window)
    manifest = models.read_manifest(models_dir)
    networks = {}
    for cell in cells:
        strategy = metrics[series]["by_window"][str(window)]["chosen_strategy"][cell]
        path = models.verified_path(models_dir, manifest, forecast_models.model_file(series, cell, strategy, window))
        networks[cell] = (keras.saving.load_model(path, compile=False, safe_mode=True), strategy)
    return networks


def origin_position(series: forecasting.Series, origin: str, window: int) -> int:
    """The position of the last step on or before the date `origin`; ValueError with the allowed range."""
    try:
        moment = pd.Timestamp(origin)
    except (ValueError, TypeError):
        raise ValueError(f"--origin {origin!r} is not a date; write it as YYYY-MM-DD") from None
    if pd.isna(moment):
        raise ValueError(f"--origin {origin!r} is not a date; write it as YYYY-MM-DD")
    earliest, latest = series.dates[window - 1], series.dates[-1]
    if not earliest <= moment <= latest + (series.dates[-1] - series.dates[-2]):
        raise ValueError(
            f"--origin {origin} is outside the {series.config.name} series: give a date from {earliest.date()} "
            f"(the first with a window of {window} {series.config.step}s before it) to {latest.date()}"
        )
    return int(np.searchsorted(series.dates, moment, side="right") - 1)


def check_horizon(config: forecasting.SeriesConfig, horizon: int) -> None:
    """ValueError unless 1 ≤ horizon ≤ the series' largest horizon."""
    if not 1 <= horizon <= config.max_horizon:
        raise ValueError(
            f"--horizon {horizon} is not from 1 to {config.max_horizon} ({config.step}s ahead, for {config.name})"
        )


def future_dates(series: forecasting.Series, position: int, horizon: int) -> list[str]:
    """The ISO dates of the `horizon` steps after `position`, past the series' end too."""
    dates = pd.date_range(series.dates[position], periods=horizon + 1, freq=series.dates.freq)[1:]
    return [str(date.date()) for date in dates]


def forecast_from(models_dir: Path, series_name: str, horizon: int, origin: str, window: int | None = None) -> dict:
    """Every forecaster's next `horizon` values after `origin`, with the truth as recorded (None where not). The
    networks read `window` values (default: the W chosen on validation)."""
    config = forecasting.series_config(series_name)
    check_horizon(config, horizon)
    if window is not None:
        config.check_window(window)
    metrics = load_metrics(models_dir)
    window = served_window(metrics, series_name, window)
    prepared = forecast_models.prepare(series_name)
    series = prepared.series
    position = origin_position(series, origin, window)
    origins = np.array([position])
    models_out: dict[str, list[float]] = {}
    for cell, (model, strategy) in load_networks(models_dir, series_name, metrics, window).items():
        scaled = forecast_models.network_forecasts(model, prepared.scaled, origins, window, horizon, strategy)
        models_out[cell] = prepared.scaler.inverse(scaled)[0].tolist()
    for baseline in forecast_models.BASELINE_NAMES[series_name]:
        forecast_one = forecast_models.baseline_forecaster(baseline, metrics[series_name]["baselines"], config.period)
        models_out[baseline] = np.asarray(forecast_one(series.values[: position + 1], horizon)).tolist()
    truth = [
        round(float(series.raw[target]), 4) if target < series.length and series.recorded[target] else None
        for target in range(position + 1, position + 1 + horizon)
    ]
    return {
        "series": series_name,
        "origin": str(series.dates[position].date()),
        "horizon": horizon,
        "window": window,
        "unit": config.unit,
        "dates": future_dates(series, position, horizon),
        "truth": truth,
        "models": {name: [round(float(value), 4) for value in values] for name, values in models_out.items()},
    }


def evaluate_forecasters(models_dir: Path) -> dict[str, dict]:
    """Test-period MASE, RMSE and sMAPE per horizon, recomputed from the files (networks and stored parameters)."""
    metrics = load_metrics(models_dir)
    results = {}
    for series_name in forecasting.SERIES_NAMES:
        prepared = forecast_models.prepare(series_name)
        config = prepared.series.config
        origins = forecasting.origins_for(prepared.split, "test", config)
        window = served_window(metrics, series_name)
        forecasts = {}
        for cell, (model, strategy) in load_networks(models_dir, series_name, metrics).items():
            scaled = forecast_models.network_forecasts(
                model, prepared.scaled, origins, window, config.max_horizon, strategy
            )
            forecasts[cell] = prepared.scaler.inverse(scaled)
        for baseline in forecast_models.BASELINE_NAMES[series_name]:
            forecast_one = forecast_models.baseline_forecaster(
                baseline, metrics[series_name]["baselines"], config.period
            )
            forecasts[baseline] = forecasting.rolling_forecasts(
                forecast_one, prepared.series.values, origins, config.max_horizon
            )
        results[series_name] = forecast_models.score(prepared, forecasts, "test")
    return results


@dataclass(frozen=True)
class PageData:
    """What the Time series page draws for one series: the data, the split, the precomputed forecasts of the
    networks at every trained W and of the baselines, and the LSTM forecasters' weights for the stepper."""

    prepared: forecast_models.Prepared
    metrics: dict  # the series' entry of the metrics file
    test_origins: np.ndarray  # positions of the test-period origins
    forecasts: dict[str, np.ndarray]  # "lstm@52" (a network at W = 52) or a baseline -> (origins, H), in the unit
    bands: dict[str, np.ndarray]  # the same keys -> (H, 2): validation residual quantiles (5 %, 95 %)
    lstm: dict[int, forecast_inspect.ForecasterWeights]  # W -> the LSTM forecaster (its chosen strategy)
    occlusion: dict[int, np.ndarray]  # W -> the LSTM's occlusion effects (slider origins, horizons, W), in the unit

    @property
    def slider_origins(self) -> np.ndarray:
        """The test-period origins the origin slider offers (positions in the series)."""
        return forecast_models.slider_origins(self.test_origins, self.prepared.series.config)

    @property
    def windows(self) -> tuple[int, ...]:
        return tuple(self.prepared.series.config.windows)

    @property
    def chosen_window(self) -> int:
        """The W chosen on validation (what `forecast` and `evaluate` serve)."""
        return int(self.metrics["window"])

    def at_window(self, window: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, dict]]:
        """(forecasts, bands, test scores) by model name, the networks reading `window` values."""
        names = forecast_models.forecaster_names(self.prepared.series.config.name)
        key = {name: f"{name}@{window}" if name in RECURRENT_NAMES else name for name in names}
        scores = self.metrics["by_window"][str(window)]["test"] | {
            name: self.metrics["test"][name] for name in names if name not in RECURRENT_NAMES
        }
        return (
            {name: self.forecasts[key[name]] for name in names},
            {name: self.bands[key[name]] for name in names},
            scores,
        )


def load_page_data(models_dir: Path, series_name: str) -> PageData:
    """The series, its metrics, its precomputed forecasts and its LSTM forecasters' weights (verified files; Keras
    reads the two small LSTM files once, and nothing runs TensorFlow afterwards)."""
    metrics = load_metrics(models_dir)
    arrays = load_forecast_arrays(models_dir)
    config = forecasting.series_config(series_name)
    prefixes = {name: f"{series_name}__{name}" for name in forecast_models.BASELINE_NAMES[series_name]}
    for window in config.windows:
        prefixes |= {f"{cell}@{window}": f"{series_name}__w{window}__{cell}" for cell in RECURRENT_NAMES}
    lstm = {}
    for window in config.windows:
        model, strategy = load_networks(models_dir, series_name, metrics, window, cells=("lstm",))["lstm"]
        lstm[window] = forecast_inspect.weights_of(model, strategy, window)
    return PageData(
        prepared=forecast_models.prepare(series_name),
        metrics=metrics[series_name],
        test_origins=arrays[f"{series_name}__test_origins"],
        forecasts={key: arrays[f"{prefix}__test"] for key, prefix in prefixes.items()},
        bands={key: arrays[f"{prefix}__bands"] for key, prefix in prefixes.items()},
        lstm=lstm,
        occlusion={window: arrays[f"{series_name}__w{window}__lstm__occlusion"] for window in config.windows},
    )


def best_recurrent(test_scores: dict, horizon: str) -> str:
    """The recurrent forecaster with the lowest test MASE at `horizon` ("1", "13", …)."""
    return min(RECURRENT_NAMES, key=lambda cell: test_scores[cell]["mase"][horizon])


def baseline_verdict(
    test_scores: dict, horizons: tuple[int, ...], unit: str, baseline: str, label: str | None = None
) -> tuple[bool, list[str]]:
    """Whether the best recurrent forecaster matches or beats the baseline `baseline` ("holt_winters", "ar")
    (test MASE) at every horizon, and one sentence per horizon with the numbers. `label`: how the sentences name
    the baseline (default: its display name)."""
    label = label or forecast_models.DISPLAY_NAMES[baseline]
    sentences, beaten_everywhere = [], True
    for horizon in map(str, horizons):
        cell = best_recurrent(test_scores, horizon)
        network, reference = test_scores[cell], test_scores[baseline]
        beats = network["mase"][horizon] <= reference["mase"][horizon]
        beaten_everywhere &= beats
        sentences.append(
            f"h = {horizon}: the best recurrent model, the {forecast_models.DISPLAY_NAMES[cell]}, has MASE "
            f"{network['mase'][horizon]:.3f} (RMSE {network['rmse'][horizon]:.3f} {unit}); {label} has "
            f"{reference['mase'][horizon]:.3f} (RMSE {reference['rmse'][horizon]:.3f} {unit}): "
            + ("the network matches or beats it." if beats else f"{label} is better.")
        )
    return beaten_everywhere, sentences


def ar_order(series_metrics: dict) -> int:
    """The order p of a series' AR(p) baseline (its largest lag, chosen by AIC on training), from its metrics."""
    return max(series_metrics["baselines"]["ar"]["lags"])
