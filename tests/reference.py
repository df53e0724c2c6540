"""Reference implementations in plain numpy that golden tests compare the models with.

The cell equations are rnndemo.cells (one copy in the project), checked on their own against Keras's layers in
tests/test_cells.py; the TensorFlow paths of rnndemo.inspect never use them, so they are an independent oracle.
"""

from __future__ import annotations

import numpy as np

from rnndemo import cells

# Written here, not imported from rnndemo.inspect: the oracle must not take the names from the code it checks.
# Keras's documented kernel orders: LSTM i, f, c, o; GRU z, r, h.
GATE_NAMES = ("input", "forget", "cell_candidate", "output")
GRU_GATE_NAMES = ("update", "reset", "candidate")


sigmoid = cells.sigmoid


def numpy_simple_rnn(
    embedded: np.ndarray, kernel: np.ndarray, recurrent_kernel: np.ndarray, bias: np.ndarray
) -> np.ndarray:
    """Reference h_t = tanh(x_t W + h_{t-1} U + b) for one sequence (time, embedding_dim)."""
    return cells.run_sequence("SimpleRNN", embedded, kernel, recurrent_kernel, bias).hidden


def numpy_lstm(
    embedded: np.ndarray, kernel: np.ndarray, recurrent_kernel: np.ndarray, bias: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Reference LSTM: returns h (time, units), c (time, units) and the gates i, f, g, o."""
    run = cells.run_sequence("LSTM", embedded, kernel, recurrent_kernel, bias)
    fields = ("input_gate", "forget_gate", "candidate", "output_gate")
    return run.hidden, run.cell, {name: run.stacked(field) for name, field in zip(GATE_NAMES, fields, strict=True)}


def numpy_gru(
    embedded: np.ndarray, kernel: np.ndarray, recurrent_kernel: np.ndarray, bias: np.ndarray
) -> tuple[np.ndarray, dict]:
    """Reference GRU as Keras defines it (reset_after=True): h (time, units) and the update, reset and candidate
    values."""
    run = cells.run_sequence("GRU", embedded, kernel, recurrent_kernel, bias)
    fields = ("update_gate", "reset_gate", "candidate")
    return run.hidden, {name: run.stacked(field) for name, field in zip(GRU_GATE_NAMES, fields, strict=True)}


def numpy_running_probability(hidden: np.ndarray, dense_kernel: np.ndarray, dense_bias: np.ndarray, readout: str):
    """The classifier's output after each token: σ(w·r_t + b), where r_t is h_t ("last") or mean(h_1..h_t) ("mean")."""
    if readout == "mean":
        hidden = np.cumsum(hidden, axis=0) / np.arange(1, len(hidden) + 1)[:, None]
    return sigmoid(hidden @ dense_kernel[:, 0] + dense_bias[0])
