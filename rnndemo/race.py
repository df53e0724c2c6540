"""Train it yourself: SimpleRNN, LSTM and GRU race on a task built to need memory.

The lesson's two claims, "a plain RNN has a short memory" and "recurrent networks are slow to
train", are measured here live. Each task is a batch of sequences of T steps whose answer depends
on what came T steps before the end (or, for the contrast task, on the first step only):

- `adding`, Hochreiter & Schmidhuber's adding problem: each step is (value in [0, 1), marker).
  Two steps are marked, one among the first 10 and one in the second half; the target is the sum
  of the two marked values. Predicting the training mean scores MSE ≈ 1/6.
- `recall`: every step is one of 8 symbols (one-hot) and a marker; one step among the first 10 is
  marked, and the target is its symbol (one-hot, 8 outputs). The network has to store 3 bits when it
  sees the marker and keep them through T − 10 or more steps of other symbols. (With blank steps
  instead of other symbols, a SimpleRNN solved it fastest in a probe while choosing the task:
  nothing has to be ignored.)
- `first_token`, the contrast: every step is one of 10 symbols; the target is 1 when the first one
  is in the upper half. A plain RNN can latch one bit, so this does not separate the cells the
  lesson's way (docs/TEACHING.md has the measured race).

Every task is scored by mean squared error against its targets, and its chance level is the MSE of
always predicting the training targets' mean (computed on the test targets, not assumed).

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
from rnndemo.registry import DISPLAY_NAMES, RECURRENT_KINDS, RECURRENT_NAMES

CELLS: tuple[str, ...] = RECURRENT_NAMES  # "rnn", "lstm", "gru"
ADDING_FIRST_WINDOW = 10  # the adding problem's first marker is among the first 10 steps
RECALL_SYMBOLS = 8  # symbols of the recall task (3 bits to keep)
FIRST_TOKEN_SYMBOLS = 10  # symbols of the first-token task
MIN_LAG, MAX_LAG = 2, 400  # T: two halves at least; 400 keeps 8,192 recall sequences under 120 MB
MAX_SECONDS = 600.0  # a budget per cell beyond ten minutes is a mistake, not a lesson
MAX_UNITS = 256


@dataclass(frozen=True)
class Task:
    """One race task: what a visitor reads about it."""

    name: str  # the key in the CLI, JSON and the page
    title: str  # what visitors read
    description: str  # one sentence: what the input is and what the target is


TASKS: dict[str, Task] = {
    "adding": Task(
        "adding",
        "Adding problem",
        "Each step is a number in [0, 1) and a marker; add the two marked numbers, "
        "one among the first 10 steps and one in the second half.",
    ),
    "recall": Task(
        "recall",
        "Recall the marked symbol",
        f"Every step shows one of {RECALL_SYMBOLS} symbols; one among the first 10 steps is marked; "
        "name the marked symbol at the end.",
    ),
    "first_token": Task(
        "first_token",
        "First token (contrast)",
        f"Every step is one of {FIRST_TOKEN_SYMBOLS} symbols; say whether the first one is in the upper half.",
    ),
}


@dataclass(frozen=True)
class RaceConfig:
    """One race: the task, the cells and the budget they share."""

    task: str = "adding"  # a key of TASKS
    lag: int = 50  # T, the steps of every sequence
    cells: tuple[str, ...] = CELLS  # which recurrent layers race
    units: int = 32  # recurrent units of every cell
    seconds: float = 20.0  # wall-clock training budget of each cell: its own steps after the first (which compiles)
    steps: int | None = None  # also a step budget per cell, whichever ends first (deterministic: tests, benchmarks)
    seed: int = 0  # seeds the data, each cell's initial weights and batch order
    batch_size: int = 128  # sequences per gradient step
    learning_rate: float = 3e-3  # Adam
    clip_norm: float = 1.0  # gradient clipping by norm: keeps the SimpleRNN from blowing up
    train_sequences: int = 8_192  # training set, drawn once per race
    test_sequences: int = 1_024  # held-out set: every curve point and the final error
    points: int = 30  # held-out evaluations per cell, evenly spaced over its budget, and one before step 1

    def __post_init__(self) -> None:
        problem = config_problem(self)
        if problem:
            raise ValueError(problem)


def config_problem(config: RaceConfig) -> str | None:
    """What is wrong with a race's settings, as a sentence that says what to do; None when they are fine."""
    if config.task not in TASKS:
        return f"unknown task {config.task!r}; choose one of {', '.join(TASKS)}"
    if not MIN_LAG <= config.lag <= MAX_LAG:
        return f"the lag T must be between {MIN_LAG} and {MAX_LAG} steps, not {config.lag}"
    unknown = [cell for cell in config.cells if cell not in CELLS]
    if unknown or not config.cells or len(set(config.cells)) != len(config.cells):
        return f"cells must be distinct names among {', '.join(CELLS)}, not {','.join(config.cells) or 'none'}"
    if not 1 <= config.units <= MAX_UNITS:
        return f"units must be between 1 and {MAX_UNITS}, not {config.units}"
    if not (math.isfinite(config.seconds) and 0 < config.seconds <= MAX_SECONDS):
        return f"the budget must be above 0 and at most {MAX_SECONDS:g} seconds per cell, not {config.seconds}"
    if config.steps is not None and config.steps < 1:
        return f"the step budget must be at least 1, not {config.steps}"
    if not 1 <= config.batch_size <= config.train_sequences:
        return "the batch size must be at least 1 and at most the number of training sequences"
    if config.test_sequences < 1 or config.points < 1:
        return "there must be at least one test sequence and one curve point"
    return None


