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
