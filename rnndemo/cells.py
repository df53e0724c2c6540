"""The cell equations of Keras's SimpleRNN, LSTM and GRU in numpy: one step, or a whole sequence.

The weights are a layer's own `get_weights()`: kernel W (input_dim, gates · units), recurrent kernel U
(units, gates · units) and bias b (gates · units,). Keras packs the gates side by side, in the order
LSTM i, f, c (the candidate, called g here), o and GRU z, r, h (the candidate h̃). The GRU is Keras's
default (`reset_after=True`): its bias has two rows, row 0 added to W·x_t and row 1 to U·h_(t−1), and
the reset gate multiplies the state's whole term, U_h·h_(t−1) + b'_h.

    SimpleRNN  h_t = tanh(W·x_t + U·h_(t−1) + b)
    LSTM       i, f, o = σ(W·x_t + U·h_(t−1) + b) of their blocks, g = tanh(... of its block);
               c_t = f·c_(t−1) + i·g;  h_t = o·tanh(c_t)
    GRU        z, r = σ(W·x_t + b + U·h_(t−1) + b') of their blocks;
               h̃ = tanh(W_h·x_t + b_h + r·(U_h·h_(t−1) + b'_h));  h_t = z·h_(t−1) + (1 − z)·h̃

`rnndemo.stepper` fills the Inside page's equations from these steps. The tests use them as the oracle for
the TensorFlow paths in `rnndemo.inspect`, and check them against Keras layers' own outputs
(tests/test_cells.py), so the oracle is checked independently of the code it judges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GATE_COUNTS = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}  # blocks of columns in each layer's kernel
Array = np.ndarray  # float64 or float32 values; each function says their shapes


@dataclass(frozen=True)
class SimpleRNNStep:
    """One SimpleRNN step, each field (units,) or (batch, units)."""

    from_input: np.ndarray  # W·x_t
    from_state: np.ndarray  # U·h_(t−1)
    bias: np.ndarray  # b
    total: np.ndarray  # W·x_t + U·h_(t−1) + b, tanh's argument
    hidden: np.ndarray  # h_t


@dataclass(frozen=True)
class LSTMStep:
    """One LSTM step, each field (units,) or (batch, units)."""

    input_gate: np.ndarray  # i: how much of the candidate is written
    forget_gate: np.ndarray  # f: how much of c_(t−1) is kept
    candidate: np.ndarray  # g: the candidate cell values, in (−1, 1)
    output_gate: np.ndarray  # o: how much of tanh(c_t) shows in h_t
    cell: np.ndarray  # c_t
    hidden: np.ndarray  # h_t


@dataclass(frozen=True)
class GRUStep:
    """One GRU step, each field (units,) or (batch, units)."""

    update_gate: np.ndarray  # z: how much of h_(t−1) is kept
    reset_gate: np.ndarray  # r: how much of the state's term reaches the candidate
    candidate: np.ndarray  # h̃, in (−1, 1)
    hidden: np.ndarray  # h_t


def sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-values))


def _columns(kernel: np.ndarray, gates: int, units: np.ndarray | None) -> list[np.ndarray]:
    """The kernel columns of each gate block for `units` (all units when None)."""
    width = kernel.shape[-1] // gates
    chosen = np.arange(width) if units is None else np.asarray(units, dtype=np.int64)
    return [chosen + block * width for block in range(gates)]


def _chosen(values: np.ndarray, units: np.ndarray | None) -> np.ndarray:
    return values if units is None else values[..., np.asarray(units, dtype=np.int64)]


def simple_rnn_step(
    x_t: Array, h_previous: Array, kernel: Array, recurrent_kernel: Array, bias: Array, units: Array | None = None
) -> SimpleRNNStep:
    """One step for `units` (default all). x_t (input_dim,) and h_previous (all units,), or both with a batch axis."""
    (columns,) = _columns(kernel, 1, units)
    from_input = x_t @ kernel[:, columns]
    from_state = h_previous @ recurrent_kernel[:, columns]  # every unit feeds every unit through U
    total = from_input + from_state + bias[columns]
    return SimpleRNNStep(from_input, from_state, bias[columns], total, np.tanh(total))


def lstm_step(
    x_t: Array,
    h_previous: Array,
    c_previous: Array,
    kernel: Array,
    recurrent_kernel: Array,
    bias: Array,
    units: Array | None = None,
) -> LSTMStep:
    """One step for `units` (default all); c_previous is the cell at those units only."""
    blocks = [
        x_t @ kernel[:, columns] + h_previous @ recurrent_kernel[:, columns] + bias[columns]
        for columns in _columns(kernel, 4, units)
    ]
    input_gate, forget_gate, output_gate = sigmoid(blocks[0]), sigmoid(blocks[1]), sigmoid(blocks[3])
    candidate = np.tanh(blocks[2])
    cell = forget_gate * c_previous + input_gate * candidate
    return LSTMStep(input_gate, forget_gate, candidate, output_gate, cell, output_gate * np.tanh(cell))


def gru_step(
    x_t: Array, h_previous: Array, kernel: Array, recurrent_kernel: Array, bias: Array, units: Array | None = None
) -> GRUStep:
    """One step for `units` (default all) of Keras's default GRU (reset_after=True, bias of shape (2, 3 · units))."""
    if np.ndim(bias) != 2:
        raise ValueError("only Keras's default GRU (reset_after=True: a bias of shape (2, 3 · units)) is supported")
    blocks = _columns(kernel, 3, units)
    from_input = [x_t @ kernel[:, columns] + bias[0][columns] for columns in blocks]
    from_state = [h_previous @ recurrent_kernel[:, columns] + bias[1][columns] for columns in blocks]
    update_gate = sigmoid(from_input[0] + from_state[0])
    reset_gate = sigmoid(from_input[1] + from_state[1])
    candidate = np.tanh(from_input[2] + reset_gate * from_state[2])
    hidden = update_gate * _chosen(h_previous, units) + (1 - update_gate) * candidate
    return GRUStep(update_gate, reset_gate, candidate, hidden)


