"""Train it yourself: SimpleRNN, LSTM and GRU race on a task built to need memory.

The lesson's two claims, "a plain RNN has a short memory" and "recurrent networks are slow to
train", are measured here live. Each task is a batch of sequences of T steps whose answer depends
on what came T steps before the end (or, for the contrast task, on the first step only). The tasks, their
chance levels and the race's settings are in `rnndemo.race_tasks`.

The race trains the chosen cells round-robin, one batch each in turn, so their curves grow together;
each cell's own training seconds are counted apart and each stops at the same budget. Progress is
reported through the `progress` seam, and a stop signal is checked between batches. For a seed and a
step budget the race is deterministic; a wall-clock budget is not (a faster machine trains more steps).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from rnndemo.progress import ProgressCallback, TrainingEvent
from rnndemo.race_tasks import (
    CELLS,
    TASKS,
    RaceConfig,
    TaskData,
    make_task,
)
from rnndemo.registry import DISPLAY_NAMES, RECURRENT_KINDS

# Results -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CurvePoint:
    """One held-out evaluation of one cell during the race."""

    step: int  # gradient steps so far
    seconds: float  # the cell's own training seconds so far (its first step, which compiles, is not timed)
    train_loss: float  # mean training loss of the batches since the previous point
    test_mse: float  # on the whole test set


@dataclass(frozen=True)
class CellResult:
    """One cell at the end of its race."""

    name: str  # "rnn", "lstm" or "gru"
    test_mse: float  # held out, after the last step
    steps: int
    seconds: float  # its own training seconds
    curve: tuple[CurvePoint, ...]

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class RaceResult:
    """A finished (or stopped) race, shaped for `rnndemo race --json`."""

    task: str
    lag: int
    chance_mse: float
    cells: dict[str, CellResult]
    stopped: bool = False  # True when the stop signal ended it before the budget

    def to_json(self) -> dict:
        """{"task", "lag", "chance_mse", "models": {cell: {"test_mse", "steps", "seconds", "curve"}}}."""
        return {
            "task": self.task,
            "lag": self.lag,
            "chance_mse": round(self.chance_mse, 6),
            "models": {
                name: {
                    "test_mse": round(cell.test_mse, 6),
                    "steps": cell.steps,
                    "seconds": round(cell.seconds, 3),
                    "curve": [point_json(point) for point in cell.curve],
                }
                for name, cell in self.cells.items()
            },
        }


def point_json(point: CurvePoint) -> dict:
    return {
        "step": point.step,
        "seconds": round(point.seconds, 3),
        "train_loss": round(point.train_loss, 6),
        "test_mse": round(point.test_mse, 6),
    }


def result_from_json(payload: dict) -> RaceResult:
    """The inverse of `RaceResult.to_json` (what a worker process sends back)."""
    cells = {
        name: CellResult(
            name,
            float(values["test_mse"]),
            int(values["steps"]),
            float(values["seconds"]),
            tuple(CurvePoint(**point) for point in values["curve"]),
        )
        for name, values in payload["models"].items()
    }
    return RaceResult(payload["task"], int(payload["lag"]), float(payload["chance_mse"]), cells)


# Training -----------------------------------------------------------------------------------------------------


def limit_threads() -> None:
    """One TensorFlow thread (call before any TensorFlow op): a race shares its machine with a server.

    The CLI races with the same setting, so its steps per second and the reference sweep are those a
    visitor's race gets.
    """
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # TensorFlow already ran in this process (a test, a notebook): its threads stay
        pass


def warm_up() -> None:
    """Import Keras and start TensorFlow's runtime (a standby worker does it before its race arrives)."""
    import keras  # noqa: F401
    import tensorflow as tf

    tf.constant(1.0) + 1.0  # the first op creates the runtime's thread pools


def build_cell(name: str, config: RaceConfig, features: int, outputs: int) -> Any:
    """A compiled Keras model: one recurrent layer of `config.units` and a linear readout of its last state."""
    import keras
    from keras import layers

    # Each cell's own seed: its start does not depend on which other cells race.
    keras.utils.set_random_seed(cell_seed(config.seed, name))
    sequences = keras.Input(shape=(config.lag, features), name="sequence")  # (batch, lag, features)
    state = getattr(layers, RECURRENT_KINDS[name])(config.units, name="recurrent")(sequences)  # (batch, units)
    prediction = layers.Dense(outputs, name="readout")(state)  # (batch, outputs)
    model = keras.Model(sequences, prediction, name=f"{name}_race")
    optimizer = keras.optimizers.Adam(config.learning_rate, clipnorm=config.clip_norm)
    model.compile(optimizer=optimizer, loss="mse")
    return model


