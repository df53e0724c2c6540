"""States, gates and importance from the real models, checked against a numpy recomputation from the layer weights."""

import math

import numpy as np
import pytest

from rnndemo import data
from rnndemo.inspect import PROBABILITY_CLIP, log_odds, log_odds_importance
from rnndemo.models import readout_of
from rnndemo.serving import tensorflow_call

from .reference import GRU_GATE_NAMES, numpy_gru, numpy_lstm, numpy_running_probability, numpy_simple_rnn


@pytest.fixture(scope="module")
def review():
    return data.sample_reviews("negative", 1, seed=11)[0]


def _embedded(classifier, ids):
    weights = classifier.model.get_layer("embedding").get_weights()[0]
    return weights[np.asarray(ids)]


def test_simple_rnn_hidden_states_match_numpy(bundle, review, shared_inspector):
    classifier = bundle.classifiers["rnn"]
    inspection = shared_inspector("rnn").inspect(review)
    kernel, recurrent_kernel, bias = classifier.model.get_layer("recurrent").get_weights()
    expected = numpy_simple_rnn(_embedded(classifier, inspection.ids), kernel, recurrent_kernel, bias)
    np.testing.assert_allclose(inspection.hidden, expected, atol=1e-5)
    _assert_running_probability(classifier, inspection, expected)


