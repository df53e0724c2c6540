"""Tiny, freshly built classifiers (no training): every readout and recurrent layer against numpy, and the
language-model initialisation, so the definitions hold for any weights and not only for the committed files."""

import functools

import numpy as np
import pytest

from rnndemo import models
from rnndemo.inspect import Inspector
from rnndemo.serving import Classifier
from rnndemo.training_loop import embedding_start, initialise_from_language_model
from rnndemo.vocab import OOV_TOKEN, PADDING_TOKEN, Vocabulary

from .conftest import mutmut_stats_run
from .reference import GRU_GATE_NAMES, numpy_gru, numpy_lstm, numpy_running_probability, numpy_simple_rnn

WORDS = [PADDING_TOKEN, OOV_TOKEN] + [f"w{index}" for index in range(38)]
IDS = [5, 9, 2, 17, 30, 4, 4, 11, 25, 3, 8, 39]


@functools.cache
def _classifier(kind: str, readout: str, seed: int = 3) -> Classifier:
    """A seeded classifier, built and traced once per process: the tests only read it (building and tracing one
    cost about a second, and fifteen tests asked for the same six)."""
    import keras

    keras.utils.set_random_seed(seed)
    architecture = models.ModelArchitecture(
        kind, len(WORDS), 6, 5, dropout=0.3, spatial_dropout=0.2, output_dropout=0.3, readout=readout
    )
    model = models.build_model(architecture)
    # Larger random weights than the initialisers give, so saturation and gating actually vary.
    model.set_weights([weight * 3 for weight in model.get_weights()])
    return Classifier(kind, model, Vocabulary(WORDS), 400)


def _reference(classifier: Classifier) -> tuple[np.ndarray, dict]:
    embedded = classifier.model.get_layer("embedding").get_weights()[0][np.asarray(IDS)]
    weights = classifier.model.get_layer("recurrent").get_weights()
    layer = type(classifier.model.get_layer("recurrent")).__name__
    if layer == "SimpleRNN":
        return numpy_simple_rnn(embedded, *weights), {}
    if layer == "LSTM":
        hidden, _, gates = numpy_lstm(embedded, *weights)
        return hidden, gates
    return numpy_gru(embedded, *weights)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("readout", ["last", "mean"])
def test_running_prediction_is_the_readout_of_the_states_so_far(kind, readout):
    classifier = _classifier(kind, readout)
    assert models.readout_of(classifier.model) == readout
    probabilities, states = classifier.run_steps(np.asarray([IDS]))
    hidden, _ = _reference(classifier)
    np.testing.assert_allclose(states[0], hidden, atol=1e-5)
    dense_kernel, dense_bias = classifier.model.get_layer("classifier").get_weights()
    expected = numpy_running_probability(hidden, dense_kernel, dense_bias, readout)
    np.testing.assert_allclose(probabilities[0], expected, atol=1e-5)
    # The definition: the model's own output on each prefix, with or without padding in front.
    for length in range(1, len(IDS) + 1):
        alone = classifier.predict_ids_exact(np.asarray([IDS[:length]]))[0]
        padded = classifier.predict_ids_exact(np.asarray([[0] * 4 + IDS[:length]]))[0]
        assert alone == pytest.approx(expected[length - 1], abs=1e-5)
        assert padded == pytest.approx(alone, abs=1e-5)


def test_mean_readout_differs_from_the_last_state():
    """The two readouts are different functions of the same states (the test above would not notice a swap
    if they agreed)."""
    last, mean = _classifier("rnn", "last"), _classifier("rnn", "mean")
    assert not np.allclose(last.run_steps(np.asarray([IDS]))[0], mean.run_steps(np.asarray([IDS]))[0], atol=1e-3)


def test_gru_gates_match_numpy_on_random_weights():
    classifier = _classifier("gru", "last")
    inspection = Inspector(classifier).inspect(" ".join(WORDS[index] for index in IDS))
    assert inspection.ids == IDS and inspection.cell is None
    hidden, gates = _reference(classifier)
    np.testing.assert_allclose(inspection.hidden, hidden, atol=1e-5)
    for name in GRU_GATE_NAMES:
        np.testing.assert_allclose(inspection.gates[name], gates[name], atol=1e-5, err_msg=name)
        assert gates[name].std() > 0.05, name  # the gates really vary on these weights


