"""The training loop of one classifier: length-bucketed batches, `train_on_batch`, a validation pass after every
epoch, the best epoch's weights kept; and the start from the LSTM language model's embedding and cell."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnndemo import data, models
from rnndemo.config import ClassifierConfig, TrainingConfig
from rnndemo.evaluation import accuracy
from rnndemo.progress import ProgressCallback, TrainingEvent
from rnndemo.vocab import Vocabulary, pad_batch


def length_batches(
    id_lists: list[list[int]],
    labels: np.ndarray,
    batch_size: int,
    sequence_length: int,
    rng: np.random.Generator | None,
):
    """Batches of similar-length reviews, each padded only to its own longest review.

    Sorting within pools of 50 batches cuts the padded steps (and the CPU time of
    the recurrent loop) roughly in half; `rng=None` keeps a fixed order (validation).
    """
    order = np.arange(len(id_lists)) if rng is None else rng.permutation(len(id_lists))
    pool_size = batch_size * 50
    batches = []
    for start in range(0, len(order), pool_size):
        pool = order[start : start + pool_size]
        pool = pool[np.argsort([min(len(id_lists[row]), sequence_length) for row in pool], kind="stable")]
        for batch_start in range(0, len(pool), batch_size):
            rows = pool[batch_start : batch_start + batch_size]
            longest = max(1, min(sequence_length, max(len(id_lists[row]) for row in rows)))
            batches.append((pad_batch([id_lists[row] for row in rows], longest), labels[rows].astype(np.float32)))
    if rng is not None:
        batches = [batches[index] for index in rng.permutation(len(batches))]
    return batches


@dataclass(frozen=True)
class TrainedModel:
    """One recurrent model after training."""

    model: Any  # a fresh, uncompiled Keras model with the best weights (no optimizer state)
    history: dict[str, list[float]]  # per epoch: loss (train), val_loss, val_accuracy, seconds (cumulative)
    epochs: int  # epochs run before early stopping
    best_epoch: int  # the epoch whose weights were kept (by the model's `select_by`)
    seconds: float  # wall-clock training time


@dataclass(frozen=True)
class PreparedData:
    """Every split as tokens, ids and labels, with the vocabulary and the GloVe-initialised embedding."""

    splits: data.Splits
    train_count: int  # training reviews used (all, or `train_limit`)
    tokens: dict[str, list[list[str]]]  # split -> tokens of each review
    ids: dict[str, list[list[int]]]  # split -> vocabulary ids of each review
    labels: dict[str, np.ndarray]  # split -> 0/1 labels
    vocabulary: Vocabulary
    embedding_matrix: np.ndarray  # (vocabulary size, embedding_dim)
    glove_hits: int
    glove_misses: int


def architecture_for(name: str, prepared: PreparedData, config: TrainingConfig) -> models.ModelArchitecture:
    """The shape of classifier `name` as `config` chooses it."""
    choice = config.classifier(name)
    rows, width = prepared.embedding_matrix.shape
    return models.ModelArchitecture(
        name,
        rows,
        width,
        choice.units,
        dropout=choice.dropout,
        spatial_dropout=choice.spatial_dropout,
        output_dropout=choice.output_dropout,
        readout=choice.readout,
        kernel_widths=choice.kernel_widths,
    )


def epochs_for(choice: ClassifierConfig, config: TrainingConfig) -> int:
    """The epoch bound of one classifier: its own, never above the run's (`train --epochs` lowers every one)."""
    return min(choice.max_epochs or config.max_epochs, config.max_epochs)


def selection_score(history: dict[str, list[float]], select_by: str) -> float:
    """How good the latest epoch is on validation, higher being better: −loss or accuracy."""
    if select_by == "loss":
        return -history["val_loss"][-1]
    if select_by == "accuracy":
        return history["val_accuracy"][-1]
    raise ValueError(f"select_by must be 'loss' or 'accuracy', not {select_by!r}")