# Generators -----------------------------------------------------------------------------------------------------


def adding_problem(count: int, lag: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`count` adding-problem sequences: inputs (count, lag, 2) of (value, marker), targets (count, 1)."""
    values = rng.random((count, lag))
    half = lag // 2
    first = rng.integers(0, min(ADDING_FIRST_WINDOW, half), count)  # never in the second half, even for a small T
    second = rng.integers(half, lag, count)
    markers = np.zeros((count, lag))
    rows = np.arange(count)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    inputs = np.stack([values, markers], axis=-1)  # (count, lag, 2)
    targets = values[rows, first] + values[rows, second]
    return inputs.astype(np.float32), targets[:, None].astype(np.float32)


def recall_problem(count: int, lag: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`count` recall sequences: every step a one-hot symbol and a marker, one step among the first 10 marked
    (count, lag, 9); targets the marked step's symbol, one-hot (count, 8)."""
    symbols = rng.integers(0, RECALL_SYMBOLS, (count, lag))
    marked = rng.integers(0, min(ADDING_FIRST_WINDOW, lag // 2), count)
    rows = np.arange(count)
    inputs = np.zeros((count, lag, RECALL_SYMBOLS + 1), dtype=np.float32)
    inputs[:, :, :RECALL_SYMBOLS] = np.eye(RECALL_SYMBOLS, dtype=np.float32)[symbols]
    inputs[rows, marked, RECALL_SYMBOLS] = 1.0
    targets = np.eye(RECALL_SYMBOLS, dtype=np.float32)[symbols[rows, marked]]
    return inputs, targets


def first_token_problem(count: int, lag: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`count` sequences of one-hot symbols (count, lag, 10); target 1 when the first symbol is 5 or more (count, 1)."""
    symbols = rng.integers(0, FIRST_TOKEN_SYMBOLS, (count, lag))
    inputs = np.eye(FIRST_TOKEN_SYMBOLS, dtype=np.float32)[symbols]  # (count, lag, symbols)
    targets = (symbols[:, 0] >= FIRST_TOKEN_SYMBOLS // 2).astype(np.float32)
    return inputs, targets[:, None]


GENERATORS: dict[str, Callable[[int, int, np.random.Generator], tuple[np.ndarray, np.ndarray]]] = {
    "adding": adding_problem,
    "recall": recall_problem,
    "first_token": first_token_problem,
}


@dataclass(frozen=True)
class TaskData:
    """A race's sequences, drawn once: every cell trains and is scored on the same ones."""

    train_inputs: np.ndarray  # (train_sequences, lag, features)
    train_targets: np.ndarray  # (train_sequences, outputs)
    test_inputs: np.ndarray  # (test_sequences, lag, features)
    test_targets: np.ndarray  # (test_sequences, outputs)
    chance_mse: float  # test MSE of always predicting the training targets' mean


def make_task(task: str, lag: int, seed: int, train_sequences: int = 8_192, test_sequences: int = 1_024) -> TaskData:
    """Training and test sequences of `task` (the test set drawn after the training set, from one seed)."""
    rng = np.random.default_rng(seed)
    train_inputs, train_targets = GENERATORS[task](train_sequences, lag, rng)
    test_inputs, test_targets = GENERATORS[task](test_sequences, lag, rng)
    return TaskData(train_inputs, train_targets, test_inputs, test_targets, chance_mse(train_targets, test_targets))


def chance_mse(train_targets: np.ndarray, test_targets: np.ndarray) -> float:
    """The test MSE of a model that ignores its input and predicts the training mean."""
    mean = np.asarray(train_targets, dtype=np.float64).mean(axis=0)
    return float(np.mean((np.asarray(test_targets, dtype=np.float64) - mean) ** 2))


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
