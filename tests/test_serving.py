"""The serving path on the real committed models: one compiled call, trajectory, batches, threads."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from rnndemo import data
from rnndemo.serving import EmptyTextError, prepare_text
from rnndemo.text import DEFAULT_TEXT


@pytest.mark.slow
def test_all_models_load_and_agree_with_keras_call(bundle):
    assert {"rnn", "lstm", "gru", "dfn", "cnn", "baseline"} == set(bundle.names()), bundle.errors
    for classifier in bundle.classifiers.values():
        prediction = classifier.predict_text(DEFAULT_TEXT)
        reference = float(classifier.model(np.asarray([prediction.ids], dtype=np.int32), training=False).numpy()[0, 0])
        assert prediction.probability_positive == pytest.approx(reference, abs=1e-5)


def test_trajectory_last_value_equals_prediction(bundle):
    for classifier in bundle.classifiers.values():
        prediction = classifier.predict_text(DEFAULT_TEXT)
        assert len(prediction.trajectory) == len(prediction.tokens) == 105
        batch_probability = classifier.predict_texts([DEFAULT_TEXT])[0]
        assert prediction.trajectory[-1] == pytest.approx(batch_probability, abs=1e-4)
        # The trajectory at step t is the model's output on the first t tokens.
        prefix = classifier.predict_ids_exact(np.asarray([prediction.ids[:10]]))[0]
        assert prediction.trajectory[9] == pytest.approx(prefix, abs=1e-4)


def test_long_text_reads_the_last_tokens(bundle):
    classifier = bundle.classifiers["lstm"]
    long_text = "boring " * 500 + DEFAULT_TEXT
    prediction = classifier.predict_text(long_text)
    assert len(prediction.tokens) == classifier.sequence_length
    assert prediction.cut_tokens == 500 + 105 - classifier.sequence_length
    assert prediction.tokens[-2:] == ["than", "hell"]


def test_empty_text_is_refused(bundle):
    with pytest.raises(EmptyTextError):
        bundle.classify("  ?!  ")
    with pytest.raises(ValueError, match="unknown or unavailable model"):
        bundle.classify(DEFAULT_TEXT, ["transformer"])


def test_batch_matches_single_calls_regardless_of_padding(bundle):
    texts = data.sample_reviews("random", 12, seed=3) + ["great", DEFAULT_TEXT]
    for classifier in bundle.classifiers.values():
        batched = classifier.predict_texts(texts)
        single = [classifier.predict_text(text).probability_positive for text in texts]
        np.testing.assert_allclose(batched, single, atol=1e-5)


@pytest.mark.slow
def test_concurrent_predictions_equal_sequential(bundle):
    texts = data.sample_reviews("random", 16, seed=7)
    sequential = [{name: p.probability_positive for name, p in bundle.classify(text).items()} for text in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = list(
            pool.map(
                lambda text: {name: p.probability_positive for name, p in bundle.classify(text).items()}, texts * 2
            )
        )
    assert concurrent == sequential * 2


def test_prepare_text_keeps_the_end():
    text, notice = prepare_text("a" * 10 + "b" * 10, max_characters=5)
    assert text == "bbbbb" and "20 characters" in notice
    assert prepare_text("short") == ("short", "")


@pytest.mark.parametrize("length", [1, 63, 64, 65, 300, 400])
def test_one_review_runs_compiled_at_its_padded_length_and_matches_the_graph_function(bundle, length):
    """Classifier.run_steps pads one review's ids at the end to a compiled length and slices the outputs back:
    every model is causal, so the real tokens' outputs are the unpadded graph function's (to float rounding)."""
    from rnndemo.serving import COMPILED_STEP_LENGTHS, compiled_step_length, tensorflow_call

    padded = compiled_step_length(length)
    assert padded == min(bucket for bucket in COMPILED_STEP_LENGTHS if bucket >= length)
    ids = np.random.default_rng(length).integers(2, len(bundle.vocabulary), size=(1, length)).astype(np.int32)
    for name in ("rnn", "gru", "cnn"):  # a mean readout, a last-state readout, and the CNN's running maximum
        classifier = bundle.classifiers[name]
        probabilities, states = classifier.run_steps(ids)
        assert padded in classifier.compiled_lengths()  # compiled on first need
        graph_probabilities, graph_states = tensorflow_call(classifier._steps, ids)
        assert probabilities.shape == (1, length) and states.shape == graph_states.shape
        np.testing.assert_allclose(probabilities, graph_probabilities[..., 0], atol=1e-5)
        np.testing.assert_allclose(states, graph_states, atol=1e-5)
        again, _ = classifier.run_steps(ids)
        np.testing.assert_array_equal(again, probabilities)  # the same numbers whenever asked


def test_past_the_longest_compiled_length_or_for_a_batch_the_graph_function_runs(bundle):
    from rnndemo.serving import COMPILED_STEP_LENGTHS, compiled_step_length, tensorflow_call

    assert compiled_step_length(COMPILED_STEP_LENGTHS[-1] + 1) is None
    classifier = bundle.classifiers["rnn"]
    batch = np.full((2, 70), 5, dtype=np.int32)
    probabilities, _ = classifier.run_steps(batch)
    np.testing.assert_array_equal(probabilities, tensorflow_call(classifier._steps, batch)[0][..., 0])
    assert bundle.classifiers["dfn"].compiled_lengths() == frozenset()  # no loop to fuse: never compiled


@pytest.mark.slow
def test_compiling_the_bundle_readies_every_length_of_every_looping_model(bundle):
    """The launcher compiles before it listens (loading.load_everything): afterwards every model but the DFN runs
    one review compiled at every padded length, and no visitor waits for a compile."""
    from rnndemo.serving import COMPILED_STEP_LENGTHS

    bundle.compile_steps()
    compiled = {name: classifier.compiled_lengths() for name, classifier in bundle.classifiers.items()}
    assert compiled == {name: frozenset(COMPILED_STEP_LENGTHS) for name in bundle.classifiers if name != "dfn"} | {
        "dfn": frozenset()
    }


def test_a_model_xla_cannot_compile_is_served_by_its_graph_function(bundle):
    """A failed compile is logged and turns the compiled path off for that model: it keeps serving, as a model
    that failed to load never stopped the others."""
    from rnndemo.serving import Classifier, tensorflow_call

    served = bundle.classifiers["gru"]
    classifier = Classifier("gru", served.model, served.vocabulary, served.sequence_length, served.entry)

    def refuse(_ids):
        raise RuntimeError("XLA cannot compile this")

    classifier._compiled_steps = refuse
    ids = np.full((1, 70), 5, dtype=np.int32)
    probabilities, _ = classifier.run_steps(ids)
    np.testing.assert_array_equal(probabilities, tensorflow_call(classifier._steps, ids)[0][..., 0])
    assert classifier.compiled_lengths() == frozenset() and classifier.compile_steps(128) is None


def test_ids_outside_the_vocabulary_are_refused_on_the_compiled_path(bundle):
    classifier = bundle.classifiers["gru"]
    with pytest.raises(ValueError, match="ids must be from 0"):
        classifier.run_steps(np.asarray([[2, len(bundle.vocabulary) + 5]], dtype=np.int32))
