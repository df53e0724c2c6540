"""Serving the forecasters: verified files, a forecast from any origin, and held-out scores recomputed from files.

The page reads the precomputed test-period forecasts (`load_page_data`: no TensorFlow in a request); the CLI
runs the networks and the statsmodels baselines from the origin it is given (`forecast_from`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rnndemo import forecast_models, forecasting
from rnndemo.registry import RECURRENT_NAMES


def load_metrics(models_dir: Path) -> dict:
    """The verified forecast metrics file (scores, choices, scalers, baseline parameters); ModelFileError if not."""
    from rnndemo import models

    hint = "rebuild it with: python -m rnndemo train-forecasters"
    manifest = models.read_manifest(models_dir)
    if forecast_models.METRICS_FILE not in manifest.get("files", {}):
        raise models.ModelFileError(f"no forecasters in this models folder; {hint}")
    return models.read_json(models.verified_path(models_dir, manifest, forecast_models.METRICS_FILE), hint)


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


def load_networks(models_dir: Path, series: str, metrics: dict) -> dict[str, tuple[object, str]]:
    """Each cell's network with the strategy chosen on validation: {cell: (model, strategy)}, verified."""
    import keras

    from rnndemo import models

    manifest = models.read_manifest(models_dir)
    networks = {}
    for cell in RECURRENT_NAMES:
        strategy = metrics[series]["chosen_strategy"][cell]
        path = models.verified_path(models_dir, manifest, forecast_models.model_file(series, cell, strategy))
        networks[cell] = (keras.saving.load_model(path, compile=False, safe_mode=True), strategy)
    return networks


def origin_position(series: forecasting.Series, origin: str) -> int:
    """The position of the last step on or before the date `origin`; ValueError with the allowed range."""
    try:
        moment = pd.Timestamp(origin)
    except (ValueError, TypeError):
        raise ValueError(f"--origin {origin!r} is not a date; write it as YYYY-MM-DD") from None
    if pd.isna(moment):
        raise ValueError(f"--origin {origin!r} is not a date; write it as YYYY-MM-DD")
    earliest, latest = series.dates[series.config.window - 1], series.dates[-1]
    if not earliest <= moment <= latest + (series.dates[-1] - series.dates[-2]):
        raise ValueError(
            f"--origin {origin} is outside the {series.config.name} series: give a date from {earliest.date()} "
            f"(the first with a window of {series.config.window} {series.config.step}s before it) to {latest.date()}"
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


def forecast_from(models_dir: Path, series_name: str, horizon: int, origin: str) -> dict:
    """Every forecaster's next `horizon` values after `origin`, with the truth as recorded (None where not)."""
    config = forecasting.series_config(series_name)
    check_horizon(config, horizon)
    metrics = load_metrics(models_dir)
    prepared = forecast_models.prepare(series_name)
    series = prepared.series
    position = origin_position(series, origin)
    origins = np.array([position])
    models_out: dict[str, list[float]] = {}
    for cell, (model, strategy) in load_networks(models_dir, series_name, metrics).items():
        scaled = forecast_models.network_forecasts(model, prepared.scaled, origins, config.window, horizon, strategy)
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
        forecasts = {}
        for cell, (model, strategy) in load_networks(models_dir, series_name, metrics).items():
            scaled = forecast_models.network_forecasts(
                model, prepared.scaled, origins, config.window, config.max_horizon, strategy
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
    """What the Time series page draws for one series: the data, the split and the precomputed forecasts."""

    prepared: forecast_models.Prepared
    metrics: dict  # the series' entry of the metrics file
    test_origins: np.ndarray  # positions of the test-period origins
    forecasts: dict[str, np.ndarray]  # model -> (origins, H), in the series' unit
    bands: dict[str, np.ndarray]  # model -> (H, 2): validation residual quantiles (5 %, 95 %)


def load_page_data(models_dir: Path, series_name: str) -> PageData:
    """The series, its metrics and its precomputed forecasts (verified files; no TensorFlow)."""
    metrics = load_metrics(models_dir)
    arrays = load_forecast_arrays(models_dir)
    names = forecast_models.forecaster_names(series_name)
    return PageData(
        prepared=forecast_models.prepare(series_name),
        metrics=metrics[series_name],
        test_origins=arrays[f"{series_name}__test_origins"],
        forecasts={name: arrays[f"{series_name}__{name}__test"] for name in names},
        bands={name: arrays[f"{series_name}__{name}__bands"] for name in names},
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


def holt_winters_verdict(test_scores: dict, horizons: tuple[int, ...], unit: str) -> tuple[bool, list[str]]:
    """Whether the best recurrent forecaster matches or beats Holt–Winters (test MASE) at every horizon, and one
    sentence per horizon with the numbers."""
    return baseline_verdict(test_scores, horizons, unit, "holt_winters")


def ar_order(series_metrics: dict) -> int:
    """The order p of a series' AR(p) baseline (its largest lag, chosen by AIC on training), from its metrics."""
    return max(series_metrics["baselines"]["ar"]["lags"])
