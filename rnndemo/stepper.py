"""One step of a recurrent layer with its numbers filled in: what the inside page's stepper shows.

At token t the layer reads the token's embedding row x_t and its previous state h_(t−1) (and, for the
LSTM, its cell c_(t−1)). `step_equation` takes h_(t−1) and c_(t−1) from the model's own inspection,
recomputes the step from the layer's weights for a few units (the equations of `rnndemo.cells`), and returns
every intermediate number. The tests check that the h_t it arrives at is the model's own h_t, and that every
part matches the numpy oracle in tests/reference.py (rnndemo.cells, itself checked against Keras's layers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnndemo import cells
from rnndemo.inspect import Inspection

SHOWN_UNITS = 4  # units per equation: enough to see them differ, few enough to read
SHOWN_EMBEDDING_NUMBERS = 8  # of x_t's numbers, the first few

# Column names, in reading order, for each layer's table (one row per unit j).
PREVIOUS_STATE = "hₜ₋₁"
STATE = "hₜ"
SIMPLE_RNN_COLUMNS = (PREVIOUS_STATE, "(W·xₜ)ⱼ", "(U·hₜ₋₁)ⱼ", "bⱼ", "sum", STATE)
LSTM_COLUMNS = (PREVIOUS_STATE, "cₜ₋₁", "i", "f", "g", "o", "cₜ", STATE)
GRU_COLUMNS = (PREVIOUS_STATE, "z", "r", "h̃", STATE)
COLUMNS = {"SimpleRNN": SIMPLE_RNN_COLUMNS, "LSTM": LSTM_COLUMNS, "GRU": GRU_COLUMNS}
EQUATIONS = {
    "SimpleRNN": "hₜ = tanh(W·xₜ + U·hₜ₋₁ + b); the sum column is W·xₜ + U·hₜ₋₁ + b",
    "LSTM": (
        "i = σ(W_i·xₜ + U_i·hₜ₋₁ + b_i), f, o likewise, g = tanh(W_g·xₜ + U_g·hₜ₋₁ + b_g); "
        "cₜ = f·cₜ₋₁ + i·g; hₜ = o·tanh(cₜ)"
    ),
    "GRU": (
        "z = σ(W_z·xₜ + U_z·hₜ₋₁ + b_z), r likewise, h̃ = tanh(W_h·xₜ + b_h + r·(U_h·hₜ₋₁ + b'_h)); "
        "hₜ = z·hₜ₋₁ + (1 − z)·h̃"
    ),
}


@dataclass(frozen=True)
class StepEquation:
    """Everything one step computed, for a few units, with the numbers that went in."""

    layer: str  # "SimpleRNN", "LSTM" or "GRU"
    step: int  # t, counted from 0
    token: str
    token_id: int
    embedding: np.ndarray  # (embedding_dim,): x_t, the token's row of the model's embedding
    units: tuple[int, ...]  # the units j shown, one table row each
    terms: dict[str, np.ndarray]  # column name -> (len(units),) values, in the order of COLUMNS[layer]
    probability: float  # the running prediction after this token

    @property
    def equation(self) -> str:
        return EQUATIONS[self.layer]

    def rows(self) -> list[dict]:
        """One dict per unit: {"unit": j, column: value, ...}, ready for a table."""
        return [
            {"unit": unit} | {name: float(values[row]) for name, values in self.terms.items()}
            for row, unit in enumerate(self.units)
        ]


def units_that_changed_most(hidden: np.ndarray, step: int, count: int = SHOWN_UNITS) -> tuple[int, ...]:
    """The `count` units whose state moved most at `step` (|h_t − h_(t−1)|, with h_(−1) = 0), largest first."""
    previous = hidden[step - 1] if step > 0 else np.zeros(hidden.shape[1])
    change = np.abs(np.asarray(hidden[step], dtype=np.float64) - previous)
    return tuple(int(unit) for unit in np.argsort(-change, kind="stable")[:count])


def step_terms(
    layer_name: str, x_t, h_previous, c_previous, kernel, recurrent_kernel, bias, units: np.ndarray
) -> dict[str, np.ndarray]:
    """Every number of one step of a SimpleRNN, LSTM or GRU layer from its weights, for `units`, by column name.

    x_t is (input_dim,) and h_previous (all units,), or both with a leading batch axis: (batch, input_dim) and
    (batch, all units); c_previous is the LSTM's cell at `units` only (ignored by the others).
    """
    weights = (kernel, recurrent_kernel, bias)
    shown = h_previous[..., units]
    if layer_name == "SimpleRNN":
        step = cells.simple_rnn_step(x_t, h_previous, *weights, units=units)
        values = (shown, step.from_input, step.from_state, step.bias, step.total, step.hidden)
    elif layer_name == "LSTM":
        step = cells.lstm_step(x_t, h_previous, c_previous, *weights, units=units)
        gates = (step.input_gate, step.forget_gate, step.candidate, step.output_gate)
        values = (shown, c_previous, *gates, step.cell, step.hidden)
    elif layer_name == "GRU":
        step = cells.gru_step(x_t, h_previous, *weights, units=units)
        values = (shown, step.update_gate, step.reset_gate, step.candidate, step.hidden)
    else:
        raise ValueError(f"no step equation for a {layer_name} layer")
    return dict(zip(COLUMNS[layer_name], values, strict=True))


def step_equation(classifier, inspection: Inspection, step: int, units: tuple[int, ...] | None = None) -> StepEquation:
    """The step at token `step` (from 0) for `units` (default: the units that changed most there).

    h_(t−1) and c_(t−1) are the model's own states from `inspection`; everything else is recomputed
    from the classifier's embedding and recurrent weights, in float64.
    """
    if not 0 <= step < len(inspection.ids):
        raise ValueError(f"step {step} is outside the text's {len(inspection.ids)} tokens (count from 0)")
    units = units_that_changed_most(inspection.hidden, step) if units is None else tuple(units)
    layer = classifier.model.get_layer("recurrent")
    layer_name = type(layer).__name__
    if layer_name not in COLUMNS:
        raise ValueError(f"no step equation for a {layer_name} layer")
    token_id = int(inspection.ids[step])
    x_t = np.asarray(classifier.model.get_layer("embedding").get_weights()[0][token_id], dtype=np.float64)
    kernel, recurrent_kernel, bias = (np.asarray(weight, dtype=np.float64) for weight in layer.get_weights())
    selected = np.asarray(units, dtype=np.int64)
    # The layers start from zeros. All of h_(t−1) is needed (every unit feeds every unit through U).
    h_previous = np.zeros(inspection.hidden.shape[1]) if step == 0 else inspection.hidden[step - 1].astype(np.float64)
    c_previous = None
    if layer_name == "LSTM":
        c_previous = np.zeros(len(selected)) if step == 0 else inspection.cell[step - 1][selected].astype(np.float64)
    terms = step_terms(layer_name, x_t, h_previous, c_previous, kernel, recurrent_kernel, bias, selected)
    return StepEquation(
        layer_name,
        step,
        inspection.tokens[step],
        token_id,
        x_t,
        units,
        terms,
        float(inspection.trajectory[step]),
    )


def clamp_step(step: int, length: int) -> int:
    """A step inside a text of `length` tokens (0 for an empty one)."""
    return int(min(max(step, 0), max(length - 1, 0)))


SIGMOID_GATES = ("input", "forget", "output", "update", "reset")  # the gates in [0, 1]; the candidates are tanh


@dataclass(frozen=True)
class GateAtStep:
    """One σ gate at token t: its mean over every unit, and the value of one chosen unit (if any)."""

    gate: str
    mean: float
    unit_value: float | None


def gates_at_step(gates: dict[str, np.ndarray] | None, step: int, unit: int | None = None) -> list[GateAtStep]:
    """The σ gates of one model at token `step` (from 0), in the layer's order; none for a model without gates."""
    if not gates:
        return []
    return [
        GateAtStep(
            gate=gate,
            mean=float(np.mean(gates[gate][step])),
            unit_value=None if unit is None else float(gates[gate][step, unit]),
        )
        for gate in gates
        if gate in SIGMOID_GATES
    ]


def token_window(length: int, step: int, radius: int) -> tuple[int, int]:
    """The tokens within `radius` of `step`, as (start, stop); near either end the window shifts so that it
    still holds 2·radius + 1 tokens (or the whole text, if shorter)."""
    width = min(length, 2 * radius + 1)
    start = min(max(0, step - radius), length - width)
    return start, start + width
