"""The model vocabulary: Keras conventions, padding/truncation, round trips, and TextVectorization as reference."""

import numpy as np
import pytest

from rnndemo.vocab import OOV_INDEX, Vocabulary, pad_batch, pad_sequence

CORPUS = [
    "the movie was good good good".split(),
    "the film was bad".split(),
    "the the movie film good".split(),
]


def test_frequency_rank_with_padding_and_oov_reserved():
    vocabulary = Vocabulary.build(CORPUS, size=6)
    # good and the both occur 4 times; film, movie, was twice: ties go alphabetically.
    assert vocabulary.words == ["", "[UNK]", "good", "the", "film", "movie"]
    assert vocabulary.encode_tokens(["the", "bad", "zebra"]) == [3, OOV_INDEX, OOV_INDEX]


def test_pad_and_truncate_pre_and_post_show_what_the_model_sees():
    vocabulary = Vocabulary.build(CORPUS, size=10)
    tokens = "the good movie was bad".split()
    pre = vocabulary.encode(tokens, sequence_length=3, truncating="pre", padding="pre")
    assert pre.seen_tokens == ["movie", "was", "bad"] and pre.cut_tokens == 2
    assert pre.padded == vocabulary.encode_tokens(["movie", "was", "bad"])
    post = vocabulary.encode(tokens, sequence_length=3, truncating="post")
    assert post.seen_tokens == ["the", "good", "movie"]
    short = vocabulary.encode(["good"], sequence_length=4, padding="post")
    assert short.padded == [vocabulary.lookup("good"), 0, 0, 0] and short.cut_tokens == 0
    assert vocabulary.encode(["good"], sequence_length=4).padded == [0, 0, 0, vocabulary.lookup("good")]


def test_pad_sequence_matches_keras_pad_sequences():
    from keras.utils import pad_sequences

    rows = [[5, 6, 7, 8, 9], [3], []]
    for truncating in ("pre", "post"):
        for padding in ("pre", "post"):
            expected = pad_sequences(rows, maxlen=3, truncating=truncating, padding=padding)
            ours = [pad_sequence(row, 3, truncating=truncating, padding=padding)[0] for row in rows]
            np.testing.assert_array_equal(np.array(ours), expected)
    np.testing.assert_array_equal(pad_batch(rows, 3), pad_sequences(rows, maxlen=3))


def test_encode_decode_round_trip_marks_oov():
    vocabulary = Vocabulary.build(CORPUS, size=10)
    tokens = "the movie was unseen".split()
    encoded = vocabulary.encode(tokens, sequence_length=6)
    assert vocabulary.decode(encoded.ids) == ["the", "movie", "was", "[UNK]"]
    assert encoded.oov == [False, False, False, True]
    assert vocabulary.decode(encoded.padded) == ["", "", "the", "movie", "was", "[UNK]"]


def test_save_and_load(tmp_path):
    vocabulary = Vocabulary.build(CORPUS, size=10)
    vocabulary.save(tmp_path / "v.json")
    assert Vocabulary.load(tmp_path / "v.json").words == vocabulary.words


def test_bad_arguments_raise_value_error():
    with pytest.raises(ValueError):
        pad_sequence([1], 3, truncating="middle")
    with pytest.raises(ValueError):
        Vocabulary(["a", "b"])


def test_matches_keras_text_vectorization_on_the_same_tokens():
    """Our vocabulary and ids equal keras.layers.TextVectorization's, given the same cleaned text."""
    from keras import layers

    from rnndemo.text import tokenize

    # great x5, bad x4, plot x3, film x2, end x1: distinct counts, so no tie-break rule is involved.
    texts = ["Great, great film!", "Bad film; BAD plot.", "Great: bad plot, great great", "Plot? Bad... end", "great"]
    cleaned = [" ".join(tokenize(text)) for text in texts]
    vectorizer = layers.TextVectorization(max_tokens=7, standardize=None, split="whitespace", output_mode="int")
    vectorizer.adapt(cleaned)
    ours = Vocabulary.build([text.split() for text in cleaned], size=7)
    assert vectorizer.get_vocabulary() == ours.words
    keras_ids = vectorizer(cleaned[:3]).numpy()
    for row, text in enumerate(cleaned[:3]):
        ids = ours.encode_tokens(text.split())
        assert keras_ids[row][: len(ids)].tolist() == ids