def binary_cross_entropy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean log loss in nats (probabilities clipped as Keras clips them)."""
    clipped = np.clip(np.asarray(probabilities, dtype=np.float64), 1e-7, 1 - 1e-7)
    return float(-np.mean(labels * np.log(clipped) + (1 - labels) * np.log(1 - clipped)))


def train_recurrent(
    name: str,
    prepared: PreparedData,
    config: TrainingConfig,
    report: ProgressCallback,
    language_model: Any = None,
) -> TrainedModel:
    """Train one classifier with a `train_on_batch` loop over length-bucketed batches, scoring the
    validation split after every epoch and keeping the weights of its best epoch on validation
    (lowest loss or highest accuracy, as the classifier's configuration says).

    `language_model`: a Keras LSTM language model to start from, when the classifier's
    configuration asks for it (`initialise_from="language_model"`) and the shapes agree.
    """
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(config.seed)
    choice = config.classifier(name)
    architecture = architecture_for(name, prepared, config)
    model = models.build_model(architecture, prepared.embedding_matrix)
    if choice.initialise_from == "language_model" and language_model is not None:
        initialise_from_language_model(model, language_model)
    model.compile(
        optimizer=keras.optimizers.Adam(choice.learning_rate, clipnorm=config.clip_norm), loss="binary_crossentropy"
    )
    # One compiled forward pass for validation; `model.predict` per batch costs ~100 ms of overhead each.
    forward = tf.function(
        lambda ids: model(ids, training=False),
        input_signature=[tf.TensorSpec(shape=(None, None), dtype=tf.int32)],
        autograph=False,
    )
    validation = length_batches(
        prepared.ids["validation"], prepared.labels["validation"], config.batch_size, config.sequence_length, None
    )
    validation_labels = np.concatenate([labels for _, labels in validation])
    rng = np.random.default_rng(config.seed)
    max_epochs = epochs_for(choice, config)
    history: dict[str, list[float]] = {
        "loss": [],
        "val_loss": [],
        "val_accuracy": [],
        "seconds": [],
        "learning_rate": [],
    }
    best_score, best_weights, best_epoch = -np.inf, model.get_weights(), 0
    started = time.perf_counter()
    for epoch in range(1, max_epochs + 1):
        rate = choice.learning_rate * choice.learning_rate_decay ** (epoch - 1)
        model.optimizer.learning_rate.assign(rate)
        batches = length_batches(
            prepared.ids["train"], prepared.labels["train"], config.batch_size, config.sequence_length, rng
        )
        losses = []
        for index, (inputs, targets) in enumerate(batches):
            losses.append(float(model.train_on_batch(inputs, targets)))
            if index % 50 == 0 or index + 1 == len(batches):
                done = (epoch - 1) * len(batches) + index + 1
                per_batch = (time.perf_counter() - started) / done
                report(
                    TrainingEvent(
                        "batch",
                        name,
                        "",
                        epoch,
                        max_epochs,
                        index + 1,
                        len(batches),
                        {"loss": float(np.mean(losses))},
                        per_batch * (len(batches) - index - 1),  # this epoch's remaining time
                    )
                )
        probabilities = np.concatenate([forward(inputs).numpy()[:, 0] for inputs, _ in validation])
        history["loss"].append(round(float(np.mean(losses)), 4))
        history["val_loss"].append(round(binary_cross_entropy(probabilities, validation_labels), 4))
        history["val_accuracy"].append(round(accuracy(probabilities, validation_labels), 4))
        history["seconds"].append(round(time.perf_counter() - started, 1))
        history["learning_rate"].append(float(model.optimizer.learning_rate.numpy()))
        metrics = {key: values[-1] for key, values in history.items()}
        report(TrainingEvent("epoch", name, f"{name} epoch {epoch}: {metrics}", epoch, max_epochs, metrics=metrics))
        score = selection_score(history, choice.select_by)
        if score > best_score:  # a tie keeps the earlier epoch
            best_score, best_weights, best_epoch = score, model.get_weights(), epoch
        elif epoch - best_epoch >= config.patience:
            break
    # A fresh, uncompiled copy carries the best weights and no optimizer state into the file.
    clean = models.build_model(architecture)
    clean.set_weights(best_weights)
    return TrainedModel(
        model=clean,
        history=history,
        epochs=len(history["loss"]),
        best_epoch=best_epoch,
        seconds=time.perf_counter() - started,
    )


def embedding_start(language_model: Any, rows: int) -> str:
    """Where a classifier's embedding started, for the manifest (as `initialise_from_language_model` fills it)."""
    if language_model is None:
        return "GloVe 6B-50d initialised, trainable"
    shared = min(int(language_model.get_layer("embedding").get_weights()[0].shape[0]) - 1, rows)
    return (
        f"the LSTM language model's vectors for the {shared:,} most frequent words, GloVe 6B-50d for the other "
        f"{rows - shared:,}; trainable"
    )


def initialise_from_language_model(model: Any, language_model: Any) -> None:
    """Copy the LSTM language model's recurrent layer and its embedding rows into the classifier.

    The language model's vocabulary is the classifier's first N words (same ids) plus "</review>",
    so its rows 0..N-1 replace the classifier's GloVe rows 0..N-1; rarer words keep GloVe.
    """
    embedding = model.get_layer("embedding")
    matrix = np.array(embedding.get_weights()[0])
    pretrained = np.asarray(language_model.get_layer("embedding").get_weights()[0])  # (N + 1, d): E of the tied layer
    rows = min(pretrained.shape[0] - 1, matrix.shape[0])
    if pretrained.shape[1] != matrix.shape[1]:
        raise ValueError(
            f"the language model's vectors are {pretrained.shape[1]}-d, the classifier's {matrix.shape[1]}-d"
        )
    matrix[:rows] = pretrained[:rows]
    embedding.set_weights([matrix])
    model.get_layer("recurrent").set_weights(language_model.get_layer("recurrent").get_weights())
