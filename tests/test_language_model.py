"""The word-level language models, on tiny data (V = 30, 8 units, a few dozen training steps)."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from rnndemo import cells
from rnndemo.config import LanguageModelConfig
from rnndemo.language_model import END_TOKEN, LanguageModel, LanguageModelVocabulary
from rnndemo.language_model_layers import build_language_model, custom_layers
from rnndemo.language_model_training import review_stream, train_language_model
from rnndemo.training import TrainingEvent
from rnndemo.vocab import Vocabulary

CLASSIFIER_WORDS = ["", "[UNK]"] + [f"w{index}" for index in range(2, 40)]
SIZE = 29  # LM words 0..28, END = 29, V = 30


def tiny_reviews(count: int, seed: int) -> list[list[int]]:
    """Short reviews with some structure: an ascending run of ids, sometimes an [UNK]."""
    rng = np.random.default_rng(seed)
    reviews = []
    for _ in range(count):
        start = int(rng.integers(2, 20))
        length = int(rng.integers(3, 9))
        reviews.append([1 if rng.random() < 0.1 else min(start + step, SIZE - 1) for step in range(length)])
    return reviews


TINY = LanguageModelConfig(
    vocabulary_size=SIZE,
    units=8,
    embedding_dim=6,
    window=8,
    batch_size=4,
    learning_rate=1e-2,
    decay_to=0.5,
    token_budget=32 * 40,
    evaluate_every=32 * 10,
    validation_reviews=6,
    patience=10,
    seed=3,
)


@pytest.fixture(scope="module")
def vocabulary() -> LanguageModelVocabulary:
    return LanguageModelVocabulary(CLASSIFIER_WORDS, SIZE)


@functools.cache
def _train(kind: str):
    """One tiny training per kind and process: pytest sets a parametrized module fixture up again whenever the
    tests of its two values interleave (as xdist hands them out), and each training is a trace and compile."""
    events: list[TrainingEvent] = []
    result = train_language_model(kind, tiny_reviews(40, 0), tiny_reviews(6, 1), TINY, events.append)
    return result, events


@pytest.fixture(scope="module", params=["rnn", "lstm"])
def trained(request, vocabulary):
    result, events = _train(request.param)
    return result, LanguageModel(request.param, result.model, vocabulary), events


def test_vocabulary_maps_classifier_ids_and_appends_end(vocabulary):
    assert len(vocabulary) == SIZE + 1 and vocabulary.words[-1] == END_TOKEN and vocabulary.end_index == SIZE
    assert vocabulary.words[:SIZE] == CLASSIFIER_WORDS[:SIZE]
    assert vocabulary.from_classifier_ids([0, 1, 5, SIZE - 1, SIZE, 39]) == [0, 1, 5, SIZE - 1, 1, 1]
    classifier = Vocabulary(CLASSIFIER_WORDS)
    tokens = ["w3", "w30", "nope", END_TOKEN]
    assert (
        vocabulary.encode_tokens(tokens)
        == vocabulary.from_classifier_ids(classifier.encode_tokens(tokens))
        == [3, 1, 1, 1]
    )
    assert vocabulary.decode([3, SIZE]) == ["w3", END_TOKEN]
    assert review_stream([[2, 3], [4]], SIZE).tolist() == [SIZE, 2, 3, SIZE, 4, SIZE]


@pytest.mark.slow
def test_training_reports_and_learns(trained):
    result, _, events = trained
    assert result.tokens_seen == TINY.token_budget and result.stop_reason == "budget"
    assert getattr(result.model, "optimizer", None) is None
    perplexities = result.history["val_perplexity"]
    assert len(perplexities) == 4 and result.best_validation_perplexity == min(perplexities)
    assert perplexities[-1] < SIZE  # better than uniform over the words
    assert {event.stage for event in events} == {"epoch", "batch"}


@pytest.mark.slow
def test_next_distribution_is_a_distribution_without_padding(trained):
    _, model, _ = trained
    for prefix in ([], [5], [5, 6, 7, 1, 8]):
        distribution = model.next_distribution(prefix)
        assert distribution.dtype == np.float64 and distribution.shape == (SIZE + 1,)
        assert distribution[0] == 0.0 and abs(distribution.sum() - 1.0) < 1e-9 and (distribution[1:] > 0).all()
    with pytest.raises(ValueError):
        model.next_distribution([0])


def test_surprisal_agrees_with_next_distribution(trained):
    _, model, _ = trained
    ids = [4, 5, 6, 1, 7, 12]
    values = model.surprisal(ids, include_end=True)
    assert values.shape == (len(ids) + 1,)
    expected = [-math.log(model.next_distribution(ids[:i])[target]) for i, target in enumerate(ids + [SIZE])]
    np.testing.assert_allclose(values, expected, atol=1e-4)
    np.testing.assert_allclose(model.surprisal(ids), values[:-1], atol=1e-6)


def test_generate_is_reproducible_and_seeded(trained):
    _, model, _ = trained
    # Temperature 1e6 makes sampling nearly uniform over 29 words, so two seeds cannot agree on 20 draws.
    first = model.generate([3, 4], 20, temperature=1e6, seed=1, stop_at_end=False)
    assert first == model.generate([3, 4], 20, temperature=1e6, seed=1, stop_at_end=False)
    assert [index for index, _ in first] != [
        index for index, _ in model.generate([3, 4], 20, temperature=1e6, seed=2, stop_at_end=False)
    ]
    assert len(first) == 20 and all(0 < index <= SIZE for index, _ in first)
    # Each probability is the unmodified model's, given the words before it.
    context = [3, 4]
    for index, probability in first[:5]:
        assert probability == pytest.approx(model.next_distribution(context)[index], abs=1e-5)
        context.append(index)
    greedy = model.generate([3, 4], 10, top_k=1, seed=0)
    assert greedy[0][0] == int(np.argmax(model.next_distribution([3, 4])))
    assert len(greedy) <= 10 and all(index != SIZE for index, _ in greedy[:-1])  # stops at END when it comes


@pytest.mark.slow
def test_saved_model_loads_safely_and_answers_the_same(trained, vocabulary, tmp_path):
    import keras

    result, model, _ = trained
    custom_layers()
    path = tmp_path / "lm.keras"
    result.model.save(path)
    loaded = keras.saving.load_model(path, compile=False, safe_mode=True)
    assert len(loaded.weights) == len(result.model.weights)  # still one embedding matrix, shared by input and output
    batch = np.asarray([[SIZE, 4, 5, 6, 1]], dtype=np.int32)
    logits = np.asarray(loaded(batch))
    np.testing.assert_array_equal(logits, np.asarray(result.model(batch)))
    assert (logits[..., 0] < -1e8).all()
    again = LanguageModel("again", loaded, vocabulary)
    np.testing.assert_array_equal(again.next_distribution([4, 5]), model.next_distribution([4, 5]))
    np.testing.assert_array_equal(
        again.surprisal([4, 5, 9], include_end=True), model.surprisal([4, 5, 9], include_end=True)
    )


def test_hidden_states_match_numpy(trained):
    """The language model's states are its recurrent layer's, recomputed by rnndemo.cells (checked against Keras's
    layers in tests/test_cells.py) from the weights."""
    result, model, _ = trained
    ids = [4, 5, 1, 9, 10]
    embedding = result.model.get_layer("embedding").get_weights()[0]
    layer = result.model.get_layer("recurrent")
    units = layer.get_weights()[1].shape[0]
    # The model reads [END] first.
    expected = cells.run_sequence(type(layer).__name__, embedding[[SIZE] + ids], *layer.get_weights()).hidden
    states = model.hidden_states(ids)
    assert states.shape == (len(ids), units)
    np.testing.assert_allclose(states, expected[1:], atol=1e-5)
    assert model.hidden_states([]).shape == (0, units)


def test_context_limited_perplexity(trained):
    _, model, _ = trained
    reviews = tiny_reviews(7, 5)
    values = np.concatenate([model.surprisal(ids, include_end=True) for ids in reviews])
    perplexity, tokens = model.context_limited_perplexity(reviews, None)
    assert tokens == sum(len(ids) + 1 for ids in reviews)
    assert perplexity == pytest.approx(math.exp(values.mean()), rel=1e-5)
    assert model.context_limited_perplexity(reviews, 100) == pytest.approx((perplexity, tokens), rel=1e-5)
    # Context 1: each word is predicted from the single token before it.
    manual = []
    for ids in reviews:
        sequence = [SIZE] + ids + [SIZE]
        for position in range(1, len(sequence)):
            window = sequence[position - 1 : position]
            distribution = model.next_distribution(window[1:]) if window == [SIZE] else None
            if distribution is None:
                # A lone word with no END before it: score it through a single-step generate-free call.
                probabilities, _, _ = model._next(
                    np.asarray([window], dtype=np.int32), model._zero_state(), model._zero_state()
                )
                distribution = np.asarray(probabilities)[0]
            manual.append(-math.log(distribution[sequence[position]]))
    one, count = model.context_limited_perplexity(reviews, 1)
    assert count == tokens and one == pytest.approx(math.exp(np.mean(manual)), rel=1e-4)


def test_untied_model_masks_padding_too():
    model = build_language_model("lstm", 12, 4, embedding_dim=3, tied=False)
    served = LanguageModel("untied", model, None)
    distribution = served.next_distribution([2, 3])
    assert distribution[0] == 0.0 and abs(distribution.sum() - 1) < 1e-9
    with pytest.raises(ValueError):
        build_language_model("gru", 12, 4)


def test_next_distributions_equal_one_next_distribution_per_prefix(trained):
    """The graph's one-pass distributions after each of the last tokens equal `next_distribution` per prefix."""
    _, model, _ = trained
    ids = [4, 5, 9, 2, 7]
    rows = model.next_distributions(ids, 3)
    expected = np.array([model.next_distribution(ids[: position + 1]) for position in range(2, 5)])
    np.testing.assert_allclose(rows, expected, atol=1e-6)
    assert (rows[:, 0] == 0).all()


