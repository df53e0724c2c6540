"""Reference implementations in plain numpy, written from the equations, that golden tests compare the models with."""

from __future__ import annotations

import numpy as np

# Written here, not imported from rnndemo.inspect: the oracle must not take the names from the code it checks.
# Keras's documented kernel orders: LSTM i, f, c, o; GRU z, r, h.
GATE_NAMES = ("input", "forget", "cell_candidate", "output")
GRU_GATE_NAMES = ("update", "reset", "candidate")


def sigmoid(values):
    return 1.0 / (1.0 + np.exp(-values))


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


def numpy_gru(
    embedded: np.ndarray, kernel: np.ndarray, recurrent_kernel: np.ndarray, bias: np.ndarray
) -> tuple[np.ndarray, dict]:
    """Reference GRU as Keras defines it (reset_after=True, bias rows: input, recurrent):
    z = σ(x W_z + b_z + h U_z + b'_z), r = σ(x W_r + b_r + h U_r + b'_r),
    h̃ = tanh(x W_h + b_h + r ⊙ (h U_h + b'_h)), h_t = z ⊙ h_{t−1} + (1 − z) ⊙ h̃.
    Returns h (time, units) and the update, reset and candidate values."""
    units = kernel.shape[1] // 3
    hidden = np.zeros(units)
    collected = {name: [] for name in GRU_GATE_NAMES}
    rows = []
    for x_t in embedded.astype(np.float64):
        from_input = x_t @ kernel + bias[0]
        from_state = hidden @ recurrent_kernel + bias[1]
        update = sigmoid(from_input[:units] + from_state[:units])
        reset = sigmoid(from_input[units : 2 * units] + from_state[units : 2 * units])
        candidate = np.tanh(from_input[2 * units :] + reset * from_state[2 * units :])
        hidden = update * hidden + (1 - update) * candidate
        for name, value in zip(GRU_GATE_NAMES, (update, reset, candidate)):
            collected[name].append(value)
        rows.append(hidden)
    return np.array(rows), {name: np.array(values) for name, values in collected.items()}


def numpy_running_probability(hidden: np.ndarray, dense_kernel: np.ndarray, dense_bias: np.ndarray, readout: str):
    """The classifier's output after each token: σ(w·r_t + b), where r_t is h_t ("last") or mean(h_1..h_t) ("mean")."""
    if readout == "mean":
        hidden = np.cumsum(hidden, axis=0) / np.arange(1, len(hidden) + 1)[:, None]
    return sigmoid(hidden @ dense_kernel[:, 0] + dense_bias[0])
