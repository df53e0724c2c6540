"""The shape of the models folder's JSON: a small schema language (`Check`, `MayBeAbsent`, `Each`, `ListOf`,
`shape_problem`) and the manifest's shape, which every loader, page and command relies on.

Pages and commands index these files directly (manifest["split"]["test"], a row's "ci_low"). A key that is
missing or of the wrong type is refused by the file's name (`rnndemo.models.read_manifest`, and each artifact's
loader with its own shape), instead of crashing whichever page reads it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_SHA256 = re.compile(r"[0-9a-f]{64}")


def manifest_problem(manifest: Any) -> str | None:
    """What is wrong with a manifest's shape, or None (the schema every loader, page and command relies on)."""
    return shape_problem(manifest, MANIFEST_SHAPE)


@dataclass(frozen=True)
class Check:
    """A leaf of a shape: a test of one value, and what the value must be (for the message)."""

    test: Callable[[Any], bool]
    must_be: str


@dataclass(frozen=True)
class MayBeAbsent:
    """A key of an object shape that may be missing; when present its value has `shape`."""

    shape: Any


@dataclass(frozen=True)
class Each:
    """An object of any keys whose every value has `shape`."""

    shape: Any


@dataclass(frozen=True)
class ListOf:
    """A non-empty list whose every item has `shape`."""

    shape: Any


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)  # NaN is a number: a metric may be NaN


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_numbers(value: Any) -> bool:
    return isinstance(value, list) and all(_is_number(item) for item in value)


def _is_confusion_matrix(value: Any) -> bool:
    rows = value if isinstance(value, list) and len(value) == 2 else [None]
    return all(isinstance(row, list) and len(row) == 2 and all(_is_count(cell) for cell in row) for row in rows)


NUMBER = Check(_is_number, "a number")
COUNT = Check(_is_count, "a whole number of at least 0")
TEXT = Check(lambda value: isinstance(value, str), "text")
NUMBERS = Check(_is_numbers, "a list of numbers")
SOME_NUMBERS = Check(lambda value: _is_numbers(value) and len(value) > 0, "a non-empty list of numbers")
DIGEST = Check(lambda value: isinstance(value, str) and _SHA256.fullmatch(value) is not None, "a sha256 digest")
SEQUENCE_LENGTH = Check(lambda value: _is_count(value) and 1 <= value <= 100_000, "a whole number from 1 to 100,000")
CONFUSION_MATRIX = Check(_is_confusion_matrix, "a 2 x 2 table of counts")

HYPERPARAMETERS = {"initialised_from": MayBeAbsent(TEXT), "max_features": MayBeAbsent(COUNT)}
HELD_OUT_SCORES = {"test_accuracy": NUMBER, "test_auc": NUMBER, "rotten_tomatoes_accuracy": NUMBER}


CLASSIFIER_ENTRY = HELD_OUT_SCORES | {
    "file": TEXT,
    "parameters": COUNT,
    "epochs": COUNT,
    "training_seconds": NUMBER,
    "history": Each(NUMBERS),
    "hyperparameters": HYPERPARAMETERS,
    "test": {"confusion_matrix": CONFUSION_MATRIX},
    "validation_accuracy": MayBeAbsent(NUMBER),
}


BASELINE_ENTRY = HELD_OUT_SCORES | {
    "hyperparameters": HYPERPARAMETERS,
    "training_seconds": MayBeAbsent(NUMBER),
    "validation_accuracy": MayBeAbsent(NUMBER),
    "test": MayBeAbsent({"confusion_matrix": CONFUSION_MATRIX}),
}


LANGUAGE_MODEL_ENTRY = {
    "file": TEXT,
    "test": {"perplexity": NUMBER, "tokens": COUNT},
    "validation_perplexity": MayBeAbsent(NUMBER),
    "tokens_seen": MayBeAbsent(COUNT),
    "training_seconds": MayBeAbsent(NUMBER),
    "parameters": MayBeAbsent(COUNT),
    "history": MayBeAbsent({"tokens": NUMBERS, "val_perplexity": NUMBERS}),
}


FORECASTER_ENTRY = {
    "files": ListOf(TEXT),
    "test": {"mase": Each(NUMBER), "rmse": Each(NUMBER), "smape": Each(NUMBER)},
}


MANIFEST_SHAPE = {
    "files": Each(DIGEST),
    "sequence_length": SEQUENCE_LENGTH,
    "models": MayBeAbsent(Each(CLASSIFIER_ENTRY)),
    # classifiers trained for the memory experiment only, never served (registry.EXPERIMENT_MODELS)
    "experiment_models": MayBeAbsent(Each(CLASSIFIER_ENTRY)),
    "baseline": MayBeAbsent(BASELINE_ENTRY),
    "vocabulary_size": MayBeAbsent(COUNT),
    "glove_coverage": MayBeAbsent({"hits": COUNT, "misses": COUNT}),
    "split": MayBeAbsent(
        {key: COUNT for key in ("train", "validation", "test", "duplicates_dropped")} | {"test_sha256": TEXT}
    ),
    "created": MayBeAbsent(TEXT),
    "language_models": MayBeAbsent(Each(LANGUAGE_MODEL_ENTRY)),
    "language_model_vocabulary": MayBeAbsent({"classifier_words": COUNT, "test_oov_rate": MayBeAbsent(NUMBER)}),
    # series -> forecaster -> its files and test scores per horizon (`train-forecasters`; rnndemo.forecast_models)
    "forecasters": MayBeAbsent(Each(Each(FORECASTER_ENTRY))),
}


# What the classifiers' pages read besides: a folder trained by `train` always has them.
CLASSIFIER_KEYS = ("models", "baseline", "vocabulary_size", "glove_coverage", "split")


def shape_problem(value: Any, shape: Any, where: str = "") -> str | None:
    """Where `value` first differs from `shape`, as "'split.test' must be a whole number …", or None.

    A shape is a Check, an object shape (a dict of key -> shape; MayBeAbsent marks an optional key; other keys
    are allowed), Each(shape) or ListOf(shape).
    """
    shown = where[:80]  # a key is the file's text: never a whole page of it in a message
    if isinstance(shape, Check):
        return None if shape.test(value) else f"'{shown}' must be {shape.must_be}"
    if isinstance(shape, ListOf):
        if not isinstance(value, list) or not value:
            return f"'{shown}' must be a non-empty list"
        return _first_problem((item, shape.shape, f"{where}[{index}]") for index, item in enumerate(value))
    if not isinstance(value, dict):
        return f"'{shown}' must be an object" if where else "not a JSON object"
    if isinstance(shape, Each):
        return _first_problem((item, shape.shape, _key_path(where, key)) for key, item in value.items())
    missing = [key for key, item in shape.items() if key not in value and not isinstance(item, MayBeAbsent)]
    if missing:
        return f"'{_key_path(where, missing[0])[:80]}' is missing"
    return _first_problem(
        (value[key], item.shape if isinstance(item, MayBeAbsent) else item, _key_path(where, key))
        for key, item in shape.items()
        if key in value
    )


def _first_problem(checks) -> str | None:
    return next((problem for problem in (shape_problem(*check) for check in checks) if problem), None)


def _key_path(where: str, key: str) -> str:
    return f"{where}.{key}" if where else str(key)