def cell_seed(seed: int, name: str) -> int:
    return int(np.random.SeedSequence([seed, CELLS.index(name)]).generate_state(1)[0])


@dataclass
class _Cell:
    """The training state of one racing cell (private to one race)."""

    name: str
    model: Any
    forward: Callable[[Any], Any]  # compiled inference: test inputs -> predictions
    rng: np.random.Generator  # its batch order
    order: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    position: int = 0  # the next batch's start in `order`
    steps: int = 0
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)  # since the previous point
    curve: list[CurvePoint] = field(default_factory=list)
    points_due: int = 0  # evaluations done at the budget's evenly spaced fractions


def _new_cell(name: str, config: RaceConfig, data: TaskData) -> _Cell:
    import tensorflow as tf

    features = data.train_inputs.shape[-1]
    model = build_cell(name, config, features, data.train_targets.shape[-1])
    # One trace for every batch size (the first training rows, the test set).
    signature = [tf.TensorSpec(shape=(None, config.lag, features), dtype=tf.float32)]
    forward = tf.function(lambda inputs: model(inputs, training=False), input_signature=signature, autograph=False)
    return _Cell(name, model, forward, np.random.default_rng([config.seed, CELLS.index(name), 1]))


def _train_one_batch(cell: _Cell, data: TaskData, batch_size: int) -> None:
    """One gradient step on the cell's next batch (whole batches only: one compiled shape, no retracing)."""
    if cell.position + batch_size > len(cell.order):
        cell.order, cell.position = cell.rng.permutation(len(data.train_inputs)), 0
    rows = cell.order[cell.position : cell.position + batch_size]
    cell.position += batch_size
    started = time.perf_counter()
    loss = cell.model.train_on_batch(data.train_inputs[rows], data.train_targets[rows])
    if cell.steps:  # the first step also traces and compiles it (~1 s): a fixed cost, not training speed
        cell.seconds += time.perf_counter() - started
    cell.steps += 1
    cell.losses.append(float(loss))


def _progress(cell: _Cell, config: RaceConfig) -> float:
    """How much of its budget the cell has used, from 0 to 1: seconds, or steps when a step budget is set too."""
    used = cell.seconds / config.seconds
    if config.steps is not None:
        used = max(used, cell.steps / config.steps)
    return min(1.0, used)


def held_out_mse(cell: _Cell, data: TaskData) -> float:
    predictions = np.asarray(cell.forward(data.test_inputs), dtype=np.float64)  # (test_sequences, outputs)
    return float(np.mean((predictions - data.test_targets) ** 2))


def _record_point(cell: _Cell, data: TaskData, batch_size: int) -> CurvePoint:
    """Score the test set now; the training loss is the mean over the batches since the previous point."""
    losses, cell.losses = cell.losses, []
    if losses:
        train_loss = float(np.mean(losses))
    else:  # step 0: the loss on the first training rows, before any step
        predictions = np.asarray(cell.forward(data.train_inputs[:batch_size]), dtype=np.float64)
        train_loss = float(np.mean((predictions - data.train_targets[:batch_size]) ** 2))
    point = CurvePoint(cell.steps, cell.seconds, train_loss, held_out_mse(cell, data))
    cell.curve.append(point)
    return point


def _point_due(cell: _Cell, config: RaceConfig) -> bool:
    """At each 1/points of the budget (the last one at its end)."""
    due = math.floor(_progress(cell, config) * config.points)
    if due > cell.points_due:
        cell.points_due = due
        return True
    return False


def _point_event(cell: _Cell, point: CurvePoint, config: RaceConfig) -> TrainingEvent:
    return TrainingEvent(
        "evaluate",
        cell.name,
        f"{DISPLAY_NAMES[cell.name]} step {point.step}: test MSE {point.test_mse:.4f}",
        batch=point.step,
        metrics=point_json(point),
        eta_seconds=max(0.0, config.seconds - cell.seconds),  # the most this cell may still train
    )


