"""The Kneser–Ney n-gram model: a brute-force reference, normalisation, surprisal, a Markov source, save/load."""

from collections import Counter

import numpy as np
import pytest

from rnndemo.ngram import NgramModel

VOCABULARY_SIZE = 8  # 0 padding, 1 [UNK], words 2..6, 7 the end token
END = VOCABULARY_SIZE - 1
CORPUS = [[2, 3, 4, 2, 3], [3, 4, 5, 1], [2, 3, 3, 6, 2, 3, 4], []]
DISCOUNT = 0.6
# Seen and unseen histories, shorter and longer than the order needs; only the last order-1 ids matter.
CONTEXTS = [[], [END], [2], [2, 3], [3, 4], [4, 4], [6, 6], [END, 2, 3], [5, 5, 1], [3, 3, 6, 2], [END, END, END]]


def brute_force_probability(reviews, vocabulary_size, order, discount, context, word):
    """Interpolated Kneser–Ney straight from the formulas, by counting n-gram tuples with Python loops."""
    end = vocabulary_size - 1
    top_counts = Counter()
    for review in reviews:
        padded = [end] * (order - 1) + review + [end]
        for position in range(order - 1, len(padded)):
            top_counts[tuple(padded[position - order + 1 : position + 1])] += 1

    def counts_at(length):
        if length == order:
            return top_counts
        # Continuation count of a length-gram: how many distinct words precede it among (length+1)-gram types.
        longer_types = {gram[-(length + 1) :] for gram in top_counts}
        return Counter(gram[1:] for gram in longer_types)

    def probability(length):
        if length == 0:
            return 0.0 if word == 0 else 1.0 / (vocabulary_size - 1)
        history = tuple(([end] * order + list(context))[-(length - 1) :]) if length > 1 else ()
        row = {gram: count for gram, count in counts_at(length).items() if gram[:-1] == history}
        lower = probability(length - 1)
        total = sum(row.values())
        if total == 0:
            return lower
        return max(row.get(history + (word,), 0) - discount, 0) / total + discount * len(row) / total * lower

    return probability(order)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_distribution_matches_a_brute_force_count_of_the_formulas(order):
    model = NgramModel.fit(CORPUS, VOCABULARY_SIZE, order=order, discount=DISCOUNT)
    for context in CONTEXTS:
        expected = [
            brute_force_probability(CORPUS, VOCABULARY_SIZE, order, DISCOUNT, context, word)
            for word in range(VOCABULARY_SIZE)
        ]
        np.testing.assert_allclose(model.distribution(context), expected, rtol=1e-12, atol=0, err_msg=str(context))


def test_order_one_is_a_discounted_unigram_mixed_with_uniform_worked_by_hand():
    # Predicted tokens 1, 1, 2, END: counts 2, 1, 1 over 3 types, total 4, d = 0.5, uniform 1/3 over ids 1..3.
    model = NgramModel.fit([[1, 1, 2]], vocabulary_size=4, order=1, discount=0.5)
    np.testing.assert_allclose(model.distribution([2, 2]), [0.0, 0.5, 0.25, 0.25], rtol=1e-12)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_every_distribution_sums_to_one_never_predicts_padding_and_misses_no_word(order):
    random = np.random.default_rng(order)
    vocabulary_size = 15
    # Words 10..13 never occur in training, so they live on the uniform floor alone.
    reviews = [random.integers(1, 10, size=random.integers(0, 12)).tolist() for _ in range(30)]
    model = NgramModel.fit(reviews, vocabulary_size, order=order)
    for context in [[], [vocabulary_size - 1], reviews[0][:2], reviews[1], [12, 13], [13, 1, 12]]:
        probabilities = model.distribution(context)
        assert probabilities.dtype == np.float64 and probabilities.shape == (vocabulary_size,)
        assert abs(probabilities.sum() - 1.0) < 1e-9, context
        assert probabilities[0] == 0.0
        assert np.all(probabilities[1:] > 0.0), context


@pytest.mark.parametrize("order", [1, 2, 3])
def test_surprisal_is_minus_log_of_the_distribution_and_perplexity_its_exponentiated_mean(order):
    model = NgramModel.fit(CORPUS, VOCABULARY_SIZE, order=order, discount=DISCOUNT)
    review = [2, 3, 4, 6, 6, 1, 5, 2, 3]  # seen and unseen n-grams, [UNK] included
    surprisals = model.surprisal(review)
    assert surprisals.shape == (len(review) + 1,)
    for position, token in enumerate(review + [END]):
        expected = -np.log(model.distribution([END] + review[:position])[token])
        assert surprisals[position] == pytest.approx(expected, rel=1e-12, abs=0)
    held_out = [review, [], [5, 5, 5]]
    perplexity, tokens = model.perplexity(held_out)
    all_surprisals = np.concatenate([model.surprisal(ids) for ids in held_out])
    assert tokens == len(review) + 1 + 1 + 4
    assert perplexity == pytest.approx(np.exp(all_surprisals.mean()), rel=1e-12)


def markov_reviews(count, seed):
    """Reviews from a second-order source: the last two words matter, the last one more than the one before."""
    rules = np.random.default_rng(0)  # the same source for training and held-out text
    words = np.arange(2, 22)
    by_two = rules.choice(words, size=(24, 24))
    by_one = rules.choice(words, size=24)
    random = np.random.default_rng(seed)
    reviews = []
    for _ in range(count):
        review = [int(random.choice(words)), int(random.choice(words))]
        for _ in range(int(random.integers(10, 40))):
            draw = random.random()
            follower = (
                by_two[review[-2], review[-1]]
                if draw < 0.5
                else by_one[review[-1]]
                if draw < 0.8
                else random.choice(words)
            )
            review.append(int(follower))
        reviews.append(review)
    return reviews


