"""The recurrent forecasters (SimpleRNN, LSTM, GRU), their training, and every forecaster's held-out scores.

Each recurrent forecaster reads a window of the last W scaled values, relative to the last one, and predicts
the change from it: either all H next values at once (direct) or the next one, fed back H times (recursive).
Training sees the training part only; early stopping and the choice between direct and recursive use the
validation part; the test part is scored once at the end. `train_forecasters` writes the models, the
precomputed forecasts the page reads, the metrics, and their sha256 in the manifest.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnndemo import forecasting
from rnndemo.registry import RECURRENT_KINDS, RECURRENT_NAMES

STRATEGIES = ("direct", "recursive")
METRICS_FILE = "forecast_metrics.json"  # scores, choices, scalers and baseline parameters, per series
FORECASTS_FILE = "forecasts.npz"  # every model's forecast from every test origin, and validation error bands
SEED = 1337
BASELINE_NAMES = {"co2": ("seasonal_naive", "holt_winters"), "sunspots": ("seasonal_naive", "holt_winters", "ar")}
DISPLAY_NAMES = {
    "rnn": "SimpleRNN",
    "lstm": "LSTM",
    "gru": "GRU",
    "seasonal_naive": "Seasonal naive",
    "holt_winters": "Holt–Winters",
    "ar": "AR(p) by AIC",
}


def model_file(series: str, cell: str, strategy: str) -> str:
    """The file name of one recurrent forecaster in the models folder (a plain name: the folder is flat)."""
    return f"forecast_{series}_{cell}_{strategy}.keras"


def forecaster_names(series: str) -> tuple[str, ...]:
    """The names served for a series: the three cells, then its baselines."""
    return (*RECURRENT_NAMES, *BASELINE_NAMES[series])


# --- The networks -----------------------------------------------------------------------------------------------------


def build_forecaster(cell: str, window: int, outputs: int, units: int):
    """Input (batch, window, 1) → SimpleRNN | LSTM | GRU → Dense(outputs): the changes from the last value."""
    import keras
    from keras import layers

    sequence = keras.Input(shape=(window, 1), name="window")  # (batch, W, 1)
    state = getattr(layers, RECURRENT_KINDS[cell])(units, name="recurrent")(sequence)  # (batch, units)
    change = layers.Dense(outputs, name="readout")(state)  # (batch, outputs)
    model = keras.Model(sequence, change, name=f"{cell}_forecaster")
    model.compile(optimizer=keras.optimizers.Adam(3e-3, clipnorm=1.0), loss="mse")
    return model


def training_pairs(scaled: np.ndarray, origins: np.ndarray, window: int, outputs: int) -> tuple[np.ndarray, np.ndarray]:
    """Network inputs (origins, W, 1) and targets (origins, outputs), both relative to each window's last value."""
    relative, last = forecasting.level_relative(forecasting.windows(scaled, origins, window))
    return relative[..., None], forecasting.targets(scaled, origins, outputs) - last


def network_data(config: forecasting.SeriesConfig, scaled: np.ndarray, split, outputs: int) -> tuple[tuple, tuple]:
    """(training pairs, validation pairs) of a network: training windows whose targets all lie in training, and
    validation windows whose targets all lie in validation (never a test value)."""
    train_origins = np.arange(config.window - 1, split.validation_start - outputs)
    validation_origins = np.arange(split.validation_start - 1, split.test_start - outputs)
    return (
        training_pairs(scaled, train_origins, config.window, outputs),
        training_pairs(scaled, validation_origins, config.window, outputs),
    )


def fit_network(cell: str, config: forecasting.SeriesConfig, scaled: np.ndarray, split, strategy: str):
    """Train one forecaster on windows whose targets lie in training; stop early on validation windows."""
    import keras

    outputs = config.max_horizon if strategy == "direct" else 1
    keras.utils.set_random_seed(SEED)
    model = build_forecaster(cell, config.window, outputs, config.recurrent_units)
    (inputs, goals), validation = network_data(config, scaled, split, outputs)
    stop = keras.callbacks.EarlyStopping(patience=8, restore_best_weights=True)
    history = model.fit(
        inputs, goals, validation_data=validation, epochs=config.epochs, batch_size=64, verbose=0, callbacks=[stop]
    )
    return model, len(history.history["loss"])


def network_forecasts(
    model, scaled: np.ndarray, origins: np.ndarray, window: int, horizon: int, strategy: str
) -> np.ndarray:
    """Scaled forecasts (origins, horizon) from each origin: all at once (direct) or fed back (recursive)."""
    current = forecasting.windows(scaled, origins, window).astype("float32")  # (origins, W)
    if strategy == "direct":
        relative, last = forecasting.level_relative(current)
        return (last + np.asarray(model(relative[..., None], training=False)))[:, :horizon]
    steps = []
    for _ in range(horizon):
        relative, last = forecasting.level_relative(current)
        following = last + np.asarray(model(relative[..., None], training=False))[:, :1]  # (origins, 1)
        steps.append(following)
        current = np.concatenate([current[:, 1:], following], axis=1)
    return np.concatenate(steps, axis=1)


