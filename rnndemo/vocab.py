"""Stage 2: the model's vocabulary (Keras convention: 0 = padding, 1 = out-of-vocabulary)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PADDING_INDEX = 0
OOV_INDEX = 1
FIRST_WORD_INDEX = 2  # ids below it are padding and out-of-vocabulary, not words
PADDING_TOKEN = ""
OOV_TOKEN = "[UNK]"
FILE_ENCODING = "utf-8"  # vocabulary.json holds the words as written (café, 电影), whatever the locale
# The language models' end-of-review word, at index N after a classifier vocabulary's first N words
# (language_model.LanguageModelVocabulary). Defined here, in a module every caller may import cheaply.
END_TOKEN = "</review>"


@dataclass(frozen=True)
class EncodedText:
    """A text as the model sees it."""

    tokens: list[str]  # all tokens of the cleaned text
    ids: list[int]  # vocabulary index of every token (1 = out-of-vocabulary)
    oov: list[bool]  # True where a token is out-of-vocabulary
    padded: list[int]  # exactly `sequence_length` ids: what the model reads
    seen_tokens: list[str]  # the tokens behind the non-padding ids in `padded`
    cut_tokens: int  # how many tokens truncation dropped


class Vocabulary:
    """Corpus-frequency-ranked vocabulary, capped at `size` entries (including 0 and 1)."""

    def __init__(self, words: list[str]):
        if not isinstance(words, list) or not all(isinstance(word, str) for word in words):
            raise ValueError("a vocabulary is a list of words")
        if words[:2] != [PADDING_TOKEN, OOV_TOKEN]:
            raise ValueError("a vocabulary must start with the padding and out-of-vocabulary tokens")
        if len(set(words)) != len(words):
            raise ValueError("a vocabulary lists each word once")
        self.words = list(words)
        self.index = {word: position for position, word in enumerate(self.words)}

    @classmethod
    def build(cls, token_lists: Iterable[list[str]], size: int) -> Vocabulary:
        """Rank words by corpus frequency; ties are broken alphabetically so builds are stable."""
        counts: Counter[str] = Counter()
        for tokens in token_lists:
            counts.update(tokens)
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return cls([PADDING_TOKEN, OOV_TOKEN] + [word for word, _ in ranked[: size - 2]])

    def __len__(self) -> int:
        return len(self.words)

    def lookup(self, token: str) -> int:
        """The index of `token`, or 1 if it is out-of-vocabulary."""
        return self.index.get(token, OOV_INDEX)

    def encode_tokens(self, tokens: list[str]) -> list[int]:
        """Map tokens to indices (1 for out-of-vocabulary)."""
        return [self.index.get(token, OOV_INDEX) for token in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Map indices back to tokens; 0 decodes to '' and 1 to '[UNK]'."""
        return [self.words[int(index)] if 0 <= int(index) < len(self.words) else OOV_TOKEN for index in ids]

    def encode(
        self, tokens: list[str], sequence_length: int, truncating: str = "pre", padding: str = "pre"
    ) -> EncodedText:
        """Encode, then pad/truncate to `sequence_length` exactly as the model input is built."""
        ids = self.encode_tokens(tokens)
        padded, kept = pad_sequence(ids, sequence_length, truncating=truncating, padding=padding)
        seen = tokens[kept]
        return EncodedText(
            tokens=tokens,
            ids=ids,
            oov=[index == OOV_INDEX for index in ids],
            padded=padded,
            seen_tokens=seen,
            cut_tokens=len(tokens) - len(seen),
        )

    def save(self, path: Path) -> None:
        """Write the vocabulary as JSON (a list of words, position = index)."""
        text = json.dumps(
            self.words,
            ensure_ascii=False,  # pragma: no mutate (json reads None as False: the same program)
        )
        Path(path).write_text(text, encoding=FILE_ENCODING)

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        """Read a vocabulary written by `save`."""
        return cls(json.loads(Path(path).read_text(encoding=FILE_ENCODING)))


def truncation_note(sequence_length: int, cut_tokens: int) -> str:
    """The one sentence that tells a user tokens were cut (pages, CLI and batch all say it this way)."""
    return f"the models read the last {sequence_length:,} tokens; {cut_tokens:,} tokens were cut from the start"


def pad_sequence(
    ids: list[int], sequence_length: int, truncating: str = "pre", padding: str = "pre"
) -> tuple[list[int], slice]:
    """Pad with 0 / truncate to `sequence_length`, as keras pad_sequences does.

    Returns the padded ids and the slice of the original ids that was kept.
    `truncating="pre"` drops tokens from the start (the model reads the end).
    """
    if truncating not in ("pre", "post") or padding not in ("pre", "post"):
        raise ValueError("padding and truncating must be 'pre' or 'post'")
    if sequence_length < 1:
        raise ValueError("sequence_length must be at least 1")
    if truncating == "pre":
        kept = slice(max(0, len(ids) - sequence_length), len(ids))
    else:
        kept = slice(0, min(len(ids), sequence_length))
    body = list(ids[kept])
    fill = [PADDING_INDEX] * (sequence_length - len(body))
    return (fill + body if padding == "pre" else body + fill), kept


def pad_batch(id_lists: list[list[int]], sequence_length: int) -> np.ndarray:
    """Pre-pad and pre-truncate many id lists into an int32 matrix (batch, sequence_length)."""
    matrix = np.zeros((len(id_lists), sequence_length), dtype=np.int32)
    for row, ids in enumerate(id_lists):
        body = ids[-sequence_length:]
        if body:
            matrix[row, sequence_length - len(body) :] = body
    return matrix
