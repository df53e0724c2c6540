"""Cleaning, tokenising and the two in-text index orders."""

from rnndemo.text import (
    DEFAULT_TEXT,
    CleaningOptions,
    clean_text,
    index_by_appearance,
    index_by_frequency,
    tokenize,
    word_counts,
)


def test_worked_example_first_appearance_indices():
    """The lesson's slide numbers: i=1, happened=2, across=3, bait=4 ... night=8, and the 20th token is i again."""
    tokens = tokenize(DEFAULT_TEXT)
    word_index, ids = index_by_appearance(tokens)
    assert tokens[:8] == ["i", "happened", "across", "bait", "on", "cable", "one", "night"]
    assert [word_index[w] for w in ("i", "happened", "across", "bait", "night")] == [1, 2, 3, 4, 8]
    assert tokens[19] == "i" and ids[19] == 1
    assert ids[:8] == list(range(1, 9))


def test_apostrophes_inside_words_are_kept_and_quotes_removed():
    tokens = tokenize(DEFAULT_TEXT)
    assert {"i'm", "ain't", "don't"} <= set(tokens)
    assert not any('"' in token or token.startswith("'") or token.endswith("'") for token in tokens)
    assert tokenize("'Quoted' words aren't 'odd'") == ["quoted", "words", "aren't", "odd"]


def test_line_breaks_removed_and_whitespace_collapsed():
    assert clean_text("Great<br /><br />film.<BR>Really") == "great film really"
    assert clean_text("a \t\n  b\r\nc") == "a b c"


def test_unicode_letters_digits_survive():
    assert tokenize("Café 1970s 电影 naïve!") == ["café", "1970s", "电影", "naïve"]
    # A combining accent (e + U+0301) is kept and normalised to one character.
    assert tokenize("cafe\u0301") == ["café"]


def test_invisible_and_control_characters_removed():
    assert tokenize("go\u200bod\x00bad\u202egood") == ["go", "od", "bad", "good"]


def test_each_step_can_be_switched_off():
    text = 'Great<br />film, "really"  GOOD'
    assert clean_text(text, CleaningOptions(lowercase=False)) == "Great film really GOOD"
    assert clean_text(text, CleaningOptions(remove_line_breaks=False)) == "great br film really good"
    assert clean_text(text, CleaningOptions(remove_punctuation=False)) == 'great film, "really" good'
    assert clean_text(text, CleaningOptions(collapse_whitespace=False)) == "great film   really   good"
    assert clean_text(text, CleaningOptions(False, False, False, False)) == text


def test_frequency_order_ties_broken_by_first_appearance():
    tokens = "b a c a b a d".split()
    word_index, ids = index_by_frequency(tokens)
    assert word_index == {"a": 1, "b": 2, "c": 3, "d": 4}
    assert ids == [2, 1, 3, 1, 2, 1, 4]
    assert word_counts(tokens) == [("a", 3), ("b", 2), ("c", 1), ("d", 1)]


def test_default_text_frequency_top_words():
    word_index, _ = index_by_frequency(tokenize(DEFAULT_TEXT))
    ranked = sorted(word_index, key=word_index.get)
    # and x5; i, it x4 (i appears first); a, movie, the, foxx x3 in order of first appearance.
    assert ranked[:7] == ["and", "i", "it", "a", "movie", "the", "foxx"]


def test_typographic_apostrophes_are_folded_to_the_plain_one():
    """Reviews pasted from a word processor write I’m with U+2019 (or ‘, or the modifier letter ʼ): each is the
    apostrophe the vocabulary knows, so "I’m" is the token "i'm", not "i" and "m"."""
    assert tokenize("I\u2019m sure it\u2019s the director\u2019s best") == [
        "i'm",
        "sure",
        "it's",
        "the",
        "director's",
        "best",
    ]
    assert tokenize("don\u2018t") == ["don't"] and tokenize("can\u02bct") == ["can't"]
    assert clean_text("\u2019Quoted\u2019 and isn\u2019t") == "quoted and isn't"  # loose ones are quotes, as ' is
    # Without punctuation removal the text is left as written.
    assert clean_text("I\u2019m", CleaningOptions(remove_punctuation=False)) == "i\u2019m"


def test_invisible_characters_become_spaces_and_ordinary_whitespace_stays():
    """Control (Cc: bell, NUL) and format (Cf: zero-width space, bidi override) characters become spaces even with
    punctuation removal off; tabs and newlines are Cc too but are whitespace, and stay as written."""
    raw = CleaningOptions(lowercase=False, remove_punctuation=False, collapse_whitespace=False)
    assert clean_text("a\x07b\x00c\u200bd\u202ee", raw) == "a b c d e"
    assert clean_text("a\tb\nc", raw) == "a\tb\nc"
    assert tokenize("good\u200bfilm") == ["good", "film"]


def test_combining_marks_stay_in_their_word_and_other_symbols_split_it():
    """A combining mark with no precomposed letter (q + U+0301) and Devanagari's vowel signs (Mn, Mc) stay in
    their word; punctuation and symbols (¿, ★) split it."""
    assert tokenize("q\u0301 x") == ["q\u0301", "x"]
    assert tokenize("हिंदी फ़िल्म") == ["हिंदी", "फ़िल्म"]
    assert tokenize("¿bueno★malo") == ["bueno", "malo"]


def test_a_text_that_is_not_a_string_is_refused_with_its_type_named():
    import pytest

    with pytest.raises(TypeError, match="^text must be a string, not int$"):
        clean_text(5)
    with pytest.raises(TypeError, match="^text must be a string, not NoneType$"):
        tokenize(None)


def test_tokenize_uses_the_options_it_is_given():
    assert tokenize("Good <br />Film!", CleaningOptions(lowercase=False)) == ["Good", "Film"]
    assert tokenize("Good <br />Film!", CleaningOptions(remove_line_breaks=False, remove_punctuation=False)) == [
        "good",
        "<br",
        "/>film!",
    ]


def test_frequency_ranks_by_count_then_first_appearance():
    word_index, ids = index_by_frequency(["b", "a", "c", "a", "c", "d", "c"])
    assert word_index == {"c": 1, "a": 2, "b": 3, "d": 4} and ids == [3, 2, 1, 2, 1, 4, 1]
    assert word_counts(["b", "a", "c", "a", "c", "d", "c"]) == [("c", 3), ("a", 2), ("b", 1), ("d", 1)]