def _assert_running_probability(classifier, inspection, hidden):
    """The trajectory is the readout of the states so far, recomputed in numpy, and it is the model's own
    output on each prefix of the review (the definition of the running prediction)."""
    dense_kernel, dense_bias = classifier.model.get_layer("classifier").get_weights()
    expected = numpy_running_probability(hidden, dense_kernel, dense_bias, readout_of(classifier.model))
    np.testing.assert_allclose(inspection.trajectory, expected, atol=1e-5)
    for length in (1, len(inspection.ids) // 2, len(inspection.ids)):
        prefix = classifier.predict_ids_exact(np.asarray([inspection.ids[:length]]))[0]
        assert prefix == pytest.approx(inspection.trajectory[length - 1], abs=1e-5)


def test_lstm_states_and_gates_match_numpy(bundle, review, shared_inspector):
    classifier = bundle.classifiers["lstm"]
    inspection = shared_inspector("lstm").inspect(review)
    kernel, recurrent_kernel, bias = classifier.model.get_layer("recurrent").get_weights()
    hidden, cell, gates = numpy_lstm(_embedded(classifier, inspection.ids), kernel, recurrent_kernel, bias)
    np.testing.assert_allclose(inspection.hidden, hidden, atol=1e-5)
    np.testing.assert_allclose(inspection.cell, cell, atol=1e-5)
    for name in ("input", "forget", "output", "cell_candidate"):
        np.testing.assert_allclose(inspection.gates[name], gates[name], atol=1e-5, err_msg=name)
    assert inspection.hidden.shape == (len(inspection.tokens), kernel.shape[1] // 4)
    _assert_running_probability(classifier, inspection, hidden)


def test_gru_states_and_gates_match_numpy(bundle, review, shared_inspector):
    classifier = bundle.classifiers["gru"]
    inspection = shared_inspector("gru").inspect(review)
    kernel, recurrent_kernel, bias = classifier.model.get_layer("recurrent").get_weights()
    hidden, gates = numpy_gru(_embedded(classifier, inspection.ids), kernel, recurrent_kernel, bias)
    np.testing.assert_allclose(inspection.hidden, hidden, atol=1e-5)
    assert inspection.cell is None and set(inspection.gates) == set(GRU_GATE_NAMES)
    for name in GRU_GATE_NAMES:
        np.testing.assert_allclose(inspection.gates[name], gates[name], atol=1e-5, err_msg=name)
    _assert_running_probability(classifier, inspection, hidden)


def test_padding_changes_no_prediction(bundle, review):
    """A review padded in a batch gets exactly the probability it gets alone, for every readout."""
    for classifier in bundle.classifiers.values():
        ids = classifier.encode(review)[1]
        alone = classifier.predict_ids_exact(np.asarray([ids]))[0]
        padded = classifier.predict_ids_exact(np.asarray([[0] * 7 + ids]))[0]
        assert padded == pytest.approx(alone, abs=1e-5), classifier.name


def test_occlusion_is_batched_and_padding_gets_zero(bundle, shared_inspector):
    inspector = shared_inspector("lstm")
    ids = [0, 0] + bundle.vocabulary.encode_tokens("a truly wonderful and moving film".split())
    probability, importance = inspector.importance(ids)
    assert importance[0] == 0.0 and importance[1] == 0.0
    assert probability == pytest.approx(bundle.classifiers["lstm"].predict_ids_exact(np.asarray([ids]))[0], abs=1e-6)
    without_wonderful = ids.copy()
    without_wonderful[4] = 0
    dropped = bundle.classifiers["lstm"].predict_ids_exact(np.asarray([without_wonderful]))[0]
    assert importance[4] == pytest.approx(probability - dropped, abs=1e-5)
    assert importance[4] > 0  # "wonderful" pushes towards positive


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru"])
def test_log_odds_importance_is_the_change_in_logit_when_a_token_is_removed(bundle, shared_inspector, name):
    """logit p(text) − logit p(text without token t), recomputed token by token from the model's own outputs;
    the page's version, from the cached p(text) and Δp, agrees with it."""
    classifier = bundle.classifiers[name]
    inspector = shared_inspector(name)
    inspection = inspector.inspect("A dull start, but the acting is superb and the ending moved me.")
    logit, effects = inspector.log_odds_importance(inspection.ids)
    probability = classifier.predict_ids_exact(np.asarray([inspection.ids]))[0]
    # float32 outputs: a batch of n + 1 rows and a single row may differ in the 7th digit
    assert logit == pytest.approx(np.log(probability / (1 - probability)), abs=1e-5)
    for position in range(len(inspection.ids)):
        without = list(inspection.ids)
        without[position] = 0
        dropped = classifier.predict_ids_exact(np.asarray([without]))[0]
        expected = np.log(probability / (1 - probability)) - np.log(dropped / (1 - dropped))
        assert effects[position] == pytest.approx(expected, abs=1e-5), position
    _, importance = inspector.importance(inspection.ids)
    from_page = log_odds_importance(inspection.trajectory[-1], importance)
    np.testing.assert_allclose(from_page, effects, atol=1e-3)
    assert np.abs(effects).max() > 0.01  # the words do move this model


def test_log_odds_are_clipped_away_from_zero_and_one():
    """p = 0 or 1 (a float32 sigmoid reaches 1.0) gives a finite logit, the same at both ends."""
    values = log_odds(np.array([0.0, 1e-9, 0.5, 1.0 - 1e-9, 1.0]))
    limit = np.log((1 - PROBABILITY_CLIP) / PROBABILITY_CLIP)
    np.testing.assert_allclose(values, [-limit, -limit, 0.0, limit, limit])
    assert log_odds(0.9) == pytest.approx(np.log(9.0))
    # A removal that takes a certain verdict to a confident one is finite: logit(1 − ε) − logit(0.99).
    assert log_odds_importance(1.0, np.array([0.01]))[0] == pytest.approx(limit - np.log(99.0))


def test_log_odds_of_a_models_float32_outputs_are_taken_in_float64():
    """The models give float32 probabilities and float32 importance; the logits are computed from each value in
    float64 (in float32 they are off by ~1e-7, and a page's sums of many tokens' effects drift)."""
    probabilities = np.array([0.3, 0.999998], dtype=np.float32)
    by_hand = [math.log(float(p) / (1.0 - float(p))) for p in probabilities]  # each float32 value, exactly
    np.testing.assert_allclose(log_odds(probabilities), by_hand, rtol=1e-13, atol=0)
    importance = np.array([0.3], dtype=np.float32)
    without = 0.9 - float(importance[0])  # p(text) − its effect, in float64
    expected = math.log(0.9 / 0.1) - math.log(without / (1.0 - without))
    np.testing.assert_allclose(log_odds_importance(0.9, importance), [expected], rtol=1e-13, atol=0)


def test_inspection_json_has_the_promised_keys(shared_inspector):
    payload = shared_inspector("lstm").inspect("A fine film.").to_json()
    assert {"tokens", "ids", "hidden", "cell", "gates", "trajectory"} <= set(payload)
    assert set(payload["gates"]) >= {"input", "forget", "output"}
    assert len(payload["hidden"]) == len(payload["tokens"]) == 3


def _assert_rounded_copy(values, array, where: str) -> None:
    """`values` (from JSON) is `array` rounded to 6 decimals: the same shape, within half a unit of the 6th."""
    values = np.asarray(values, dtype=np.float64)
    assert values.shape == np.shape(array), where
    np.testing.assert_allclose(values, np.asarray(array, dtype=np.float64), rtol=0, atol=5.001e-7, err_msg=where)
    scaled = values * 1e6
    assert np.abs(scaled - np.rint(scaled)).max() < 1e-3, where  # no digit beyond the 6th


@pytest.mark.parametrize(
    ("name", "with_cell", "gate_names"),
    [
        ("rnn", False, None),
        ("lstm", True, {"input", "forget", "cell_candidate", "output"}),
        ("gru", False, {"update", "reset", "candidate"}),
    ],
)
def test_an_inspection_as_json_is_each_of_its_fields_with_numbers_to_six_decimals(
    shared_inspector, name, with_cell, gate_names
):
    """The CLI's `inspect --json`: a cell state for the LSTM only, gates for the gated cells only, and every
    number of the inspection rounded to 6 decimals, through a JSON round trip."""
    import json

    inspection = shared_inspector(name).inspect("A fine film, but the ending drags on and on.")
    payload = json.loads(json.dumps(inspection.to_json()))
    keys = {"model", "tokens", "ids", "cut_tokens", "readout", "hidden", "trajectory"}
    assert set(payload) == keys | ({"cell"} if with_cell else set()) | ({"gates"} if gate_names else set())
    assert [payload[key] for key in ("model", "tokens", "ids", "cut_tokens", "readout")] == [
        name,
        inspection.tokens,
        inspection.ids,
        0,
        inspection.readout,
    ]
    assert len(inspection.tokens) == 10
    _assert_rounded_copy(payload["hidden"], inspection.hidden, "hidden")
    _assert_rounded_copy(payload["trajectory"], inspection.trajectory, "trajectory")
    if with_cell:
        _assert_rounded_copy(payload["cell"], inspection.cell, "cell")
    if gate_names:
        assert set(payload["gates"]) == gate_names
        for gate, values in payload["gates"].items():
            _assert_rounded_copy(values, inspection.gates[gate], gate)


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru"])
def test_occlusion_sharing_the_prefix_equals_running_every_copy_from_the_start(bundle, review, shared_inspector, name):
    """The compiled prefix-sharing occlusion gives the numbers of the reference: every copy with one id set to 0,
    run from the start by the Keras model itself. With padding inside and at the start, an unknown word, and the
    edge texts of one word and of one word with padding."""
    classifier = bundle.classifiers[name]
    inspector = shared_inspector(name)
    assert inspector._occlusion is not None  # the fast path is the one under test
    ids = classifier.encode(review)[1][:150]
    cases = [ids, [0, 0] + ids[:40] + [0] + ids[40:80] + [1] + ids[80:], ids[:1], [0] + ids[:1] + [0]]
    for case in cases:
        probability, importance = inspector.importance(case)
        reference = inspector._occlusion_by_rows(np.asarray(case, dtype=np.int32))
        assert probability == pytest.approx(reference[0], abs=1e-5), (name, len(case))
        np.testing.assert_allclose(importance, reference[0] - reference[1:], atol=1e-5, err_msg=f"{name} {len(case)}")
        # Padding is skipped by the loop itself: its row ends where the text's own row does (not only zeroed).
        raw = tensorflow_call(inspector._occlusion, np.asarray(case, dtype=np.int32))
        for position in (position for position, token in enumerate(case) if token == 0):
            assert importance[position] == 0.0 and raw[position + 1] == pytest.approx(raw[0], abs=1e-6)
    # Removing the only word leaves nothing to read: the classifier's σ(b), as for an empty text.
    probability, importance = inspector.importance(ids[:1])
    assert probability - importance[0] == pytest.approx(classifier.empty_probability, abs=1e-6)


@pytest.mark.parametrize(("length", "units"), [(400, 256), (150, 64), (1, 1), (3, 50), (100_000, 256)])
def test_a_block_of_the_occlusion_reference_holds_as_many_rows_as_fit_the_bound(length, units):
    """The slow reference's block size, from its definition: a block's gate values (rows × length × 4·units) stay
    within the bound and one more row would pass it, or the block is the one row that must always run."""
    from rnndemo.inspect import OCCLUSION_BLOCK_VALUES, occlusion_block_rows

    rows = occlusion_block_rows(length, units)
    values_per_row = length * 4 * units
    assert rows >= 1
    if rows > 1:
        assert rows * values_per_row <= OCCLUSION_BLOCK_VALUES < (rows + 1) * values_per_row
    else:
        assert 2 * values_per_row > OCCLUSION_BLOCK_VALUES
    assert occlusion_block_rows(400, 256) == 39  # the LSTM(256) on a whole review: 39 copies at a time


@pytest.mark.parametrize("length", [17, 20])
def test_the_occlusion_reference_runs_every_copy_once_in_bounded_blocks(
    bundle, review, shared_inspector, monkeypatch, length
):
    """With a bound that fits 6 copies of the SimpleRNN(64), the reference runs the text and its occluded copies in
    blocks of at most 6 rows, each row once, in order, and no empty block (17 tokens make 18 rows: three full
    blocks), and gives the numbers of one unblocked run."""
    from rnndemo import inspect

    inspector = shared_inspector("rnn")
    classifier = inspector.classifier
    ids = np.asarray(classifier.encode(review)[1][:length], dtype=np.int32)
    whole = inspector._occlusion_by_rows(ids)  # one block: the bound is far above 21 × 20 × 256 values
    units = classifier.model.get_layer("recurrent").units
    monkeypatch.setattr(inspect, "OCCLUSION_BLOCK_VALUES", length * 4 * units * 6)
    blocks = []
    real = classifier.predict_ids_exact

    def spy(rows):
        blocks.append(np.array(rows))
        return real(rows)

    monkeypatch.setattr(classifier, "predict_ids_exact", spy)
    blocked = inspector._occlusion_by_rows(ids)
    assert [len(block) for block in blocks] == [6] * ((length + 1) // 6) + (
        [(length + 1) % 6] if (length + 1) % 6 else []
    )
    rows = np.concatenate(blocks)
    assert np.array_equal(rows[0], ids) and all(
        np.array_equal(row, np.where(np.arange(length) == position, 0, ids)) for position, row in enumerate(rows[1:])
    )
    np.testing.assert_allclose(blocked, whole, atol=1e-6)


def fresh_tiny_classifier(kind: str, seed: int, readout: str = "last"):
    """A new seeded 3-unit classifier of `kind` over four words that reads the last 10 tokens, for tests that change
    its layers (never cached)."""
    import keras

    from rnndemo import models
    from rnndemo.serving import Classifier
    from rnndemo.vocab import OOV_TOKEN, PADDING_TOKEN, Vocabulary

    words = [PADDING_TOKEN, OOV_TOKEN, "good", "bad"]
    keras.utils.set_random_seed(seed)
    model = models.build_model(models.ModelArchitecture(kind, len(words), 4, 3, readout=readout))
    return Classifier(kind, model, Vocabulary(words), 10)


@pytest.mark.parametrize(("kind", "readout"), [("rnn", "mean"), ("lstm", "last"), ("gru", "mean")])
def test_an_inspection_says_which_model_read_what_under_the_visitors_cleaning_and_how_long_it_took(kind, readout):
    """The model's name and readout, the tokens and ids read under the cleaning the visitor chose (here: case kept,
    so "Good" is not the vocabulary's "good"), how many tokens were cut before the last 10, and the seconds the
    inspection took, within the time measured around it."""
    import time

    from rnndemo.inspect import Inspector
    from rnndemo.text import CleaningOptions

    inspector = Inspector(fresh_tiny_classifier(kind, seed=7, readout=readout))
    words = ["Good", "bad"] * 6 + ["Good"]  # 13 words: the first 3 are cut
    started = time.perf_counter()
    inspection = inspector.inspect(" ".join(words), CleaningOptions(lowercase=False))
    elapsed = time.perf_counter() - started
    assert (inspection.model, inspection.readout, inspection.cut_tokens) == (kind, readout, 3)
    assert inspection.tokens == words[3:]
    assert inspection.ids == [1 if word == "Good" else 3 for word in words[3:]]  # "Good": out of vocabulary
    assert 0 < inspection.seconds <= elapsed
    assert inspector.inspect(" ".join(words)).ids == [2 if word == "Good" else 3 for word in words[3:]]


def test_importance_without_the_fast_path_is_each_removal_run_by_the_keras_model_itself():
    """A model the prefix-sharing occlusion does not model (here a SimpleRNN whose cell reports no bias) gets its
    importance from the reference: p(text) − p(text without token t), the same numbers as the Keras model's own call
    on every occluded copy, and as the fast path gave before the change; padding gets exactly 0."""
    from rnndemo.inspect import Inspector

    classifier = fresh_tiny_classifier("rnn", seed=6)
    ids = [0, 2, 3, 1, 2, 2, 3]
    fast_probability, fast_importance = Inspector(classifier).importance(ids)
    classifier.model.get_layer("recurrent").cell.use_bias = False  # Keras still adds the bias it built
    inspector = Inspector(classifier)
    assert inspector._occlusion is None
    probability, importance = inspector.importance(ids)
    rows = np.array([ids] + [[0 if column == row else id_ for column, id_ in enumerate(ids)] for row in range(7)])
    by_keras = np.asarray(classifier.model(rows, training=False))[:, 0].astype(np.float64)
    assert probability == pytest.approx(by_keras[0], abs=1e-6)
    np.testing.assert_allclose(importance, by_keras[0] - by_keras[1:], atol=1e-6)
    assert importance[0] == 0.0 and np.abs(importance[1:]).min() > 1e-4
    assert probability == pytest.approx(fast_probability, abs=1e-6)
    np.testing.assert_allclose(importance, fast_importance, atol=1e-6)


def test_a_gru_without_keras_default_reset_after_is_refused_with_the_reason():
    """The GRU trace follows Keras's default cell (reset_after=True); any other GRU is refused by name, not traced
    with the wrong equations."""
    from rnndemo.inspect import Inspector

    classifier = fresh_tiny_classifier("gru", seed=3)
    Inspector(classifier)  # Keras's default: inspected
    classifier.sequence_model.get_layer("recurrent_sequence").cell.reset_after = False
    with pytest.raises(ValueError) as refused:
        Inspector(classifier)
    assert str(refused.value) == "only the default GRU (reset_after=True) is inspected"


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_a_gated_cell_with_another_recurrent_activation_takes_the_reference_path(kind):
    """The prefix-sharing occlusion writes Keras's default gate activation (sigmoid) into its equations: an LSTM or a
    GRU whose gates use another one gets no fast path (the Inspector then falls back to the reference)."""
    import keras

    from rnndemo.inspect import _occlusion_runner

    classifier = fresh_tiny_classifier(kind, seed=4)
    assert _occlusion_runner(classifier) is not None  # Keras's defaults: the fast path
    classifier.model.get_layer("recurrent").cell.recurrent_activation = keras.activations.get("hard_sigmoid")
    assert _occlusion_runner(classifier) is None


@pytest.mark.parametrize(
    ("kind", "owner", "attribute", "value"),
    [
        ("rnn", "cell", "use_bias", False),
        ("lstm", "cell", "use_bias", False),
        ("gru", "cell", "reset_after", False),
        ("gru", "layer", "go_backwards", True),
        ("rnn", "layer", "stateful", True),
    ],
)
def test_a_cell_or_layer_the_fast_occlusion_does_not_model_takes_the_reference_path(kind, owner, attribute, value):
    """The prefix-sharing occlusion assumes a biased cell, Keras's default GRU, and a layer that reads forwards from
    a zero state: a model that differs in any one of these gets no fast path (the Inspector's reference instead)."""
    from rnndemo.inspect import _occlusion_runner

    classifier = fresh_tiny_classifier(kind, seed=5)
    assert _occlusion_runner(classifier) is not None  # as built: the fast path
    layer = classifier.model.get_layer("recurrent")
    setattr(layer.cell if owner == "cell" else layer, attribute, value)
    assert _occlusion_runner(classifier) is None


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_an_inspector_traces_each_function_once_when_built_and_never_per_request(kind):
    """Built, an Inspector has traced its gate trace and its occlusion runner once, on its own thread; requests of
    any length (ids as a list or as int64, as a page passes them) reuse that trace instead of tracing again."""
    from rnndemo.inspect import Inspector

    inspector = Inspector(fresh_tiny_classifier(kind, seed=8))
    compiled = [function for function in (inspector._trace, inspector._occlusion) if function is not None]
    assert len(compiled) == (1 if kind == "rnn" else 2)
    assert [function.experimental_get_tracing_count() for function in compiled] == [1] * len(compiled)
    for text in ("good", "good bad bad", "bad good " * 9):
        inspection = inspector.inspect(text)
        inspector.importance(inspection.ids)
        inspector.importance(np.asarray(inspection.ids, dtype=np.int64))
    assert [function.experimental_get_tracing_count() for function in compiled] == [1] * len(compiled)