def _stop_check(stop: Any) -> Callable[[], bool]:
    """A callable for a stop signal: a threading or multiprocessing Event, a callable, or None."""
    if stop is None:
        return lambda: False
    if hasattr(stop, "is_set"):
        return stop.is_set
    return stop


def run_race(config: RaceConfig, report: ProgressCallback | None = None, stop: Any = None) -> RaceResult:
    """Train the chosen cells round-robin, one batch each in turn, until each has used its budget
    (or `stop` is set); every cell is scored before its first step, so the curves start at once."""
    report = report or (lambda event: None)
    stopped = _stop_check(stop)
    data = make_task(config.task, config.lag, config.seed, config.train_sequences, config.test_sequences)
    report(
        TrainingEvent(
            "data",
            message=f"{config.task}, T = {config.lag}: chance MSE {data.chance_mse:.4f}",
            metrics={"chance_mse": round(data.chance_mse, 6)},  # as the result reports it
        )
    )
    cells = []
    for name in config.cells:
        cells.append(_new_cell(name, config, data))
        report(_point_event(cells[-1], _record_point(cells[-1], data, config.batch_size), config))
    racing = list(cells)
    while racing and not stopped():
        for cell in list(racing):
            _train_one_batch(cell, data, config.batch_size)
            if _point_due(cell, config):
                report(_point_event(cell, _record_point(cell, data, config.batch_size), config))
            if _progress(cell, config) >= 1.0:
                racing.remove(cell)
                report(TrainingEvent("done", cell.name, f"{DISPLAY_NAMES[cell.name]} used its budget"))
            if stopped():
                break
    return _result(config, data, cells, stopped=bool(racing))


def _result(config: RaceConfig, data: TaskData, cells: list[_Cell], stopped: bool) -> RaceResult:
    """Each cell's result; a cell stopped between points is scored once more, so its error is its last step's."""
    results = {}
    for cell in cells:
        if not cell.curve or cell.curve[-1].step != cell.steps:
            _record_point(cell, data, config.batch_size)
        final = cell.curve[-1].test_mse
        results[cell.name] = CellResult(cell.name, final, cell.steps, cell.seconds, tuple(cell.curve))
    return RaceResult(config.task, config.lag, data.chance_mse, results, stopped=stopped)


# What happened -------------------------------------------------------------------------------------------------


LEARNED_SHARE = 0.1  # a test MSE below a tenth of chance: the cell learned the task
PARTLY_SHARE = 0.5  # below half of chance: it learned part of it
CHANCE_SHARE = 0.9  # above 90 % of chance: no better than guessing the mean


def verdict(test_mse: float, chance: float) -> str:
    """How far a cell got: "learned the task", "learned part of it", "barely beat chance" or "stayed at chance"."""
    if test_mse <= LEARNED_SHARE * chance:
        return "learned the task"
    if test_mse <= PARTLY_SHARE * chance:
        return "learned part of it"
    if test_mse <= CHANCE_SHARE * chance:
        return "barely beat chance"
    return "stayed at chance"


def describe_race(result: RaceResult, seconds: float) -> str:
    """The "what happened" caption: who learned, how far apart the errors are, and who was fastest per step."""
    cells = result.cells
    if not cells:
        return "No cell trained a single step."
    chance = result.chance_mse
    budget = "until stopped" if result.stopped else f"in {seconds:g} s each"
    groups: dict[str, list[str]] = {}
    for name, cell in cells.items():
        groups.setdefault(verdict(cell.test_mse, chance), []).append(f"{DISPLAY_NAMES[name]} ({cell.test_mse:.4f})")
    parts = [f"the {' and the '.join(names)} {outcome}" for outcome, names in groups.items()]
    sentences = [f"At T = {result.lag}, {budget}: " + "; ".join(parts) + f" (chance {chance:.4f})."]
    if len(cells) > 1:
        best = min(cells.values(), key=lambda cell: cell.test_mse)
        worst = max(cells.values(), key=lambda cell: cell.test_mse)
        if best.test_mse > 0 and worst.test_mse >= 2 * best.test_mse:
            sentences.append(
                f"The {DISPLAY_NAMES[worst.name]}'s error is {worst.test_mse / best.test_mse:.0f}× the "
                f"{DISPLAY_NAMES[best.name]}'s."
            )
        sentences.append(_speed_sentence(cells, best))
    return " ".join(sentences)


