"""The word-order test: how much each classifier's held-out accuracy depends on the order of the words.

Every model scores the held-out test reviews four times: as written; with the words it reads shuffled; with them
reversed; and with the words shuffled within each sentence only. Each condition keeps exactly the words the model
reads (the last `sequence_length` tokens of the review), so only their order changes. The shuffles are seeded
per review, so every model reads the same shuffled texts and a rerun gives the same file.

The accuracy lost to a shuffle is how much a model uses word order. The DFN classifies the mean of its word
vectors, which no reordering changes: its loss is 0 by construction (tests/test_order_test.py).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rnndemo import models, shapes
from rnndemo.evaluation import accuracy, decide
from rnndemo.text import tokenize

CONDITIONS: tuple[str, ...] = ("original", "shuffled", "reversed", "sentence_shuffled")
CONDITION_NAMES = {
    "original": "as written",
    "shuffled": "words shuffled",
    "reversed": "words reversed",
    "sentence_shuffled": "words shuffled within each sentence",
}
ORDER_TEST_FILE = "order_test.json"
SEED = 1337
HINT = "recompute it with: python -m rnndemo order-test"
# The text between two sentence ends (., !, ? or an IMDB line break). These characters are spaces to the
# tokeniser, so the sentences' tokens, joined, are exactly the review's tokens.
_SENTENCE_END = re.compile(r"[.!?]+|<\s*br\s*/?\s*>", re.IGNORECASE)
ORDER_TEST_SHAPE = {
    "models": shapes.Each({condition: shapes.NUMBER for condition in CONDITIONS}),
    "n": shapes.COUNT,
    "seed": shapes.COUNT,
}


def sentences(text: str) -> list[list[str]]:
    """The tokens of each sentence of `text` (empty sentences dropped); joined, they are `tokenize(text)`."""
    return [tokens for tokens in (tokenize(piece) for piece in _SENTENCE_END.split(text)) if tokens]


def reorder(tokens_by_sentence: list[list[str]], condition: str, rng: np.random.Generator, sequence_length: int):
    """The last `sequence_length` tokens of the review (what a model reads), reordered as `condition` says."""
    tokens = [token for sentence in tokens_by_sentence for token in sentence][-sequence_length:]
    if condition == "original":
        return tokens
    if condition == "shuffled":
        return [tokens[index] for index in rng.permutation(len(tokens))]
    if condition == "reversed":
        return tokens[::-1]
    if condition == "sentence_shuffled":
        sentence_of = np.repeat(np.arange(len(tokens_by_sentence)), [len(s) for s in tokens_by_sentence])
        sentence_of = sentence_of[len(sentence_of) - len(tokens) :]  # the sentence of each token read
        reordered = []
        for sentence in np.unique(sentence_of):
            positions = np.flatnonzero(sentence_of == sentence)
            reordered.extend(tokens[index] for index in positions[rng.permutation(len(positions))])
        return reordered
    raise ValueError(f"unknown condition {condition!r}; use one of {', '.join(CONDITIONS)}")


def reordered_reviews(texts: list[str], sequence_length: int, seed: int = SEED) -> dict[str, list[list[str]]]:
    """condition -> the tokens each model reads of each review. Review i's shuffles come from the generator
    seeded with (seed, i), so they do not depend on the other reviews or on the models."""
    result: dict[str, list[list[str]]] = {condition: [] for condition in CONDITIONS}
    for row, text in enumerate(texts):
        tokens_by_sentence = sentences(text)
        for condition in CONDITIONS:
            rng = np.random.default_rng([seed, row, CONDITIONS.index(condition)])
            result[condition].append(reorder(tokens_by_sentence, condition, rng, sequence_length))
    return result


def model_probabilities(bundle: Any, name: str, token_lists: list[list[str]]) -> np.ndarray:
    """p(positive) of model `name` of a serving bundle for reviews given as the tokens it reads."""
    if name == "baseline":
        return np.asarray(bundle.baseline.predict_proba([" ".join(tokens) for tokens in token_lists]))
    return bundle.classifiers[name].predict_ids([bundle.vocabulary.encode_tokens(tokens) for tokens in token_lists])


def run_order_test(
    bundle: Any,
    texts: list[str],
    labels: np.ndarray,
    seed: int = SEED,
    progress: Callable[[str, float], None] | None = None,
) -> dict:
    """Each model's accuracy on `texts` under every condition, and the share of verdicts each condition changed."""
    progress = progress or (lambda message, fraction: None)
    started = time.perf_counter()
    reviews = reordered_reviews(texts, int(bundle.manifest["sequence_length"]), seed)
    labels = np.asarray(labels)
    result: dict = {"design": __doc__.strip(), "split": "test", "n": len(texts), "seed": seed, "models": {}}
    changed: dict[str, dict[str, float]] = {}
    names = bundle.names()
    for position, name in enumerate(names):
        probabilities = {}
        for step, condition in enumerate(CONDITIONS):
            progress(f"{name}: {CONDITION_NAMES[condition]}", (position + step / len(CONDITIONS)) / len(names))
            probabilities[condition] = model_probabilities(bundle, name, reviews[condition])
        result["models"][name] = {
            condition: round(accuracy(probabilities[condition], labels), 4) for condition in CONDITIONS
        }
        original = decide(probabilities["original"])
        changed[name] = {
            condition: round(float(np.mean(decide(probabilities[condition]) != original)), 4)
            for condition in CONDITIONS[1:]
        }
    result["verdicts_changed"] = changed
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def save_order_test(result: dict, path: Path) -> None:
    Path(path).write_text(json.dumps(result, indent=1), encoding="utf-8")