def test_unknown_readout_is_refused():
    with pytest.raises(ValueError, match="readout"):
        models.build_model(models.ModelArchitecture("lstm", 10, 4, 3, readout="max"))


def test_language_model_initialisation_copies_the_recurrent_layer_and_the_shared_rows():
    import keras

    from rnndemo.language_model_layers import build_language_model

    keras.utils.set_random_seed(5)
    language_model = build_language_model("lstm", vocabulary_size=21, units=5, embedding_dim=6)  # 20 words + END
    classifier = models.build_model(models.ModelArchitecture("lstm", len(WORDS), 6, 5))
    before = classifier.get_layer("embedding").get_weights()[0].copy()
    initialise_from_language_model(classifier, language_model)
    pretrained = language_model.get_layer("embedding").get_weights()[0]
    after = classifier.get_layer("embedding").get_weights()[0]
    np.testing.assert_array_equal(after[:20], pretrained[:20])  # the shared words (END is not one)
    np.testing.assert_array_equal(after[20:], before[20:])  # rarer words keep their start
    for copied, source in zip(
        classifier.get_layer("recurrent").get_weights(), language_model.get_layer("recurrent").get_weights()
    ):
        np.testing.assert_array_equal(copied, source)
    # The manifest's description counts the same rows the copy took.
    described = embedding_start(language_model, len(WORDS))
    assert described.startswith("the LSTM language model's vectors for the 20 most frequent words, GloVe 6B-50d")
    assert f"for the other {len(WORDS) - 20};" in described
    assert embedding_start(None, len(WORDS)) == "GloVe 6B-50d initialised, trainable"


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("readout", ["last", "mean"])
def test_a_row_of_padding_only_reads_nothing(kind, readout):
    """Occluding the only word of a text leaves no states: every readout then gives σ(b), never NaN."""
    classifier = _classifier(kind, readout)
    probabilities = classifier.predict_ids_exact(np.asarray([[0, 0, 0], [0, 0, IDS[0]]]))
    bias = classifier.model.get_layer("classifier").get_weights()[1][0]
    assert probabilities[0] == pytest.approx(1 / (1 + np.exp(-bias)), abs=1e-6)
    assert np.isfinite(probabilities).all()


@pytest.mark.parametrize("readout", ["last", "mean"])
def test_memory_gradient_is_the_last_states_dependence_on_each_word(readout):
    """memory.embedding_gradients against central finite differences of w·h_T + b recomputed in numpy:
    the recurrence's own memory, the same whatever the readout."""
    from rnndemo.memory import embedding_gradients

    classifier = _classifier("rnn", readout)
    ids = IDS[:6]
    table = classifier.model.get_layer("embedding").get_weights()[0].astype(np.float64)
    weights = classifier.model.get_layer("recurrent").get_weights()
    dense_kernel, dense_bias = classifier.model.get_layer("classifier").get_weights()

    def logit(embedded):
        return numpy_simple_rnn(embedded, *weights)[-1] @ dense_kernel[:, 0] + dense_bias[0]

    embedded, step = table[np.asarray(ids)], 1e-5
    numeric = np.zeros_like(embedded)
    for position, column in np.ndindex(*embedded.shape):
        shifted = embedded.copy()
        shifted[position, column] += step
        above = logit(shifted)
        shifted[position, column] -= 2 * step
        numeric[position, column] = (above - logit(shifted)) / (2 * step)
    measured = embedding_gradients(classifier, np.asarray([ids]))[0]
    np.testing.assert_allclose(measured, np.linalg.norm(numeric, axis=1), rtol=1e-3, atol=1e-5)


