"""rnndemo.cells, the oracle of the TensorFlow paths, checked against Keras's own layers: tiny SimpleRNN, LSTM and
GRU layers with large random weights, run by Keras, against the numpy equations. Nothing here is taken from the
code the oracle judges (rnndemo.inspect)."""

import numpy as np
import pytest

from rnndemo import cells

UNITS, FEATURES, TIME, BATCH = 3, 4, 7, 2
LAYERS = ("SimpleRNN", "LSTM", "GRU")


def keras_layer(name: str, seed: int = 11):
    """A freshly built Keras layer with Keras's defaults (as rnndemo's models use), weights ×3 and a random bias."""
    import keras

    keras.utils.set_random_seed(seed)
    layer = getattr(keras.layers, name)(UNITS, return_sequences=True, return_state=True)
    layer.build((None, None, FEATURES))
    rng = np.random.default_rng(seed)
    # Large weights and a nonzero bias move the gates and tanh away from their linear middle and 0.5.
    layer.set_weights([weight * 3 + rng.normal(0, 0.5, weight.shape) for weight in layer.get_weights()])
    return layer


def inputs(seed: int = 3) -> np.ndarray:
    """(batch, time, features) random inputs."""
    return np.random.default_rng(seed).normal(0, 1, (BATCH, TIME, FEATURES)).astype(np.float32)


@pytest.mark.parametrize("name", LAYERS)
def test_a_sequence_equals_the_keras_layers_output(name):
    """Every h_t (and the LSTM's last c_t) of each review in a batch is the Keras layer's, from zero states."""
    layer, batch = keras_layer(name), inputs()
    outputs = [np.asarray(value) for value in layer(batch)]  # (batch, time, units), then the last states
    for row in range(BATCH):
        run = cells.run_sequence(name, batch[row], *layer.get_weights())
        np.testing.assert_allclose(run.hidden, outputs[0][row], atol=1e-5)
        assert run.hidden.shape == (TIME, UNITS) and (run.cell is None) == (name != "LSTM")
        if name == "LSTM":
            np.testing.assert_allclose(run.cell[-1], outputs[2][row], atol=1e-5)
    assert np.abs(outputs[0]).max() > 0.5  # the test reaches the nonlinear range, not tanh's linear middle


def test_the_gru_is_keras_default_reset_after_and_another_is_refused():
    layer = keras_layer("GRU")
    assert layer.cell.reset_after  # what rnndemo's models build; the equations assume it
    kernel, recurrent_kernel, bias = layer.get_weights()
    assert bias.shape == (2, 3 * UNITS)
    with pytest.raises(ValueError, match="reset_after"):
        cells.gru_step(np.zeros(FEATURES), np.zeros(UNITS), kernel, recurrent_kernel, bias.sum(axis=0))


@pytest.mark.parametrize("name", LAYERS)
def test_one_step_from_a_given_state_for_chosen_units_and_a_batch(name):
    """From a random h_(t−1) (and c_(t−1)), one batched step equals Keras's, for all units and for a chosen few."""
    layer, x_t = keras_layer(name), inputs()[:, 0, :]  # (batch, features)
    rng = np.random.default_rng(5)
    h_previous = rng.uniform(-0.9, 0.9, (BATCH, UNITS)).astype(np.float32)
    c_previous = rng.normal(0, 1.5, (BATCH, UNITS)).astype(np.float32)
    initial = [h_previous, c_previous] if name == "LSTM" else [h_previous]
    outputs = [np.asarray(value) for value in layer(x_t[:, None, :], initial_state=initial)]
    weights = [np.asarray(weight, dtype=np.float64) for weight in layer.get_weights()]
    for units in (None, np.array([2, 0])):
        chosen = slice(None) if units is None else units
        if name == "LSTM":
            step = cells.lstm_step(x_t, h_previous, c_previous[:, chosen], *weights, units=units)
            np.testing.assert_allclose(step.cell, outputs[2][:, chosen], atol=1e-5)
        elif name == "GRU":
            step = cells.gru_step(x_t, h_previous, *weights, units=units)
        else:
            step = cells.simple_rnn_step(x_t, h_previous, *weights, units=units)
        np.testing.assert_allclose(step.hidden, outputs[0][:, 0, chosen], atol=1e-5)


def test_the_lstm_gates_are_named_by_what_keras_does_with_them():
    """The named gates rebuild Keras's own c_t and h_t: c_t = f·c_(t−1) + i·g, h_t = o·tanh(c_t), with i, f and o in
    (0, 1) and g reaching below 0. A swap of any two names breaks one of these."""
    layer, x_t = keras_layer("LSTM"), inputs()[:, 0, :]
    rng = np.random.default_rng(8)
    h_previous, c_previous = rng.uniform(-0.9, 0.9, (2, BATCH, UNITS)).astype(np.float32)
    c_previous = c_previous * 3
    outputs = layer(x_t[:, None, :], initial_state=[h_previous, c_previous])
    _, h_keras, c_keras = (np.asarray(value) for value in outputs)
    step = cells.lstm_step(x_t, h_previous, c_previous, *layer.get_weights())
    np.testing.assert_allclose(step.forget_gate * c_previous + step.input_gate * step.candidate, c_keras, atol=1e-5)
    np.testing.assert_allclose(step.output_gate * np.tanh(c_keras), h_keras, atol=1e-5)
    for gate in (step.input_gate, step.forget_gate, step.output_gate):
        assert ((gate > 0) & (gate < 1)).all()
    assert step.candidate.min() < 0
    gates = (step.input_gate, step.forget_gate, step.candidate, step.output_gate)
    assert all(np.abs(a - b).max() > 0.05 for position, a in enumerate(gates) for b in gates[position + 1 :])


def test_the_gru_gates_are_named_by_what_keras_does_with_them():
    """h_t = z·h_(t−1) + (1 − z)·h̃ rebuilds Keras's h_t, and z and r are in (0, 1) while h̃ reaches below 0: a swap of
    any two names breaks one of these (and the sequence test above checks the value each name holds)."""
    layer, x_t = keras_layer("GRU"), inputs()[:, 0, :]
    h_previous = np.random.default_rng(9).uniform(-0.9, 0.9, (BATCH, UNITS)).astype(np.float32)
    _, h_keras = (np.asarray(value) for value in layer(x_t[:, None, :], initial_state=[h_previous]))
    step = cells.gru_step(x_t, h_previous, *layer.get_weights())
    rebuilt = step.update_gate * h_previous + (1 - step.update_gate) * step.candidate
    np.testing.assert_allclose(rebuilt, h_keras, atol=1e-5)
    for gate in (step.update_gate, step.reset_gate):
        assert ((gate > 0) & (gate < 1)).all()
    assert step.candidate.min() < 0
    assert np.abs(step.reset_gate - step.update_gate).max() > 0.05