def load_order_test(models_dir: Path, manifest: dict) -> dict | None:
    """The verified order test of a models folder; None when it was never computed; ModelFileError when the file
    fails its sha256 or is not shaped like an order test."""
    result = models.load_verified_json(models_dir, manifest, ORDER_TEST_FILE, HINT)
    if result is None:
        return None
    problem = shapes.shape_problem(result, ORDER_TEST_SHAPE)
    if problem:
        raise models.ModelFileError(f"{ORDER_TEST_FILE} is not shaped like an order test ({problem}); {HINT}")
    return result


def drops(result: dict) -> dict[str, dict[str, float]]:
    """Accuracy points lost under each reordering, per model (original minus reordered, times 100)."""
    return {
        name: {condition: round(100 * (scores["original"] - scores[condition]), 2) for condition in CONDITIONS[1:]}
        for name, scores in result["models"].items()
    }


def claim(result: dict, display_names: dict[str, str]) -> str:
    """The lesson's claim in one sentence, with the measured numbers: what shuffling the words costs the LSTM
    (or the first recurrent model there is) and the DFN."""
    lost = drops(result)
    recurrent = next((name for name in ("lstm", "gru", "rnn") if name in lost), None)
    parts = []
    for name in (recurrent, "dfn"):
        if name is None or name not in lost:
            continue
        points = lost[name]["shuffled"]
        if points > 0:
            cost = f"{points:.1f} accuracy points"
        else:
            cost = "none" if points == 0 else f"none (it gains {-points:.1f} points)"
        parts.append(f"the {display_names.get(name, name)} {cost}")
    if not parts:
        return ""
    return f"On {result['n']:,} held-out test reviews, shuffling the words costs {' and '.join(parts)}."


# --- One text on the page: reorder it, and say what changed ------------------------------------------------------


def variant_text(text: str, condition: str, seed: int, sequence_length: int) -> str:
    """The words a model reads of `text`, reordered as `condition` says (seeded), joined by spaces."""
    rng = np.random.default_rng([seed, CONDITIONS.index(condition)])
    return " ".join(reorder(sentences(text), condition, rng, sequence_length))


