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

from rnndemo import forecast_inspect, forecasting
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


def model_file(series: str, cell: str, strategy: str, window: int) -> str:
    """The file name of one recurrent forecaster in the models folder (a plain name: the folder is flat)."""
    return f"forecast_{series}_w{window}_{cell}_{strategy}.keras"


def variant(cell: str, strategy: str, window: int) -> str:
    """The metrics' name of one trained network: "w52_lstm_recursive"."""
    return f"w{window}_{cell}_{strategy}"


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


def network_data(
    config: forecasting.SeriesConfig, scaled: np.ndarray, split, outputs: int, window: int
) -> tuple[tuple, tuple]:
    """(training pairs, validation pairs) of a network reading `window` values: training windows whose targets all
    lie in training, and validation windows whose targets all lie in validation (never a test value). Every W
    trains on the same origins (those with the longest W before them), so the W values differ in what they read,
    not in what they are taught."""
    train_origins = np.arange(config.max_window - 1, split.validation_start - outputs)
    validation_origins = np.arange(split.validation_start - 1, split.test_start - outputs)
    return (
        training_pairs(scaled, train_origins, window, outputs),
        training_pairs(scaled, validation_origins, window, outputs),
    )


def fit_network(cell: str, config: forecasting.SeriesConfig, scaled: np.ndarray, split, strategy: str, window: int):
    """Train one forecaster on windows whose targets lie in training; stop early on validation windows."""
    import keras

    outputs = config.max_horizon if strategy == "direct" else 1
    keras.utils.set_random_seed(SEED)
    model = build_forecaster(cell, window, outputs, config.recurrent_units)
    (inputs, goals), validation = network_data(config, scaled, split, outputs, window)
    stop = keras.callbacks.EarlyStopping(patience=8, restore_best_weights=True)
    history = model.fit(
        inputs, goals, validation_data=validation, epochs=config.epochs, batch_size=64, verbose=0, callbacks=[stop]
    )
    return model, len(history.history["loss"])


def network_forecasts(
    model, scaled: np.ndarray, origins: np.ndarray, window: int, horizon: int, strategy: str
) -> np.ndarray:
    """Scaled forecasts (origins, horizon) from each origin: all at once (direct) or fed back (recursive)."""
    return window_forecasts(model, forecasting.windows(scaled, origins, window), horizon, strategy)


def window_forecasts(model, scaled_windows: np.ndarray, horizon: int, strategy: str) -> np.ndarray:
    """Scaled forecasts (windows, horizon) from windows of scaled values (windows, W).

    The network runs through Keras's compiled predict function (built once per model): an eager call steps the
    recurrent loop in Python, which made a recursive 52-week forecast cost ~15 s of training time."""
    current = np.asarray(scaled_windows, dtype="float32")  # (windows, W)
    if strategy == "direct":
        relative, last = forecasting.level_relative(current)
        return (last + np.asarray(model.predict_on_batch(relative[..., None])))[:, :horizon]
    steps = []
    for _ in range(horizon):
        relative, last = forecasting.level_relative(current)
        following = last + np.asarray(model.predict_on_batch(relative[..., None]))[:, :1]  # (origins, 1)
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


