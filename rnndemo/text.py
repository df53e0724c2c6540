"""Stage 1: cleaning and tokenising a review, as in the Keras RNN lesson.

Every cleaning step can be switched off on its own. Letters, digits and
combining marks of any script survive (`café`, `1970s`, `电影`); control and
invisible format characters (NUL, zero-width, bidi overrides) are always
removed because they carry no words and can disguise text.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

DEFAULT_TEXT = (
    'I happened across "Bait" on cable one night just as it started and thought, '
    '"Eh, why not?" I\'m glad I gave it a chance. "Bait" ain\'t perfect. It suffers '
    "from unnecessarily flashy direction and occasional dumbness. But overall, this "
    "movie worked. All the elements aligned just right, and they pulled off what "
    "otherwise could have been a pretty ugly film. Most of that, I think, is due to "
    "Jamie Foxx. I don't know who tagged Foxx for the lead, but whoever it was did "
    "this movie a big favor. Believable and amazingly likeable, Foxx glides through "
    "the movie, smooth as butter and funnier than hell."
)

_BREAK_TAG = re.compile(r"<\s*br\s*/?\s*>", re.IGNORECASE)
# Anything that is not a word character, whitespace or apostrophe; `_` counts as punctuation.
_NON_WORD = re.compile(r"[^\w\s']|_")
# An apostrophe not standing between two word characters (quotes, leading/trailing).
_LOOSE_APOSTROPHE = re.compile(r"(?<!\w)'|'(?!\w)")
_WHITESPACE = re.compile(r"\s+")
_TYPOGRAPHIC_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


@dataclass(frozen=True)
class CleaningOptions:
    """Which cleaning steps run; all on by default, as in the lesson."""

    lowercase: bool = True  # "Bait" -> "bait"
    remove_line_breaks: bool = True  # IMDB's <br /> tags become spaces
    remove_punctuation: bool = True  # keeps apostrophes inside words: i'm, ain't
    collapse_whitespace: bool = True  # runs of spaces/newlines become one space


def _strip_invisible(text: str) -> str:
    """Drop control (Cc) and format (Cf) characters, keeping ordinary whitespace."""
    if text.isprintable():
        return text
    return "".join(
        " " if unicodedata.category(character) in ("Cc", "Cf") and not character.isspace() else character
        for character in text
    )


def _replace_punctuation(match: re.Match[str]) -> str:
    """Keep combining marks (accents written separately), replace everything else by a space."""
    character = match.group()
    return character if unicodedata.category(character).startswith("M") else " "


def clean_text(text: str, options: CleaningOptions = CleaningOptions()) -> str:
    """Return `text` cleaned by the steps switched on in `options`."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, not {type(text).__name__}")
    cleaned = unicodedata.normalize("NFC", _strip_invisible(text))
    if options.lowercase:
        cleaned = cleaned.lower()
    if options.remove_line_breaks:
        cleaned = _BREAK_TAG.sub(" ", cleaned)
    if options.remove_punctuation:
        cleaned = cleaned.translate(_TYPOGRAPHIC_APOSTROPHES)
        cleaned = _NON_WORD.sub(_replace_punctuation, cleaned)
        cleaned = _LOOSE_APOSTROPHE.sub(" ", cleaned)
    if options.collapse_whitespace:
        cleaned = _WHITESPACE.sub(" ", cleaned).strip()
    return cleaned


def tokenize(text: str, options: CleaningOptions = CleaningOptions()) -> list[str]:
    """Clean `text` and split it on whitespace."""
    return clean_text(text, options).split()


def index_by_appearance(tokens: list[str]) -> tuple[dict[str, int], list[int]]:
    """Number words 1, 2, 3 ... in order of first appearance (the lesson's slides)."""
    word_index: dict[str, int] = {}
    for token in tokens:
        word_index.setdefault(token, len(word_index) + 1)
    return word_index, [word_index[token] for token in tokens]


def index_by_frequency(tokens: list[str]) -> tuple[dict[str, int], list[int]]:
    """Number words by how often they occur in the text; ties go to the first to appear."""
    counts = Counter(tokens)  # keys in order of first appearance
    ordered = sorted(counts, key=lambda word: -counts[word])  # a stable sort keeps that order among ties
    word_index = {word: rank + 1 for rank, word in enumerate(ordered)}
    return word_index, [word_index[token] for token in tokens]


def word_counts(tokens: list[str]) -> list[tuple[str, int]]:
    """Unique words with their counts, most frequent first (ties: first appearance)."""
    word_index, _ = index_by_frequency(tokens)
    counts = Counter(tokens)
    return [(word, counts[word]) for word in word_index]
