"""Reference implementations in plain numpy, written from the equations, that golden tests compare the models with."""

from __future__ import annotations

import numpy as np

from rnndemo.inspect import GATE_NAMES


def numpy_simple_rnn(
    embedded: np.ndarray, kernel: np.ndarray, recurrent_kernel: np.ndarray, bias: np.ndarray
) -> np.ndarray:
    """Reference h_t = tanh(x_t W + h_{t-1} U + b) for one sequence (time, embedding_dim)."""
    hidden = np.zeros(kernel.shape[1], dtype=np.float64)
    rows = []
    for x_t in embedded.astype(np.float64):
        hidden = np.tanh(x_t @ kernel + hidden @ recurrent_kernel + bias)
        rows.append(hidden)
    return np.array(rows)


def numpy_lstm(
    embedded: np.ndarray, kernel: np.ndarray, recurrent_kernel: np.ndarray, bias: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Reference LSTM: returns h (time, units), c (time, units) and the gates i, f, g, o."""

    def sigmoid(values):
        return 1.0 / (1.0 + np.exp(-values))

    units = kernel.shape[1] // 4
    hidden = np.zeros(units)
    cell = np.zeros(units)
    collected = {name: [] for name in GATE_NAMES}
    hidden_rows, cell_rows = [], []
    for x_t in embedded.astype(np.float64):
        z = x_t @ kernel + hidden @ recurrent_kernel + bias
        input_gate, forget_gate = sigmoid(z[:units]), sigmoid(z[units : 2 * units])
        candidate, output_gate = np.tanh(z[2 * units : 3 * units]), sigmoid(z[3 * units :])
        cell = forget_gate * cell + input_gate * candidate
        hidden = output_gate * np.tanh(cell)
        for name, value in zip(GATE_NAMES, (input_gate, forget_gate, candidate, output_gate)):
            collected[name].append(value)
        hidden_rows.append(hidden)
        cell_rows.append(cell)
    return np.array(hidden_rows), np.array(cell_rows), {name: np.array(values) for name, values in collected.items()}