def train_window(
    prepared: Prepared, window: int, parts: dict[str, np.ndarray], models_dir: Path, report: Callable[[str], None]
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict]]:
    """Train the six networks (three cells, direct and recursive) that read `window` values; their forecasts (in
    the series' unit) from every validation and test origin, and what was trained."""
    config, scaled, name = prepared.series.config, prepared.scaled, prepared.series.config.name
    forecasts: dict[str, dict[str, np.ndarray]] = {part: {} for part in parts}
    trained: dict[str, dict] = {}
    lstm = {}
    for cell in RECURRENT_NAMES:
        for strategy in STRATEGIES:
            started = time.perf_counter()
            model, epochs = fit_network(cell, config, scaled, prepared.split, strategy, window)
            for part, origins in parts.items():
                network = network_forecasts(model, scaled, origins, window, config.max_horizon, strategy)
                forecasts[part][variant(cell, strategy, window)] = prepared.scaler.inverse(network)
            file_name = model_file(name, cell, strategy, window)
            model.save(Path(models_dir) / file_name)
            if cell == "lstm":
                lstm[strategy] = model
            seconds = round(time.perf_counter() - started, 1)
            trained[variant(cell, strategy, window)] = {
                "file": file_name,
                "epochs": epochs,
                "training_seconds": seconds,
            }
            report(f"{name}: W = {window}, {cell} {strategy} trained in {seconds} s ({epochs} epochs)")
    return forecasts, trained, lstm


def occlusion_table(model, strategy: str, prepared: Prepared, origins: np.ndarray, window: int) -> np.ndarray:
    """For each origin, each of the series' horizons h and each step t of the window: the forecast h steps ahead
    minus the forecast with step t's value replaced by the window's last value, in the series' unit
    (origins, horizons, W). The page shows it for the origins its slider offers."""
    config = prepared.series.config
    scaled_windows = forecasting.windows(prepared.scaled, origins, window)
    batch = np.concatenate([forecast_inspect.occluded(row) for row in scaled_windows])  # (origins · (W + 1), W)
    paths = window_forecasts(model, batch, config.max_horizon, strategy).reshape(len(origins), window + 1, -1)
    at_horizons = paths[:, :, np.asarray(config.horizons) - 1]  # (origins, W + 1, horizons)
    effects = (at_horizons[:, :1, :] - at_horizons[:, 1:, :]) * prepared.scaler.scale  # (origins, W, horizons)
    return effects.transpose(0, 2, 1)


def slider_origins(test_origins: np.ndarray, config: forecasting.SeriesConfig) -> np.ndarray:
    """The test-period origins the page's slider offers: every 4th week, or every year."""
    return test_origins[:: 4 if config.step == "week" else 1]


def choose_strategies(validation_scores: dict, window: int) -> dict[str, str]:
    """Each cell's strategy at `window`: the one with the lower mean MASE on validation."""
    return {
        cell: min(STRATEGIES, key=lambda strategy: mean_mase(validation_scores[variant(cell, strategy, window)]))
        for cell in RECURRENT_NAMES
    }


def choose_window(by_window: dict[str, dict]) -> int:
    """The W whose three networks (each with its chosen strategy) have the lowest mean validation MASE."""
    return min(
        (int(window) for window in by_window),
        key=lambda window: np.mean([mean_mase(by_window[str(window)]["validation"][cell]) for cell in RECURRENT_NAMES]),
    )


def window_entry(prepared: Prepared, window: int, forecasts: dict, trained: dict) -> dict:
    """One W's choices and scores: each cell's strategy (validation), validation and test scores of every network,
    and under the cell's own name those of its chosen strategy."""
    variants = [variant(cell, strategy, window) for cell in RECURRENT_NAMES for strategy in STRATEGIES]
    validation = score(prepared, {name: forecasts["validation"][name] for name in variants}, "validation")
    chosen = choose_strategies(validation, window)
    for part in forecasts:  # each cell under its own name, with the strategy chosen on validation
        forecasts[part].update({cell: forecasts[part][variant(cell, chosen[cell], window)] for cell in RECURRENT_NAMES})
    validation |= {cell: validation[variant(cell, chosen[cell], window)] for cell in RECURRENT_NAMES}
    test = score(prepared, {cell: forecasts["test"][cell] for cell in RECURRENT_NAMES}, "test")
    return {"chosen_strategy": chosen, "trained": trained, "validation": validation, "test": test}