@dataclass(frozen=True)
class LayerRun:
    """A layer run over a sequence from zero states: every step's numbers, and the states stacked over time."""

    hidden: np.ndarray  # (time, units): h_t
    cell: np.ndarray | None  # (time, units): c_t, LSTM only
    steps: tuple  # one SimpleRNNStep, LSTMStep or GRUStep per token

    def stacked(self, field: str) -> np.ndarray:
        """One field of every step, (time, units), e.g. stacked("forget_gate")."""
        return np.array([getattr(step, field) for step in self.steps]).reshape(self.hidden.shape)


def run_sequence(layer_name: str, inputs: np.ndarray, kernel: Array, recurrent_kernel: Array, bias: Array) -> LayerRun:
    """A "SimpleRNN", "LSTM" or "GRU" layer over `inputs` (time, input_dim), from zero states, in float64."""
    if layer_name not in GATE_COUNTS:
        raise ValueError(f"no cell equation for a {layer_name} layer; known: {', '.join(GATE_COUNTS)}")
    weights = [np.asarray(weight, dtype=np.float64) for weight in (kernel, recurrent_kernel, bias)]
    units = weights[0].shape[1] // GATE_COUNTS[layer_name]
    hidden, cell, steps = np.zeros(units), np.zeros(units), []
    for x_t in np.asarray(inputs, dtype=np.float64):
        if layer_name == "LSTM":
            step = lstm_step(x_t, hidden, cell, *weights)
            cell = step.cell
        elif layer_name == "GRU":
            step = gru_step(x_t, hidden, *weights)
        else:
            step = simple_rnn_step(x_t, hidden, *weights)
        hidden = step.hidden
        steps.append(step)
    hidden_rows = np.array([step.hidden for step in steps]).reshape(len(steps), units)  # (time, units), also for 0
    cell_rows = np.array([step.cell for step in steps]).reshape(len(steps), units) if layer_name == "LSTM" else None
    return LayerRun(hidden_rows, cell_rows, tuple(steps))