# --- Every forecaster on one series -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """A series with its split, scaler and MASE scale: everything fitted on the training part only."""

    series: forecasting.Series
    split: forecasting.Split
    scaler: forecasting.Scaler
    mase_scale: float

    @property
    def scaled(self) -> np.ndarray:
        return self.scaler.transform(self.series.values)


def prepare(name: str) -> Prepared:
    """Load, split, and fit the scaler and the MASE scale on the training part."""
    return prepare_series(forecasting.load_series(name))


def prepare_series(series: forecasting.Series) -> Prepared:
    """Split a loaded series by time, and fit the scaler and the MASE scale on its training part only."""
    split = forecasting.split_by_time(series.length, series.config)
    training = slice(0, split.validation_start)
    return Prepared(
        series=series,
        split=split,
        scaler=forecasting.fit_scaler(series.values[training]),
        mase_scale=forecasting.mase_scale(series.values[training], series.recorded[training], series.config.period),
    )


def baseline_parameters(prepared: Prepared) -> dict:
    """The statsmodels baselines fitted on training: Holt–Winters (and AR(p) for sunspots), as JSON."""
    training = prepared.series.values[: prepared.split.validation_start]
    parameters = {"holt_winters": forecasting.fit_holt_winters(training, prepared.series.config.period).to_json()}
    if "ar" in BASELINE_NAMES[prepared.series.config.name]:
        fit = forecasting.fit_autoregression(training, max_lag=2 * prepared.series.config.period)
        parameters["ar"] = {"lags": list(fit.lags), "parameters": list(fit.parameters)}
    return parameters


def baseline_forecaster(name: str, parameters: dict, period: int) -> Callable[[np.ndarray, int], np.ndarray]:
    """forecast(history, horizon) of a baseline, from its stored parameters."""
    if name == "seasonal_naive":
        return lambda history, horizon: forecasting.seasonal_naive(
            history, np.array([len(history) - 1]), horizon, period
        )[0]
    if name == "holt_winters":
        fit = forecasting.HoltWintersFit(
            **{**parameters["holt_winters"], "initial_seasons": tuple(parameters["holt_winters"]["initial_seasons"])}
        )
        return lambda history, horizon: forecasting.holt_winters_forecast(fit, history, horizon)
    fit = forecasting.AutoRegressionFit(tuple(parameters["ar"]["lags"]), tuple(parameters["ar"]["parameters"]))
    return lambda history, horizon: forecasting.autoregression_forecast(fit, history, horizon)


def score(prepared: Prepared, forecasts: dict[str, np.ndarray], part: str) -> dict[str, dict]:
    """Metrics by horizon of forecasts (in the series' unit) from the part's origins."""
    origins = forecasting.origins_for(prepared.split, part, prepared.series.config)
    span = prepared.split.part(part)
    return {
        name: forecasting.metrics_by_horizon(values, prepared.series, origins, span, prepared.mase_scale)
        for name, values in forecasts.items()
    }


def mean_mase(table: dict) -> float:
    """The mean MASE over the horizons: the validation criterion."""
    return float(np.mean(list(table["mase"].values())))


