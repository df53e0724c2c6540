"""The stepper's equation, number for number: every part of one step against a numpy recomputation from the
layer weights (tests/reference.py), at several steps, for the SimpleRNN, the LSTM and the GRU; on tiny freshly
built models (any weights) and on the committed ones."""

import functools

import numpy as np
import pytest

from rnndemo import data, models, stepper
from rnndemo.inspect import Inspector
from rnndemo.serving import Classifier
from rnndemo.vocab import OOV_TOKEN, PADDING_TOKEN, Vocabulary

from .reference import numpy_gru, numpy_lstm, numpy_running_probability, numpy_simple_rnn

WORDS = [PADDING_TOKEN, OOV_TOKEN] + [f"w{index}" for index in range(38)]
IDS = [5, 9, 2, 17, 30, 4, 4, 11, 25, 3, 8, 39, 1, 22]  # 1: an unknown word, which has its own row
READOUTS = {"rnn": "mean", "lstm": "last", "gru": "last"}  # as the served models read their states


@functools.cache
def tiny_classifier(kind: str, seed: int = 7) -> Classifier:
    """A seeded tiny classifier, built and traced once per process: the tests only read it."""
    import keras

    keras.utils.set_random_seed(seed)
    architecture = models.ModelArchitecture(kind, len(WORDS), 6, 5, readout=READOUTS[kind])
    model = models.build_model(architecture)
    # Larger random weights than the initialisers give, so that gates and tanh leave their linear middle.
    model.set_weights([weight * 3 for weight in model.get_weights()])
    return Classifier(kind, model, Vocabulary(WORDS), 400)


def reference(classifier: Classifier, ids: list[int]) -> dict:
    """Everything the numpy reference computes for the sequence: embedded rows, h, c, gates, and p so far."""
    embedded = classifier.model.get_layer("embedding").get_weights()[0][np.asarray(ids)]
    weights = classifier.model.get_layer("recurrent").get_weights()
    layer = type(classifier.model.get_layer("recurrent")).__name__
    cell, gates = None, {}
    if layer == "SimpleRNN":
        hidden = numpy_simple_rnn(embedded, *weights)
    elif layer == "LSTM":
        hidden, cell, gates = numpy_lstm(embedded, *weights)
    else:
        hidden, gates = numpy_gru(embedded, *weights)
    dense_kernel, dense_bias = classifier.model.get_layer("classifier").get_weights()
    running = numpy_running_probability(hidden, dense_kernel, dense_bias, models.readout_of(classifier.model))
    return {"embedded": embedded, "weights": weights, "hidden": hidden, "cell": cell, "gates": gates, "p": running}


