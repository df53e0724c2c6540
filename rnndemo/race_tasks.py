"""The race's memory tasks: seeded batches of sequences of T steps whose answer depends on what came T steps
before the end (or, for the contrast task, on the first step only), and the race's settings (`RaceConfig`).

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
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rnndemo.registry import RECURRENT_NAMES

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