def evaluate_series(name: str, models_dir: Path, report: Callable[[str], None]) -> tuple[dict, dict]:
    """Train the six networks of a series, fit its baselines, score all; (metrics entry, arrays for the page)."""
    prepared = prepare(name)
    config, values, scaled = prepared.series.config, prepared.series.values, prepared.scaled
    parts = {part: forecasting.origins_for(prepared.split, part, config) for part in ("validation", "test")}
    forecasts: dict[str, dict[str, np.ndarray]] = {part: {} for part in parts}
    trained: dict[str, dict] = {}
    for cell in RECURRENT_NAMES:
        for strategy in STRATEGIES:
            started = time.perf_counter()
            model, epochs = fit_network(cell, config, scaled, prepared.split, strategy)
            for part, origins in parts.items():
                network = network_forecasts(model, scaled, origins, config.window, config.max_horizon, strategy)
                forecasts[part][f"{cell}_{strategy}"] = prepared.scaler.inverse(network)
            file_name = model_file(name, cell, strategy)
            model.save(Path(models_dir) / file_name)
            seconds = round(time.perf_counter() - started, 1)
            trained[f"{cell}_{strategy}"] = {"file": file_name, "epochs": epochs, "training_seconds": seconds}
            report(f"{name}: {cell} {strategy} trained in {seconds} s ({epochs} epochs)")
    parameters = baseline_parameters(prepared)
    for baseline in BASELINE_NAMES[name]:
        forecast_one = baseline_forecaster(baseline, parameters, config.period)
        for part, origins in parts.items():
            forecasts[part][baseline] = forecasting.rolling_forecasts(forecast_one, values, origins, config.max_horizon)
    validation_scores = score(prepared, forecasts["validation"], "validation")
    chosen = {
        cell: min(STRATEGIES, key=lambda strategy: mean_mase(validation_scores[f"{cell}_{strategy}"]))
        for cell in RECURRENT_NAMES
    }
    for part in parts:  # the served names: each cell with the strategy chosen on validation
        forecasts[part].update({cell: forecasts[part][f"{cell}_{chosen[cell]}"] for cell in RECURRENT_NAMES})
    test_scores = score(prepared, forecasts["test"], "test")
    validation_span = prepared.split.part("validation")
    bands = {
        model: forecasting.residual_bands(values_, prepared.series, parts["validation"], validation_span)
        for model, values_ in forecasts["validation"].items()
    }
    entry = {
        "unit": config.unit,
        "window": config.window,
        "horizons": list(config.horizons),
        "period": config.period,
        "split": {
            key: str(prepared.series.dates[position].date())
            for key, position in (
                ("validation_start", prepared.split.validation_start),
                ("test_start", prepared.split.test_start),
            )
        },
        "scaler": {"mean": prepared.scaler.mean, "scale": prepared.scaler.scale},
        "mase_scale": prepared.mase_scale,
        "baselines": parameters,
        "chosen_strategy": chosen,
        "trained": trained,
        "validation": validation_scores,
        "test": test_scores,
    }
    arrays = {f"{name}__test_origins": parts["test"]}
    arrays |= {f"{name}__{model}__test": forecast for model, forecast in forecasts["test"].items()}
    arrays |= {f"{name}__{model}__bands": band for model, band in bands.items()}
    return entry, arrays


def train_forecasters(models_dir: Path, report: Callable[[str], None] = print) -> dict:
    """Train and score every forecaster of every series; write the files and record them in the manifest."""
    from rnndemo import models

    models_dir = Path(models_dir)
    started = time.perf_counter()
    metrics, arrays = {}, {}
    for name in forecasting.SERIES_NAMES:
        metrics[name], series_arrays = evaluate_series(name, models_dir, report)
        arrays |= series_arrays
    metrics["training_seconds"] = round(time.perf_counter() - started, 1)
    (models_dir / METRICS_FILE).write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    np.savez_compressed(models_dir / FORECASTS_FILE, **arrays)
    files = [METRICS_FILE, FORECASTS_FILE] + [
        entry["file"] for name in forecasting.SERIES_NAMES for entry in metrics[name]["trained"].values()
    ]
    models.update_manifest(models_dir, lambda manifest: record_forecasters(manifest, models_dir, metrics, files))
    return metrics


def record_forecasters(manifest: dict, models_dir: Path, metrics: dict, files: list[str]) -> None:
    """The manifest's "forecasters" section (files and held-out test scores) and the files' sha256."""
    from rnndemo import models

    for file_name in files:
        manifest.setdefault("files", {})[file_name] = models.sha256_file(Path(models_dir) / file_name)
    manifest["forecasters"] = {
        name: {
            model: {
                "files": [metrics[name]["trained"][f"{model}_{strategy}"]["file"] for strategy in STRATEGIES]
                if model in RECURRENT_NAMES
                else [METRICS_FILE],
                "strategy": metrics[name]["chosen_strategy"].get(model),
                "test": metrics[name]["test"][model],
            }
            for model in forecaster_names(name)
        }
        for name in forecasting.SERIES_NAMES
    }


def forecaster_files(manifest: dict) -> list[str]:
    """Every file the manifest's "forecasters" section names (the metrics and forecasts files included)."""
    files = {METRICS_FILE, FORECASTS_FILE}
    for table in manifest.get("forecasters", {}).values():
        for entry in table.values():
            files.update(entry.get("files", []))
    return sorted(files)


def carry_forecasters(models_dir: Path, staging: Path) -> None:
    """Keep the old folder's verified forecasters when the classifiers are retrained (they share nothing)."""
    import shutil

    from rnndemo import models

    try:
        old = models.read_manifest(models_dir)
        if "forecasters" not in old:
            return
        paths = {name: models.verified_path(models_dir, old, name) for name in forecaster_files(old)}
    except models.ModelFileError:
        return  # none, or one that fails its check: `train-forecasters` rebuilds them
    for name, path in paths.items():
        shutil.copy2(path, Path(staging) / name)

    def carry(manifest: dict) -> None:
        manifest.setdefault("files", {}).update({name: old["files"][name] for name in paths})
        manifest["forecasters"] = old["forecasters"]

    models.update_manifest(staging, carry)