def _speed_sentence(cells: dict[str, CellResult], best: CellResult) -> str:
    """Steps per second: the gated cells compute more per step, so the same seconds buy them fewer steps."""
    fastest = max(cells.values(), key=lambda cell: cell.steps_per_second)
    slowest = min(cells.values(), key=lambda cell: cell.steps_per_second)
    sentence = (
        f"The {DISPLAY_NAMES[fastest.name]} made the most steps per second ({fastest.steps_per_second:.0f}), "
        f"the {DISPLAY_NAMES[slowest.name]} the fewest ({slowest.steps_per_second:.0f})"
    )
    if fastest.name != best.name:
        return sentence + f": more steps did not buy the {DISPLAY_NAMES[fastest.name]} a lower error."
    return sentence + f", and the {DISPLAY_NAMES[best.name]} also reached the lowest error."


# The reference sweep -------------------------------------------------------------------------------------------


SWEEP_LAGS = (10, 20, 50, 100, 200)
SWEEP_SEEDS = (0, 1, 2)


SWEEP_DESIGN = (
    "Test MSE after the same wall-clock budget per cell, for T from 10 to 200 and three seeds per cell, "
    "one TensorFlow thread (as a visitor's race): the median of the three seeds, and their range."
)


def run_sweep(
    config: RaceConfig,
    lags: tuple[int, ...] = SWEEP_LAGS,
    seeds: tuple[int, ...] = SWEEP_SEEDS,
    report: ProgressCallback | None = None,
) -> dict:
    """Race every cell at every lag and seed with `config`'s task and budget; the page's reference."""
    started = time.perf_counter()
    runs = []
    for lag in lags:
        for seed in seeds:
            result = run_race(replace(config, lag=lag, seed=seed), report)
            models = {
                name: {"test_mse": round(cell.test_mse, 6), "steps": cell.steps, "seconds": round(cell.seconds, 3)}
                for name, cell in result.cells.items()
            }
            runs.append({"lag": lag, "seed": seed, "chance_mse": round(result.chance_mse, 6), "models": models})
    return {
        "design": SWEEP_DESIGN,
        "task": config.task,
        "seconds": config.seconds,
        "units": config.units,
        "cells": list(config.cells),
        "lags": list(lags),
        "seeds": list(seeds),
        "runs": runs,
        "summary": sweep_summary(runs),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "total_seconds": round(time.perf_counter() - started, 1),
    }


def sweep_summary(runs: list[dict]) -> dict[str, list[dict]]:
    """Per cell and lag: the median, lowest and highest test MSE over the seeds, and the median steps per second."""
    summary: dict[str, list[dict]] = {}
    lags = sorted({run["lag"] for run in runs})
    cells = sorted({name for run in runs for name in run["models"]}, key=CELLS.index)
    for name in cells:
        rows = []
        for lag in lags:
            values = [run["models"][name] for run in runs if run["lag"] == lag and name in run["models"]]
            errors = [value["test_mse"] for value in values]
            rates = [value["steps"] / value["seconds"] for value in values if value["seconds"] > 0]
            rows.append(
                {
                    "lag": lag,
                    "median_test_mse": float(np.median(errors)),
                    "min_test_mse": float(np.min(errors)),
                    "max_test_mse": float(np.max(errors)),
                    "median_chance_mse": float(np.median([run["chance_mse"] for run in runs if run["lag"] == lag])),
                    "median_steps_per_second": round(float(np.median(rates)), 1) if rates else 0.0,
                }
            )
        summary[name] = rows
    return summary


def save_sweep(sweep: dict, path: Path) -> None:
    Path(path).write_text(json.dumps(sweep, indent=1), encoding="utf-8")


def load_sweep(models_dir: Path, manifest: dict) -> dict | None:
    """The verified reference sweep of a models folder; None if it was never computed.

    Raises ModelFileError if the file does not match the manifest's sha256 or is not shaped like a sweep.
    """
    from rnndemo import models

    sweep = models.load_verified_json(models_dir, manifest, models.RACE_SWEEP_FILE, SWEEP_HINT)
    if sweep is None:
        return None
    if not (isinstance(sweep, dict) and isinstance(sweep.get("summary"), dict) and sweep.get("task") in TASKS):
        raise models.ModelFileError(f"{models.RACE_SWEEP_FILE} is not shaped like a race sweep; {SWEEP_HINT}")
    return sweep


SWEEP_HINT = "recompute it with: python -m rnndemo race --sweep"
