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


def test_lookup_and_decode_of_unknown_words_and_ids():
    vocabulary = Vocabulary.build(CORPUS, size=6)  # ["", "[UNK]", "good", "the", "film", "movie"]
    assert vocabulary.lookup("zebra") == 1 and vocabulary.lookup("the") == 3
    assert vocabulary.decode([0, 1, 5, 6, -1, 99]) == ["", "[UNK]", "movie", "[UNK]", "[UNK]", "[UNK]"]
    assert vocabulary.encode(["the", "zebra"], sequence_length=3).tokens == ["the", "zebra"]


def test_pad_sequence_defaults_to_keras_pre_pre_and_returns_the_slice_it_kept():
    assert pad_sequence([5, 6, 7, 8, 9], 3) == ([7, 8, 9], slice(2, 5))
    assert pad_sequence([5, 6], 3) == ([0, 5, 6], slice(0, 2))
    assert pad_sequence([5, 6, 7], 3, truncating="post") == ([5, 6, 7], slice(0, 3))
    assert pad_sequence([5, 6, 7, 8], 3, truncating="post") == ([5, 6, 7], slice(0, 3))
    assert pad_sequence([5, 6], 3, truncating="post") == ([0, 5, 6], slice(0, 2))
    assert pad_sequence([5, 6], 1) == ([6], slice(1, 2))  # the shortest allowed length
    assert pad_batch([[5, 6]], 3).dtype == np.int32


def test_bad_arguments_say_what_is_wrong():
    with pytest.raises(ValueError, match="^padding and truncating must be 'pre' or 'post'$"):
        pad_sequence([1], 3, padding="middle")
    with pytest.raises(ValueError, match="^sequence_length must be at least 1$"):
        pad_sequence([1], 0)
    with pytest.raises(ValueError, match="^a vocabulary is a list of words$"):
        Vocabulary("abc")  # a string is not a list, though each of its characters is a string
    with pytest.raises(ValueError, match="^a vocabulary is a list of words$"):
        Vocabulary(["", "[UNK]", 3])
    with pytest.raises(ValueError, match="^a vocabulary must start with the padding and out-of-vocabulary tokens$"):
        Vocabulary(["a", "b"])
    with pytest.raises(ValueError, match="^a vocabulary lists each word once$"):
        Vocabulary(["", "[UNK]", "a", "a"])


def test_the_file_holds_the_words_as_written_in_utf8_whatever_the_locale(tmp_path):
    """Saved and loaded under an ASCII locale (C, UTF-8 mode off), café and 电影 survive, readable in the file."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import rnndemo

    words = "['', '[UNK]', 'caf\\u00e9', '\\u7535\\u5f71']"  # escaped: the script's own text stays ASCII
    # The process starts in the inherited locale (its environment and file names decode as usual) and switches its
    # text files' default to ASCII, as on a machine whose locale is C: only an explicit UTF-8 keeps the words.
    script = (
        "import codecs, locale, sys; from pathlib import Path; locale.setlocale(locale.LC_CTYPE, 'C'); "
        "assert codecs.lookup(locale.getpreferredencoding(False)).name == 'ascii', locale.getpreferredencoding(False); "
        "from rnndemo.vocab import Vocabulary; path = Path(sys.argv[1]); "
        f"Vocabulary({words}).save(path); print(Vocabulary.load(path).words == {words})"
    )
    environment = os.environ | {"PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}
    environment["PYTHONPATH"] = str(Path(rnndemo.__file__).parent.parent)  # the rnndemo under test
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "v.json")], env=environment, capture_output=True, text=True
    )
    assert result.stdout.strip() == "True", result.stderr
    written_under_ascii = (tmp_path / "v.json").read_bytes()
    assert written_under_ascii == '["", "[UNK]", "café", "电影"]'.encode()
    Vocabulary(["", "[UNK]", "café", "电影"]).save(tmp_path / "here.json")  # and the same file in this locale
    assert (tmp_path / "here.json").read_bytes() == written_under_ascii
    assert Vocabulary.load(tmp_path / "here.json").words[2:] == ["café", "电影"]
