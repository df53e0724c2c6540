"""Training one word-level language model: windows of the train stream, early stopping on validation perplexity.

The model is built by `rnndemo.language_model_layers`; `rnndemo.language_model` reads with it and generates.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnndemo.config import LanguageModelConfig
from rnndemo.language_model import LanguageModel
from rnndemo.language_model_layers import build_language_model, model_shape
from rnndemo.progress import ProgressCallback, TrainingEvent
from rnndemo.vocab import PADDING_INDEX


@dataclass
class LanguageModelTraining:
    """What one training run produced."""

    kind: str  # "rnn" or "lstm"
    model: Any  # the best weights, in a fresh model without optimizer state
    history: dict[str, list[float]] = field(
        default_factory=dict
    )  # per validation check: tokens, loss, val_perplexity, seconds, learning_rate
    tokens_seen: int = 0  # predicted training tokens processed
    seconds: float = 0.0  # wall time of the training loop, validation checks included
    best_validation_perplexity: float = math.inf  # on the fixed validation subset
    best_tokens: int = 0  # tokens seen when the best weights were taken
    stop_reason: str = ""  # "budget", "early stopping" or "time limit"


def review_stream(reviews: list[list[int]], end_index: int) -> np.ndarray:
    """All reviews joined as END r1 END r2 ... END, int32."""
    pieces = [np.asarray([end_index], dtype=np.int32)]
    for ids in reviews:
        pieces.append(np.asarray(ids, dtype=np.int32))
        pieces.append(np.asarray([end_index], dtype=np.int32))
    return np.concatenate(pieces)


def _window_batches(stream: np.ndarray, window: int, batch_size: int, rng: np.random.Generator):
    """Endless (inputs, targets) batches of fixed windows: each pass starts at a random offset, in random order."""
    while True:
        offset = int(rng.integers(0, window))
        count = (len(stream) - 1 - offset) // window
        starts = offset + window * rng.permutation(count)
        for first in range(0, count - batch_size + 1, batch_size):
            rows = starts[first : first + batch_size, None] + np.arange(window)[None, :]
            yield stream[rows], stream[rows + 1]


def _clean_copy(model: Any) -> Any:
    """A fresh, uncompiled model with `model`'s weights and no optimizer state."""
    shape = model_shape(model)
    clean = build_language_model(
        shape["kind"], shape["vocabulary_size"], shape["units"], shape["embedding_dim"], tied=shape["tied"]
    )
    clean.set_weights(model.get_weights())
    return clean


def train_language_model(
    kind: str,
    train_reviews: list[list[int]],
    validation_reviews: list[list[int]],
    config: LanguageModelConfig,
    report: ProgressCallback | None = None,
    embedding_matrix: np.ndarray | None = None,
) -> LanguageModelTraining:
    """Train one LM on windows of the train stream for `config.token_budget` tokens, keeping the
    weights with the best perplexity on the fixed validation subset (early stopping).

    Reviews are LM id lists (`encode_reviews`); `embedding_matrix` (V × embedding_dim) initialises E.
    """
    import keras

    report = report or (lambda event: None)
    keras.utils.set_random_seed(config.seed)
    vocabulary_size = config.vocabulary_size + 1
    end_index = config.vocabulary_size
    stream = review_stream(train_reviews, end_index)
    bias = None
    if config.unigram_bias:
        counts = np.bincount(stream, minlength=vocabulary_size).astype(np.float64) + 1.0
        counts[PADDING_INDEX] = 1.0  # masked anyway
        bias = np.log(counts / counts.sum())
    model = build_language_model(
        kind, vocabulary_size, config.units, config.embedding_dim, embedding_matrix, config.tied, bias
    )
    optimizer = keras.optimizers.Adam(config.learning_rate, clipnorm=config.clip_norm)
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    scorer = LanguageModel(kind, model, None, warm=False)
    validation = list(validation_reviews[: config.validation_reviews])

    rng = np.random.default_rng(config.seed)
    batches = _window_batches(stream, config.window, config.batch_size, rng)
    tokens_per_batch = config.window * config.batch_size
    total_batches = max(1, config.token_budget // tokens_per_batch)
    checks = max(1, total_batches * tokens_per_batch // config.evaluate_every)
    report_every = max(1, min(50, total_batches // 10))  # batch events: about every 50 steps
    history: dict[str, list[float]] = {
        "tokens": [],
        "loss": [],
        "val_perplexity": [],
        "seconds": [],
        "learning_rate": [],
    }
    best_perplexity, best_weights, best_tokens, waited = math.inf, model.get_weights(), 0, 0
    halvings = 1.0  # product of the plateau halvings so far
    stop_reason, tokens_seen, losses = "budget", 0, []
    next_check = config.evaluate_every
    started = time.perf_counter()
    for batch_number in range(1, total_batches + 1):
        inputs, targets = next(batches)
        if config.decay_to != 1.0:
            progress = (batch_number - 1) / total_batches
            schedule = config.decay_to + (1.0 - config.decay_to) * 0.5 * (1.0 + math.cos(math.pi * progress))
            optimizer.learning_rate.assign(config.learning_rate * schedule * halvings)
        losses.append(float(model.train_on_batch(inputs, targets)))
        tokens_seen += tokens_per_batch
        elapsed = time.perf_counter() - started
        out_of_time = config.max_seconds is not None and elapsed > config.max_seconds
        if batch_number % report_every == 0:
            remaining = elapsed / batch_number * (total_batches - batch_number)
            report(
                TrainingEvent(
                    "batch",
                    kind,
                    "",
                    len(history["tokens"]) + 1,
                    checks,
                    batch_number,
                    total_batches,
                    {"loss": float(np.mean(losses[-report_every:])), "tokens": tokens_seen},
                    remaining,
                )
            )
        if tokens_seen < next_check and batch_number < total_batches and not out_of_time:
            continue
        next_check += config.evaluate_every
        perplexity, _ = scorer.perplexity(validation)
        for key, value in (
            ("tokens", tokens_seen),
            ("loss", float(np.mean(losses))),
            ("val_perplexity", perplexity),
            ("seconds", time.perf_counter() - started),
            ("learning_rate", float(optimizer.learning_rate.numpy())),
        ):
            history[key].append(float(value))
        losses = []
        if perplexity < best_perplexity:
            best_perplexity, best_weights, best_tokens, waited = perplexity, model.get_weights(), tokens_seen, 0
        else:
            waited += 1
            halvings /= 2
            optimizer.learning_rate.assign(float(optimizer.learning_rate.numpy()) / 2)
        metrics = {key: round(values[-1], 4) for key, values in history.items()}
        report(
            TrainingEvent(
                "epoch",
                kind,
                f"{kind} after {tokens_seen:,} tokens: validation perplexity {perplexity:.1f}",
                len(history["tokens"]),
                checks,
                metrics=metrics,
                eta_seconds=elapsed / tokens_seen * (total_batches * tokens_per_batch - tokens_seen),
            )
        )
        if out_of_time:
            stop_reason = "time limit"
            break
        if waited >= config.patience:
            stop_reason = "early stopping"
            break
    seconds = time.perf_counter() - started
    model.set_weights(best_weights)
    return LanguageModelTraining(
        kind, _clean_copy(model), history, tokens_seen, seconds, best_perplexity, best_tokens, stop_reason
    )
