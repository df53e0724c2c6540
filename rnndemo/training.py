"""Training every cached model, atomically, with a progress seam for any caller.

`train_all` knows nothing about its caller: it reports `TrainingEvent`s to a
callback (the CLI prints them; a Streamlit page could draw a bar). New artifacts
are written to a temporary folder next to the models folder and swapped in only
when complete, with the manifest written last, so an interrupted run leaves the
previous models intact.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from rnndemo import data, embeddings, models, shapes, word_statistics
from rnndemo.config import TRAINING, TrainingConfig, default_models_dir
from rnndemo.evaluation import accuracy, heldout_metrics
from rnndemo.forecast_models import carry_forecasters
from rnndemo.progress import ProgressCallback, TrainingEvent
from rnndemo.registry import BY_NAME, DISPLAY_NAMES, EXPERIMENT_BY_NAME, EXPERIMENT_NAMES, RECURRENT_NAMES
from rnndemo.text import tokenize
from rnndemo.training_artifacts import (
    Manifest,
    add_language_models,
    carry_language_models,
    carry_race_sweep,
    copy_classifiers,
    file_hashes,
    new_staging_folder,
    swap_in,
    write_manifest,
    write_predictions,
)
from rnndemo.training_loop import PreparedData, embedding_start, train_recurrent
from rnndemo.vocab import Vocabulary

EVALUATED_SPLITS = ("validation", "test", "rotten")  # held out: early stopping, the report, out of domain
SPECS = BY_NAME | EXPERIMENT_BY_NAME  # every Keras classifier training can write, served or experiment-only


def manifest_section(name: str) -> str:
    """The manifest's table of classifier `name`: "experiment_models" (the memory experiment's, never served) or
    "models" (served)."""
    return "experiment_models" if name in EXPERIMENT_NAMES else "models"


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


@dataclass(frozen=True)
class ClassifierRun:
    """What every step of training the classifiers works with: the prepared data, the staging folder it writes
    into, the settings and where progress goes."""

    prepared: PreparedData
    staging: Path
    config: TrainingConfig
    report: ProgressCallback

    def with_models(self, names: tuple[str, ...]) -> ClassifierRun:
        """The same run for the classifiers `names` only."""
        return replace(self, config=replace(self.config, model_names=names))


def fit_baseline(run: ClassifierRun) -> dict:
    """Fit and save the TF-IDF baseline; returns its manifest entry and held-out probabilities."""
    from rnndemo.baseline import BASELINE, Baseline

    run.report(TrainingEvent("baseline", "baseline", "fitting TF-IDF + logistic regression"))
    started = time.perf_counter()
    texts = {split: [" ".join(token_list) for token_list in lists] for split, lists in run.prepared.tokens.items()}
    baseline = Baseline.fit(texts["train"], run.prepared.labels["train"], BASELINE, seed=run.config.seed)
    baseline.save(run.staging / models.BASELINE_FILE)
    entry = {
        "file": models.BASELINE_FILE,
        "display_name": DISPLAY_NAMES["baseline"],
        "hyperparameters": BASELINE.to_json(),
        "training_seconds": round(time.perf_counter() - started, 1),
    }
    return {"entry": entry, "predictions": {split: baseline.predict_proba(texts[split]) for split in EVALUATED_SPLITS}}


def fit_recurrent_models(run: ClassifierRun, pretrained: PretrainedLanguageModel | None = None) -> dict:
    """Train, save and score each recurrent model in turn; returns name -> {"entry", "predictions"}."""
    import keras

    from rnndemo.serving import Classifier

    results = {}
    for name in run.config.model_names:
        choice = run.config.classifier(name)
        wants_language_model = choice.initialise_from == "language_model"
        usable = wants_language_model and pretrained is not None and pretrained.fits(choice.units)
        if wants_language_model and not usable:
            run.report(TrainingEvent("data", name, f"{name}: no matching LSTM language model; starting from GloVe"))
        trained = train_recurrent(name, run.prepared, run.config, run.report, pretrained.model if usable else None)
        file_name = SPECS[name].file
        trained.model.save(run.staging / file_name)
        run.report(TrainingEvent("evaluate", name, f"evaluating {name} on held-out reviews"))
        classifier = Classifier(name, trained.model, run.prepared.vocabulary, run.config.sequence_length)
        predictions = {
            split: classifier.predict_ids([ids[-run.config.sequence_length :] for ids in run.prepared.ids[split]])
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
                "embedding_dim": run.config.embedding_dim,
                "dropout": choice.dropout,
                "spatial_dropout": choice.spatial_dropout,
                "output_dropout": choice.output_dropout,
                "batch_size": run.config.batch_size,
                "learning_rate": choice.learning_rate,
                "learning_rate_decay": choice.learning_rate_decay,
                "selected_by": f"validation {choice.select_by}",
                "clip_norm": run.config.clip_norm,
                "embedding": embedding_start(
                    pretrained.model if usable else None, run.prepared.embedding_matrix.shape[0]
                ),
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
    manifest = models.read_manifest(models_dir, required=shapes.CLASSIFIER_KEYS)
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
        results = fit_recurrent_models(ClassifierRun(prepared, staging, config, report))
        # The held-out predictions file feeds the served models' cards; an experiment-only model stays out of it.
        served = {name: result for name, result in results.items() if manifest_section(name) == "models"}
        for name in results:
            file_name = SPECS[name].file
            shutil.copy2(staging / file_name, staging / f"{file_name}.part")
            os.replace(staging / f"{file_name}.part", models_dir / file_name)
        if served:
            add_predictions(models_dir, staging, served)

        def change(current: dict) -> None:
            record_classifier_choices(current, config, tuple(results))
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


def record_classifier_choices(manifest: dict, config: TrainingConfig, names: tuple[str, ...]) -> None:
    """Put the choices that trained `names` into the manifest's `training_config["classifiers"]`, replacing each
    one's earlier entry (or adding it), so the recorded configuration stays that of the models in the folder."""
    recorded = manifest.setdefault("training_config", {}).setdefault("classifiers", [])
    for name in names:
        choice = asdict(config.classifier(name))  # its tuples are written as JSON lists
        index = next((index for index, entry in enumerate(recorded) if entry.get("name") == name), None)
        if index is None:
            recorded.append(choice)
        else:
            recorded[index] = choice


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