def test_on_a_second_order_source_trigram_beats_bigram_beats_unigram_on_held_out_text():
    training, held_out = markov_reviews(1500, seed=1), markov_reviews(300, seed=2)
    perplexities = [NgramModel.fit(training, 23, order=order).perplexity(held_out)[0] for order in (1, 2, 3)]
    unigram, bigram, trigram = perplexities
    assert trigram < 0.8 * bigram and bigram < 0.8 * unigram, perplexities


@pytest.mark.parametrize("order", [1, 2, 3])
def test_save_then_load_gives_identical_distributions(tmp_path, order):
    model = NgramModel.fit(CORPUS, VOCABULARY_SIZE, order=order, discount=DISCOUNT)
    model.save(tmp_path / "model.npz")
    loaded = NgramModel.load(tmp_path / "model.npz")
    assert (loaded.vocabulary_size, loaded.order, loaded.discount) == (VOCABULARY_SIZE, order, DISCOUNT)
    for context in CONTEXTS:
        assert np.array_equal(loaded.distribution(context), model.distribution(context))
    assert np.array_equal(loaded.surprisal([2, 3, 6, 1]), model.surprisal([2, 3, 6, 1]))


def rewritten(tmp_path, change):
    """A saved trigram model with one field changed by `change(fields)`."""
    NgramModel.fit(CORPUS, VOCABULARY_SIZE, order=3).save(tmp_path / "good.npz")
    with np.load(tmp_path / "good.npz") as archive:
        fields = {name: archive[name] for name in archive.files}
    change(fields)
    np.savez(tmp_path / "bad.npz", **fields)
    return tmp_path / "bad.npz"


def set_field(name, value):
    return lambda fields: fields.__setitem__(name, value)


def with_ngrams(edit):
    """Decode the stored n-grams (order, entries), let `edit` change them, and store them again."""

    def change(fields):
        columns = np.cumsum(fields["token_differences"].astype(np.int64), axis=1)
        edit(columns)
        fields["token_differences"] = np.diff(columns, axis=1, prepend=0).astype(np.uint16)

    return change


def set_token(row, column, value):
    return with_ngrams(lambda columns: columns.__setitem__((row, column), value))


def swap_first_two(columns):
    columns[:, [0, 1]] = columns[:, [1, 0]]


@pytest.mark.parametrize(
    "change, message",
    [
        (set_field("order", np.int64(2)), "must be \\(2, n\\)"),
        (set_field("order", np.int64(4)), "order must be"),
        (set_field("vocabulary_size", np.int64(2)), "vocabulary_size"),
        (set_field("discount", np.float64(0.0)), "discount"),
        (set_field("format_version", np.int64(9)), "format version"),
        (set_field("counts", np.ones(2, dtype=np.uint32)), "counts \\(n,\\)"),
        (set_field("token_differences", np.ones((3, 4, 1), dtype=np.uint16)), "must be \\(3, n\\)"),
        (set_field("token_differences", np.ones((3, 0), dtype=np.uint16)), "counts \\(n,\\)"),
        (lambda fields: fields.pop("counts"), "must be"),
        (set_token(0, 0, 0), "token ids must be in"),  # padding as a token
        (set_token(2, 1, VOCABULARY_SIZE), "token ids must be in"),  # an id past the vocabulary
        (with_ngrams(lambda columns: columns.__setitem__((slice(None), 1), columns[:, 0])), "distinct, sorted"),
        (with_ngrams(swap_first_two), "distinct, sorted"),
        (lambda fields: fields.__setitem__("counts", np.zeros_like(fields["counts"])), "positive counts"),
    ],
)
def test_a_tampered_or_ill_shaped_file_raises_value_error(tmp_path, change, message):
    with pytest.raises(ValueError, match=message):
        NgramModel.load(rewritten(tmp_path, change))


def test_a_file_that_is_not_a_model_archive_raises_value_error_without_unpickling(tmp_path):
    garbage, truncated, pickled, single = (
        tmp_path / name for name in ("garbage.npz", "truncated.npz", "pickled.npz", "single.npy")
    )
    garbage.write_bytes(b"not a model at all")
    NgramModel.fit(CORPUS, VOCABULARY_SIZE).save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:150])
    np.savez(pickled, counts=np.array([{"a": 1}], dtype=object))
    np.save(single, np.arange(3))
    for path in (garbage, truncated, pickled, single):
        with pytest.raises(ValueError, match="model"):
            NgramModel.load(path)


def test_bad_ids_and_settings_are_refused():
    with pytest.raises(ValueError, match="0 is padding"):
        NgramModel.fit([[2, 0, 3]], VOCABULARY_SIZE)
    with pytest.raises(ValueError, match="end token"):
        NgramModel.fit([[2, END]], VOCABULARY_SIZE)
    with pytest.raises(ValueError, match="order"):
        NgramModel.fit(CORPUS, VOCABULARY_SIZE, order=4)
    with pytest.raises(ValueError, match="discount"):
        NgramModel.fit(CORPUS, VOCABULARY_SIZE, discount=0.0)
    model = NgramModel.fit(CORPUS, VOCABULARY_SIZE)
    with pytest.raises(ValueError, match="padding"):
        model.distribution([2, 0])
    with pytest.raises(ValueError, match="integers"):
        model.surprisal([2.5])


def test_a_returned_distribution_is_the_callers_own_copy():
    model = NgramModel.fit(CORPUS, VOCABULARY_SIZE)
    first = model.distribution([2, 3])
    first[:] = 0.0
    assert model.distribution([2, 3]).sum() == pytest.approx(1.0)