def evaluate_series(name: str, models_dir: Path, report: Callable[[str], None]) -> tuple[dict, dict]:
    """Train the networks of a series at every W, fit its baselines, score all, choose W and each cell's strategy
    on validation; (metrics entry, arrays for the page)."""
    prepared = prepare(name)
    config, values = prepared.series.config, prepared.series.values
    parts = {part: forecasting.origins_for(prepared.split, part, config) for part in ("validation", "test")}
    validation_span = prepared.split.part("validation")
    arrays: dict[str, np.ndarray] = {f"{name}__test_origins": parts["test"]}

    def keep(prefix: str, forecasts: dict[str, dict[str, np.ndarray]], models: tuple[str, ...]) -> None:
        for model in models:  # the test forecasts and the validation residual bands the page draws
            arrays[f"{prefix}{model}__test"] = forecasts["test"][model]
            arrays[f"{prefix}{model}__bands"] = forecasting.residual_bands(
                forecasts["validation"][model], prepared.series, parts["validation"], validation_span
            )

    by_window: dict[str, dict] = {}
    for window in config.windows:
        forecasts, trained, lstm = train_window(prepared, window, parts, models_dir, report)
        by_window[str(window)] = window_entry(prepared, window, forecasts, trained)
        keep(f"{name}__w{window}__", forecasts, RECURRENT_NAMES)
        strategy = by_window[str(window)]["chosen_strategy"]["lstm"]
        origins = slider_origins(parts["test"], config)
        arrays[f"{name}__w{window}__lstm__occlusion"] = occlusion_table(
            lstm[strategy], strategy, prepared, origins, window
        )
    parameters = baseline_parameters(prepared)
    baselines: dict[str, dict[str, np.ndarray]] = {part: {} for part in parts}
    for baseline in BASELINE_NAMES[name]:
        forecast_one = baseline_forecaster(baseline, parameters, config.period)
        for part, origins in parts.items():
            baselines[part][baseline] = forecasting.rolling_forecasts(forecast_one, values, origins, config.max_horizon)
    keep(f"{name}__", baselines, BASELINE_NAMES[name])
    window = choose_window(by_window)
    served = by_window[str(window)]
    entry = {
        "unit": config.unit,
        "windows": list(config.windows),
        "window": window,
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
        "chosen_strategy": served["chosen_strategy"],
        "by_window": by_window,
        "validation": {cell: served["validation"][cell] for cell in RECURRENT_NAMES}
        | score(prepared, baselines["validation"], "validation"),
        "test": served["test"] | score(prepared, baselines["test"], "test"),
    }
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
        entry["file"]
        for name in forecasting.SERIES_NAMES
        for window in metrics[name]["by_window"].values()
        for entry in window["trained"].values()
    ]
    stale = set(forecaster_files(models.read_manifest(models_dir))) - set(files)
    models.update_manifest(models_dir, lambda manifest: record_forecasters(manifest, models_dir, metrics, files))
    for file_name in stale:  # an earlier run's networks (another W or file scheme), no longer in the manifest
        (models_dir / file_name).unlink(missing_ok=True)
    return metrics


def record_forecasters(manifest: dict, models_dir: Path, metrics: dict, files: list[str]) -> None:
    """The manifest's "forecasters" section (files and held-out test scores) and the files' sha256."""
    from rnndemo import models

    for file_name in set(forecaster_files(manifest)) - set(files):
        manifest.get("files", {}).pop(file_name, None)
    for file_name in files:
        manifest.setdefault("files", {})[file_name] = models.sha256_file(Path(models_dir) / file_name)
    manifest["forecasters"] = {
        name: {
            model: {
                "files": [
                    window["trained"][variant(model, strategy, int(width))]["file"]
                    for width, window in metrics[name]["by_window"].items()
                    for strategy in STRATEGIES
                ]
                if model in RECURRENT_NAMES
                else [METRICS_FILE],
                "strategy": metrics[name]["chosen_strategy"].get(model),
                "window": metrics[name]["window"] if model in RECURRENT_NAMES else None,
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