def test_each_lstm_and_gru_gate_name_reads_its_slice_of_the_kernel_in_keras_order():
    """At the first token the state is zero, so each gate is its own slice of the input kernel, in the order
    Keras documents (LSTM: i, f, c, o; GRU: z, r, h). The names are written here, not taken from rnndemo, so
    a swap of two names (say "input" and "forget") fails here however the gates are computed."""

    def sigmoid(values):
        return 1.0 / (1.0 + np.exp(-values))

    lstm = _classifier("lstm", "last")
    inspection = Inspector(lstm).inspect(" ".join(WORDS[index] for index in IDS))
    kernel, _, bias = lstm.model.get_layer("recurrent").get_weights()
    units = kernel.shape[1] // 4
    x = lstm.model.get_layer("embedding").get_weights()[0][IDS[0]].astype(np.float64)
    z = x @ kernel + bias
    expected = {
        "input": sigmoid(z[:units]),
        "forget": sigmoid(z[units : 2 * units]),
        "cell_candidate": np.tanh(z[2 * units : 3 * units]),
        "output": sigmoid(z[3 * units :]),
    }
    assert set(inspection.gates) == set(expected)
    for name, values in expected.items():
        np.testing.assert_allclose(inspection.gates[name][0], values, atol=1e-5, err_msg=name)
    # c_1 = i ⊙ g (the forget gate has nothing to forget yet): the "input" gate is the one that writes the cell.
    np.testing.assert_allclose(inspection.cell[0], expected["input"] * expected["cell_candidate"], atol=1e-5)
    assert np.abs(expected["input"] - expected["forget"]).max() > 0.05  # a swap would be visible

    gru = _classifier("gru", "last")
    inspection = Inspector(gru).inspect(" ".join(WORDS[index] for index in IDS))
    kernel, _, bias = gru.model.get_layer("recurrent").get_weights()  # bias rows: input, recurrent
    units = kernel.shape[1] // 3
    x = gru.model.get_layer("embedding").get_weights()[0][IDS[0]].astype(np.float64)
    from_input, from_state = x @ kernel + bias[0], bias[1]  # h_0 = 0: only the recurrent bias is left
    update = sigmoid(from_input[:units] + from_state[:units])
    reset = sigmoid(from_input[units : 2 * units] + from_state[units : 2 * units])
    expected = {
        "update": update,
        "reset": reset,
        "candidate": np.tanh(from_input[2 * units :] + reset * from_state[2 * units :]),
    }
    assert set(inspection.gates) == set(expected)
    for name, values in expected.items():
        np.testing.assert_allclose(inspection.gates[name][0], values, atol=1e-5, err_msg=name)
    np.testing.assert_allclose(inspection.hidden[0], (1 - update) * expected["candidate"], atol=1e-5)
    assert np.abs(update - reset).max() > 0.05


@functools.cache
def _cached_inspector(kind: str, readout: str) -> Inspector:
    return Inspector(_classifier(kind, readout))


def _inspector(kind: str, readout: str) -> Inspector:
    # Under mutmut's stats pass each test builds its own, so each is credited with the builders it relies on.
    return Inspector(_classifier(kind, readout)) if mutmut_stats_run() else _cached_inspector(kind, readout)


@functools.cache
def _compiled_keras_model(kind: str, readout: str):
    """The Keras model's own call under tf.function, written here (not rnndemo's): the same numbers as the eager
    call, but a 400-step recurrence over 401 rows takes ~0.1 s instead of 5 to 8 s eagerly."""
    import tensorflow as tf

    model = _classifier(kind, readout).model
    return tf.function(lambda ids: model(ids, training=False), reduce_retracing=True)


@pytest.mark.parametrize("kind, readout", [("rnn", "mean"), ("lstm", "last"), ("gru", "mean")])
@pytest.mark.parametrize("length", [15, 16, 17, 400])
def test_occlusion_at_the_row_bucket_edges_equals_the_keras_model_on_every_occluded_copy(kind, readout, length):
    """Occlusion's compiled loop keeps its rows in buckets of 16: lengths one under, at and one over a bucket edge,
    and a full 400-token review (16 × 25), against the Keras model itself run on the text and on every copy with
    one token removed (its id set to 0, which the embedding masks)."""
    inspector = _inspector(kind, readout)
    assert inspector._occlusion is not None  # the compiled path is the one under test
    ids = np.random.default_rng(length).integers(1, len(WORDS), size=length).astype(np.int32)
    copies = np.tile(ids, (length + 1, 1))  # row 0: the text; row t + 1: the text without token t
    copies[np.arange(1, length + 1), np.arange(length)] = 0
    expected = _compiled_keras_model(kind, readout)(copies).numpy()[:, 0].astype(np.float64)
    probability, importance = inspector.importance(ids.tolist())
    assert importance.shape == (length,)
    assert probability == pytest.approx(expected[0], abs=1e-5)
    np.testing.assert_allclose(importance, expected[0] - expected[1:], atol=1e-5)
