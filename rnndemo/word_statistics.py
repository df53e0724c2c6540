"""What the training data says about a word: how many training reviews contain it, and how many of those are
positive.

The "why it said that" card (rnndemo.explain) quotes these counts beside the words that swung a verdict:
the LSTM calls the lesson's positive review negative because of "favor", and "favor" is in 199 training
reviews, only 34% of them positive. The counts come from the train split only, never the validation or
test split, one count per review however often the word occurs in it, for every word of the classifiers'
vocabulary.

Tokenising the 19,904 training reviews takes about 5 s (more on a busy server), too slow for a page, so the
counts are an artifact of the models folder like the others: `training.write_models` writes
word_statistics.json beside vocabulary.json, its sha256 is in the manifest, and `load` verifies it.
`python -m rnndemo.word_statistics [models folder]` writes it for a folder trained before it existed.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnndemo import models, shapes
from rnndemo.vocab import FIRST_WORD_INDEX, Vocabulary

FILE = "word_statistics.json"
HINT = "rebuild it with: python -m rnndemo.word_statistics"


@dataclass(frozen=True)
class WordCount:
    """One word in the training reviews."""

    word: str
    reviews: int  # training reviews that contain the word at least once
    positive: int  # of those, the ones labelled positive

    @property
    def positive_share(self) -> float:
        return self.positive / self.reviews if self.reviews else float("nan")


@dataclass(frozen=True)
class WordStatistics:
    """Per vocabulary word: the training reviews that contain it, and how many of them are positive."""

    words: list[str]  # the vocabulary, by id (0 padding and 1 [UNK] are counted as 0)
    containing: np.ndarray  # (vocabulary,) int64: reviews containing each word
    positive: np.ndarray  # (vocabulary,) int64: of those, positive
    reviews: int  # training reviews counted
    positive_reviews: int  # of those, positive: the base rate to read a word's share against

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {word: position for position, word in enumerate(self.words)})

    @property
    def positive_share(self) -> float:
        return self.positive_reviews / self.reviews if self.reviews else float("nan")

    def of(self, word: str) -> WordCount | None:
        """The word's counts, or None for a word outside the vocabulary (and for padding and [UNK])."""
        position = self._index.get(word)
        if position is None or position < 2:
            return None
        return WordCount(word, int(self.containing[position]), int(self.positive[position]))

    def to_json(self) -> dict:
        return {
            "format": 1,
            "split": "train",
            "reviews": self.reviews,
            "positive_reviews": self.positive_reviews,
            "containing": self.containing.tolist(),
            "positive": self.positive.tolist(),
        }


def count(token_lists: Iterable[list[str]], labels: Iterable[int], vocabulary: Vocabulary) -> WordStatistics:
    """Count, for every vocabulary word, the reviews containing it and the positive ones among them."""
    containing = np.zeros(len(vocabulary), dtype=np.int64)
    positive = np.zeros(len(vocabulary), dtype=np.int64)
    reviews = positive_reviews = 0
    for tokens, label in zip(token_lists, labels):
        ids = np.unique(vocabulary.encode_tokens(tokens))  # each word once per review
        containing[ids] += 1
        if int(label) == 1:
            positive[ids] += 1
        reviews += 1
        positive_reviews += int(label) == 1
    containing[:FIRST_WORD_INDEX] = positive[:FIRST_WORD_INDEX] = 0  # padding and [UNK] are not words
    return WordStatistics(list(vocabulary.words), containing, positive, reviews, positive_reviews)


_SHAPE = {
    "reviews": shapes.COUNT,
    "positive_reviews": shapes.COUNT,
    "containing": shapes.ListOf(shapes.COUNT),
    "positive": shapes.ListOf(shapes.COUNT),
}


def from_json(value: object, vocabulary: Vocabulary) -> WordStatistics:
    """The statistics of a parsed file, checked against the folder's vocabulary; ModelFileError if they do not fit."""
    problem = shapes.shape_problem(value, _SHAPE)
    if problem is None and not len(value["containing"]) == len(value["positive"]) == len(vocabulary):
        problem = f"it counts {len(value['containing']):,} words for a vocabulary of {len(vocabulary):,}"
    if problem is None and (
        any(part > whole for part, whole in zip(value["positive"], value["containing"]))
        or max(value["containing"]) > value["reviews"]
        or value["positive_reviews"] > value["reviews"]
    ):
        problem = "some count is larger than the count it is part of"
    if problem is not None:
        raise models.ModelFileError(f"{FILE} is not shaped like word statistics ({problem}); {HINT}")
    return WordStatistics(
        list(vocabulary.words),
        np.asarray(value["containing"], dtype=np.int64),
        np.asarray(value["positive"], dtype=np.int64),
        value["reviews"],
        value["positive_reviews"],
    )


def save(statistics: WordStatistics, path: Path) -> None:
    import json

    Path(path).write_text(json.dumps(statistics.to_json(), separators=(",", ":")), encoding="utf-8")


def load(models_dir: Path, manifest: dict, vocabulary: Vocabulary) -> WordStatistics | None:
    """The folder's verified word statistics; None when it has none; ModelFileError names a damaged file."""
    value = models.load_verified_json(models_dir, manifest, FILE, HINT)
    return None if value is None else from_json(value, vocabulary)


def training_split_statistics(vocabulary: Vocabulary) -> WordStatistics:
    """Count the train split's reviews now (about 5 s): what training writes, for a folder without the file."""
    from rnndemo import data
    from rnndemo.text import tokenize

    train = data.load_splits().train
    return count((tokenize(text) for text in train["text"]), train["label"], vocabulary)


def write(models_dir: Path) -> Path:
    """Write the statistics of a trained folder's vocabulary into it and record the file in its manifest."""
    models_dir = Path(models_dir)
    vocabulary = models.load_vocabulary(models_dir, models.read_manifest(models_dir))
    path = models_dir / FILE
    save(training_split_statistics(vocabulary), path)
    models.record_in_manifest(models_dir, FILE)
    return path


if __name__ == "__main__":
    from rnndemo.config import default_models_dir

    print(f"wrote {write(Path(sys.argv[1]) if len(sys.argv) > 1 else default_models_dir())}")