def assert_step_matches(classifier: Classifier, inspection, expected: dict, step: int, atol: float = 1e-5) -> None:
    equation = stepper.step_equation(classifier, inspection, step)
    units = np.asarray(equation.units)
    hidden = expected["hidden"]
    previous = hidden[step - 1] if step else np.zeros(hidden.shape[1])
    # The units shown are the ones whose state changed most at this step.
    change = np.abs(hidden[step] - previous)
    assert len(units) == stepper.SHOWN_UNITS and len(set(units.tolist())) == len(units)
    assert change[units].min() >= np.delete(change, units).max() - atol
    assert np.all(np.diff(change[units]) <= atol)  # largest first
    assert equation.token == inspection.tokens[step] and equation.token_id == inspection.ids[step]
    np.testing.assert_allclose(equation.embedding, expected["embedded"][step], atol=1e-7)
    np.testing.assert_allclose(equation.terms[stepper.PREVIOUS_STATE], previous[units], atol=atol)
    np.testing.assert_allclose(equation.terms[stepper.STATE], hidden[step][units], atol=atol)
    np.testing.assert_allclose(equation.terms[stepper.STATE], inspection.hidden[step][units], atol=atol)
    assert equation.probability == pytest.approx(expected["p"][step], abs=atol)
    assert list(equation.terms) == list(stepper.COLUMNS[equation.layer])
    assert [row["unit"] for row in equation.rows()] == units.tolist()
    if equation.layer == "SimpleRNN":
        kernel, recurrent_kernel, bias = expected["weights"]
        np.testing.assert_allclose(equation.terms["(W·xₜ)ⱼ"], expected["embedded"][step] @ kernel[:, units], atol=atol)
        # h_(t−1) is the model's float32 state: summed over units with large weights, it differs in the 5th digit.
        np.testing.assert_allclose(equation.terms["(U·hₜ₋₁)ⱼ"], previous @ recurrent_kernel[:, units], atol=10 * atol)
        np.testing.assert_allclose(equation.terms["bⱼ"], bias[units], atol=atol)
        parts = equation.terms["(W·xₜ)ⱼ"] + equation.terms["(U·hₜ₋₁)ⱼ"] + equation.terms["bⱼ"]
        np.testing.assert_allclose(equation.terms["sum"], parts, atol=1e-12)
        np.testing.assert_allclose(np.tanh(equation.terms["sum"]), hidden[step][units], atol=atol)
    elif equation.layer == "LSTM":
        cell = expected["cell"]
        np.testing.assert_allclose(equation.terms["cₜ₋₁"], (cell[step - 1] if step else 0 * cell[0])[units], atol=atol)
        np.testing.assert_allclose(equation.terms["cₜ"], cell[step][units], atol=atol)
        for column, gate in (("i", "input"), ("f", "forget"), ("g", "cell_candidate"), ("o", "output")):
            np.testing.assert_allclose(equation.terms[column], expected["gates"][gate][step][units], atol=atol)
    else:
        for column, gate in (("z", "update"), ("r", "reset"), ("h̃", "candidate")):
            np.testing.assert_allclose(equation.terms[column], expected["gates"][gate][step][units], atol=atol)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_every_number_of_a_step_matches_numpy_on_random_weights(kind):
    """At the first, an early, a middle and the last token, every part of the equation is the numpy one."""
    classifier = tiny_classifier(kind)
    inspection = Inspector(classifier).inspect(" ".join(WORDS[index] if index > 1 else "zzz" for index in IDS))
    assert inspection.ids == IDS
    expected = reference(classifier, IDS)
    for step in (0, 1, 6, len(IDS) // 2, 12, len(IDS) - 1):
        # float32 (the model) against float64 (numpy), through 14 steps of large weights
        assert_step_matches(classifier, inspection, expected, step, atol=5e-5)
    # No two gates agree on these weights, so a swapped gate could not pass.
    gates = list(expected["gates"].values())
    assert all(np.abs(a - b).max() > 0.1 for position, a in enumerate(gates) for b in gates[position + 1 :])


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_the_committed_models_steps_match_numpy(bundle, kind):
    classifier = bundle.classifiers[kind]
    inspection = Inspector(classifier).inspect(data.sample_reviews("positive", 1, seed=5)[0])
    expected = reference(classifier, inspection.ids)
    for step in (0, 3, len(inspection.ids) // 2, len(inspection.ids) - 1):
        assert_step_matches(classifier, inspection, expected, step)


def test_chosen_units_are_reported_in_the_order_given():
    classifier = tiny_classifier("lstm")
    inspection = Inspector(classifier).inspect("w3 w5 w7")
    equation = stepper.step_equation(classifier, inspection, 2, units=(4, 0))
    assert equation.units == (4, 0)
    np.testing.assert_allclose(equation.terms["hₜ"], inspection.hidden[2][[4, 0]], atol=1e-5)
    np.testing.assert_allclose(equation.terms["cₜ"], inspection.cell[2][[4, 0]], atol=1e-5)


@pytest.mark.slow
def test_a_step_outside_the_text_is_refused_and_clamping_keeps_it_inside():
    classifier = tiny_classifier("rnn")
    inspection = Inspector(classifier).inspect("w3 w5 w7")
    for step in (-1, 3):
        with pytest.raises(ValueError, match="outside the text"):
            stepper.step_equation(classifier, inspection, step)
    assert [stepper.clamp_step(step, 3) for step in (-4, 0, 2, 3, 99)] == [0, 0, 2, 2, 2]
    assert stepper.clamp_step(5, 0) == 0


def test_units_that_changed_most_start_from_a_zero_state():
    hidden = np.array([[0.1, -0.9, 0.0], [0.2, -0.1, 0.5]])
    assert stepper.units_that_changed_most(hidden, 0, count=2) == (1, 0)  # |h_0 − 0|
    assert stepper.units_that_changed_most(hidden, 1, count=2) == (1, 2)  # 0.8, 0.5, then 0.1
