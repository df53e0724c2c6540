"""Tiny, freshly built classifiers (no training): every readout and recurrent layer against numpy, and the
language-model initialisation, so the definitions hold for any weights and not only for the committed files."""

import numpy as np
import pytest

from rnndemo import models
from rnndemo.inspect import GRU_GATE_NAMES, Inspector
from rnndemo.serving import Classifier
from rnndemo.training import embedding_start, initialise_from_language_model
from rnndemo.vocab import OOV_TOKEN, PADDING_TOKEN, Vocabulary

from .reference import numpy_gru, numpy_lstm, numpy_running_probability, numpy_simple_rnn

WORDS = [PADDING_TOKEN, OOV_TOKEN] + [f"w{index}" for index in range(38)]
IDS = [5, 9, 2, 17, 30, 4, 4, 11, 25, 3, 8, 39]


def _classifier(kind: str, readout: str, seed: int = 3) -> Classifier:
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

    from rnndemo.language_model import build_language_model

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