def write_models(run: ClassifierRun, pretrained: PretrainedLanguageModel | None = None) -> dict:
    """Every classifier artifact into `run.staging`; returns their manifest, not yet written (`train_all` writes the
    folder's manifest once, last: it marks the folder complete)."""
    run.prepared.vocabulary.save(run.staging / models.VOCABULARY_FILE)
    # The train split's counts per word, for the "why it said that" card (the tokens are at hand only here).
    counts = word_statistics.count(run.prepared.tokens["train"], run.prepared.labels["train"], run.prepared.vocabulary)
    word_statistics.save(counts, run.staging / word_statistics.FILE)
    baseline = fit_baseline(run)
    served = tuple(name for name in run.config.model_names if manifest_section(name) == "models")
    memory = memory_experiment_wanted(run.config)
    # The memory experiment's own models (the last-state SimpleRNN) are trained whenever it is recomputed.
    experiment = tuple(
        dict.fromkeys(
            [name for name in run.config.model_names if name not in served]
            + (list(run.config.experiment_names) if memory else [])
        )
    )
    recurrent = fit_recurrent_models(run.with_models(served), pretrained)
    extra = fit_recurrent_models(run.with_models(experiment))
    predictions = {"baseline": baseline["predictions"]} | {
        name: result["predictions"] for name, result in recurrent.items()
    }
    write_predictions(run.staging / models.PREDICTIONS_FILE, predictions, run.prepared.labels)
    manifest = Manifest(
        config=run.config,
        prepared=run.prepared,
        models={
            name: result["entry"] | held_out_scores(result["predictions"], run.prepared.labels)
            for name, result in recurrent.items()
        },
        baseline=baseline["entry"] | held_out_scores(baseline["predictions"], run.prepared.labels),
        files=file_hashes(run.staging),
        experiment_models={
            name: result["entry"] | held_out_scores(result["predictions"], run.prepared.labels)
            for name, result in extra.items()
        },
    ).to_json()
    return manifest


def memory_experiment_wanted(config: TrainingConfig) -> bool:
    """Whether this run recomputes the short-memory experiment: asked for, and every recurrent model is trained."""
    served = tuple(name for name in config.model_names if manifest_section(name) == "models")
    return config.memory_experiment and set(served) >= set(RECURRENT_NAMES)


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
    from rnndemo.language_model_layers import custom_layers

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
            manifest = write_models(ClassifierRun(prepared, staging, config, report), pretrained)
            if language_models is None:
                manifest = carry_language_models(models_dir, staging, manifest)
        if language_models is not None:
            manifest = add_language_models(staging, manifest, *language_models)
        write_manifest(staging, manifest)  # once, complete; later artifacts add their sha256 to it atomically
        if "classifiers" in config.parts and memory_experiment_wanted(config):
            write_memory_experiment(staging, report)  # it loads the verified staging folder
            manifest = models.read_manifest(staging)  # now with the memory file's sha256
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


def fit_language_models_into(
    vocabulary: Vocabulary, tokens: dict, staging: Path, config: TrainingConfig, report: ProgressCallback
) -> tuple[dict, dict]:
    """Train the language models into `staging`; returns their manifest table and vocabulary entry."""
    from rnndemo.next_word import fit_language_models

    return fit_language_models(vocabulary, tokens, staging, config.language_model, report)


def write_memory_experiment(folder: Path, report: ProgressCallback) -> None:
    """Recompute the short-memory experiment for the freshly trained models in `folder`."""
    from rnndemo.memory import run_memory_experiment, save_memory_experiment
    from rnndemo.serving import load_bundle

    report(TrainingEvent("evaluate", message="running the short-memory experiment"))
    result = run_memory_experiment(load_bundle(folder))
    save_memory_experiment(result, folder / models.MEMORY_FILE)
    models.record_in_manifest(folder, models.MEMORY_FILE)  # verified on load like every other artifact