def change_sentence(before: dict[str, float], after: dict[str, float], display_names: dict[str, str]) -> str:
    """Which models' verdicts the reordering changed, and how far every p(positive) moved, in one or two
    sentences. `before`, `after`: model -> p(positive) on the text and on its reordering."""
    flipped = [name for name in before if name in after and decide(before[name]) != decide(after[name])]
    moves = ", ".join(
        f"{display_names.get(name, name)} {after[name] - before[name]:+.3f}" for name in before if name in after
    )
    if flipped:
        names = ", ".join(
            f"the {display_names.get(name, name)} ({before[name]:.2f} → {after[name]:.2f})" for name in flipped
        )
        opening = f"The reordering changed the verdict of {names}."
    else:
        opening = "The reordering changed no model's verdict."
    return f"{opening} Change in p(positive): {moves}."


def words_read(text: str, sequence_length: int) -> list[str]:
    """The tokens a model reads of `text`: its last `sequence_length` tokens, in order."""
    return tokenize(text)[-sequence_length:]


def swap_problem(tokens: Sequence[str], first: int, second: int) -> str | None:
    """Why the words at positions `first` and `second` (counted from 1) of `tokens` cannot be swapped, in a
    sentence for the visitor; None when they can."""
    if len(tokens) < 2:
        count = "no words" if not tokens else f"one word (“{tokens[0]}”)"
        return f"A swap needs two words; this review has {count}."
    for position in (first, second):
        if not 1 <= position <= len(tokens):
            return (
                f"Position {position} is out of range: the review has {len(tokens):,} words, "
                f"so pick positions from 1 to {len(tokens):,}."
            )
    if first == second:
        return f"Pick two different positions: both are position {first} (“{tokens[first - 1]}”)."
    return None


def swap_words(tokens: Sequence[str], first: int, second: int) -> list[str]:
    """A copy of `tokens` with the words at positions `first` and `second` (counted from 1, as the page shows
    them) exchanged; every other word stays where it was. ValueError, with `swap_problem`'s sentence, when the
    positions are the same, out of range, or the review has fewer than two words."""
    problem = swap_problem(tokens, first, second)
    if problem:
        raise ValueError(problem)
    swapped = list(tokens)
    swapped[first - 1], swapped[second - 1] = swapped[second - 1], swapped[first - 1]
    return swapped


# --- Minimal pairs: the same words (or nearly), the order flips the meaning --------------------------------------


MINIMAL_PAIRS: tuple[tuple[tuple[str, str], tuple[str, str]], ...] = (
    (("not bad, actually good", "positive"), ("not good, actually bad", "negative")),
    (("I expected to hate it but loved it", "positive"), ("I expected to love it but hated it", "negative")),
    (
        ("Everyone said it was awful, but I thought it was great", "positive"),
        ("Everyone said it was great, but I thought it was awful", "negative"),
    ),
    (("It started boring but ended wonderful", "positive"), ("It started wonderful but ended boring", "negative")),
    (("The critics hated it and I loved it", "positive"), ("The critics loved it and I hated it", "negative")),
    (("First it bored me, then it moved me", "positive"), ("First it moved me, then it bored me", "negative")),
)


def pair_sentences() -> list[tuple[str, str]]:
    """Every sentence of the minimal pairs with its label, in order."""
    return [sentence for pair in MINIMAL_PAIRS for sentence in pair]


def pair_accuracy(bundle: Any) -> dict[str, float]:
    """Each model's accuracy on the minimal pairs' sentences (against their curated labels)."""
    sentences_and_labels = pair_sentences()
    labels = np.asarray([label == "positive" for _, label in sentences_and_labels])
    result = {}
    for name in bundle.names():
        probabilities = np.asarray(
            [bundle.classify(text, [name])[name].probability_positive for text, _ in sentences_and_labels]
        )
        result[name] = round(float(np.mean(decide(probabilities) == labels)), 4)
    return result