def test_the_sampling_distribution_masks_excluded_words_and_renormalises():
    """Excluding a word sets its probability to exactly 0 and rescales the rest to sum to 1; the top-k cut is taken
    among the words that remain, and temperature 1 with nothing cut is the model's own distribution."""
    from rnndemo.language_model import sampling_distribution

    distribution = np.array([0.0, 0.4, 0.3, 0.2, 0.1])  # padding, [UNK], three words
    np.testing.assert_allclose(sampling_distribution(distribution), distribution)
    without_unknown = sampling_distribution(distribution, excluded=(1,))
    np.testing.assert_allclose(without_unknown, [0.0, 0.0, 0.5, 1 / 3, 1 / 6])
    assert without_unknown.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(sampling_distribution(distribution, top_k=2, excluded=(1,)), [0, 0, 0.6, 0.4, 0])
    sharp = sampling_distribution(distribution, temperature=0.5, excluded=(1,))  # p² renormalised
    np.testing.assert_allclose(sharp, np.array([0, 0, 0.09, 0.04, 0.01]) / 0.14)


@pytest.mark.slow
def test_generation_without_unknown_never_draws_it_and_names_the_alternatives(trained):
    """With the [UNK] switch on, 50 seeded generations never draw id 1 (the tiny model draws it often without the
    switch); each step lists its likeliest draws, and the chance of the drawn word is its share of that distribution."""
    from rnndemo.language_model import sampling_distribution
    from rnndemo.vocab import OOV_INDEX

    _, model, _ = trained
    drawn_with, drawn_without = [], []
    for seed in range(50):
        steps = model.generate_steps([3, 1, 4], 12, seed=seed, stop_at_end=False, exclude_unknown=True, alternatives=3)
        drawn_with += [step.index for step in steps]
        drawn_without += [index for index, _ in model.generate([3, 1, 4], 12, seed=seed, stop_at_end=False)]
    assert OOV_INDEX not in drawn_with and OOV_INDEX in drawn_without
    first = model.generate_steps([3, 4], 1, exclude_unknown=True, alternatives=3)[0]
    expected = sampling_distribution(model.next_distribution([3, 4]), excluded=(OOV_INDEX,))
    assert first.chance == pytest.approx(expected[first.index])
    assert first.probability == pytest.approx(model.next_distribution([3, 4])[first.index], abs=1e-6)
    assert [index for index, _ in first.alternatives] == list(np.argsort(-expected, kind="stable")[:3])
    assert OOV_INDEX not in [index for index, _ in first.alternatives]
    # Without the switch, generate_steps draws exactly what generate draws (the page's earlier words stay).
    assert [step.index for step in model.generate_steps([3, 4], 8, seed=7)] == [
        index for index, _ in model.generate([3, 4], 8, seed=7)
    ]


def test_one_reading_serves_every_question_and_agrees_with_separate_passes(trained):
    """The page's questions about one text share one reading, kept and read-only; what it answers equals the
    Keras model's own forward pass and the batched surprisal, each a separate pass over the text."""
    _, model, _ = trained
    ids = [4, 5, 9, 2, 7, 11]
    reading = model.read(ids)
    assert model.read(list(ids)) is reading
    assert not any(array.flags.writeable for array in vars(reading).values())
    assert reading.states.shape == (len(ids) + 1, model.units)
    logits = np.asarray(model.model(np.asarray([[SIZE, *ids]], dtype=np.int32)), dtype=np.float64)[0]
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected[:, 0] = 0.0
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(model.next_distribution(ids), expected[-1], atol=1e-6)
    np.testing.assert_allclose(model.next_distributions(ids, 3), expected[-3:], atol=1e-6)
    np.testing.assert_allclose(model.surprisal(ids, include_end=True), model.review_surprisals([ids])[0], atol=1e-5)
    targets = [*ids, SIZE]
    np.testing.assert_allclose(
        model.surprisal(ids, include_end=True), -np.log(expected[np.arange(len(targets)), targets]), atol=1e-4
    )
