"""A tiny end-to-end train through the real code path, atomic swap-in, and Ctrl-C safety."""

import json
from dataclasses import replace

import numpy as np
import pytest

from rnndemo import models, training, training_loop, word_statistics
from rnndemo.config import TRAINING
from rnndemo.serving import load_bundle

TINY = replace(
    TRAINING,
    train_limit=300,
    max_epochs=1,
    classifiers=tuple(replace(choice, units=8) for choice in TRAINING.classifiers),
    vocabulary_size=2000,
    memory_experiment=False,
    parts=("classifiers",),  # the language models have their own end-to-end test (test_next_word.py)
)

pytestmark = pytest.mark.slow  # trains real (tiny) models: left out of make test-fast


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny") / "models"
    events = []
    manifest = training.train_all(folder, TINY, events.append)
    return folder, manifest, events


def test_tiny_train_writes_a_complete_verified_folder(tiny_models):
    folder, manifest, events = tiny_models
    assert {"rnn", "lstm", "gru", "dfn", "cnn"} == set(manifest["models"])
    for entry in manifest["models"].values():
        assert (folder / entry["file"]).stat().st_size < 6_000_000
        assert entry["epochs"] == 1 and entry["parameters"] > 0 and 0 <= entry["test_accuracy"] <= 1
        assert {
            "test_auc",
            "rotten_tomatoes_accuracy",
            "validation_accuracy",
            "training_seconds",
            "hyperparameters",
        } <= set(entry)
    assert manifest["split"]["test"] == 2500 and len(manifest["split"]["test_sha256"]) == 64
    for file_name, digest in manifest["files"].items():
        assert models.sha256_file(folder / file_name) == digest
    assert any(event.stage == "epoch" for event in events) and events[-1].stage == "done"
    assert any(event.stage == "batch" and event.eta_seconds is not None for event in events)
    bundle = load_bundle(folder)
    assert not bundle.errors and set(bundle.names()) == {"rnn", "lstm", "gru", "dfn", "cnn", "baseline"}
    # The word counts of the "why it said that" card: the reviews the models were trained on, and no others.
    assert word_statistics.load(folder, manifest, bundle.vocabulary).reviews == manifest["split"]["train"] == 300
    for name, entry in manifest["models"].items():  # what the manifest says is what the file holds
        choice = TINY.classifier(name)
        readout = training.READOUT_NAMES.get(name, choice.readout)
        assert entry["hyperparameters"]["readout"] == readout
        assert models.readout_of(bundle.classifiers[name].model) == (
            choice.readout if name in ("rnn", "lstm", "gru") else "not recurrent"
        )
        assert len(entry["history"]["val_accuracy"]) == entry["epochs"] and entry["best_epoch"] <= entry["epochs"]
        # No language model in a fresh folder: the LSTM says it started from GloVe, whatever it asked for.
        assert entry["hyperparameters"]["initialised_from"] == "GloVe"


def test_saved_files_have_no_optimizer_and_no_lambda(tiny_models):
    import zipfile

    folder, manifest, _ = tiny_models
    for entry in manifest["models"].values():
        with zipfile.ZipFile(folder / entry["file"]) as archive:
            config = json.loads(archive.read("config.json"))
            assert "Lambda" not in json.dumps(config)
            assert not config.get("compile_config")
            assert not any("optimizer" in name for name in archive.namelist())


def test_interrupted_training_leaves_previous_models_intact(tiny_models):
    folder, manifest, _ = tiny_models
    before = (folder / models.MANIFEST_FILE).read_text()

    def interrupt(event):
        if event.stage == "epoch":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        training.train_all(folder, TINY, interrupt)
    assert (folder / models.MANIFEST_FILE).read_text() == before
    assert not [path for path in folder.parent.iterdir() if path.name.startswith(".")]  # no staging left behind
    bundle = load_bundle(folder)
    assert not bundle.errors


def test_tampered_model_is_refused_and_others_keep_working(tiny_models, tmp_path):
    from .conftest import tampered_copy

    folder, manifest, _ = tiny_models
    copy = tampered_copy(tmp_path, "rnn.keras", source=folder)
    bundle = load_bundle(copy)
    assert "rnn" not in bundle.classifiers and "lstm" in bundle.classifiers
    assert "rnn.keras" in bundle.errors["rnn"] and "python -m rnndemo train" in bundle.errors["rnn"]
    (copy / "baseline.json").unlink()
    bundle = load_bundle(copy)
    assert "baseline" in bundle.errors and "missing" in bundle.errors["baseline"]


def test_missing_folder_gives_first_run_message(tmp_path):
    with pytest.raises(models.ModelFileError, match="python -m rnndemo train"):
        load_bundle(tmp_path / "absent")


def test_memory_experiment_runs_end_to_end_on_a_tiny_model(tiny_models):
    from rnndemo.memory import run_memory_experiment

    folder, _, _ = tiny_models
    result = run_memory_experiment(
        load_bundle(folder), reviews_per_label=5, gradient_reviews=4, gradient_length=50, distances=(0, 10, 40)
    )
    for name in ("rnn", "lstm", "gru"):
        rows = result["models"][name]["accuracy"]
        assert [row["distance"] for row in rows] == [0, 10, 40]
        assert rows[0]["accuracy"] == 1.0  # only reviews the model gets right are chosen
        assert all(row["ci_low"] <= row["accuracy"] <= row["ci_high"] for row in rows)
        gradient = result["models"][name]["gradient"]
        assert (
            len(gradient["mean_norm"]) == 50
            and gradient["n"] == 4
            and all(value >= 0 for value in gradient["mean_norm"])
        )
    assert result["accuracy_summary"].startswith("Accuracy by filler tokens appended")


def test_selection_score_prefers_lower_loss_or_higher_accuracy():
    history = {"val_loss": [0.4, 0.3], "val_accuracy": [0.8, 0.79]}
    assert training_loop.selection_score(history, "loss") == -0.3
    assert training_loop.selection_score(history, "accuracy") == 0.79
    with pytest.raises(ValueError, match="select_by"):
        training_loop.selection_score(history, "auc")


def test_learning_rate_decays_per_epoch_and_the_kept_epoch_is_the_best_by_accuracy():
    """Three tiny epochs of a GRU that keeps its best validation accuracy, its learning rate halving each epoch."""
    choice = replace(TINY.classifier("gru"), learning_rate_decay=0.5, select_by="accuracy", max_epochs=None)
    config = replace(TINY, classifiers=(choice,), max_epochs=3, patience=3)
    prepared = training.prepare_data(config, lambda event: None)
    trained = training_loop.train_recurrent("gru", prepared, config, lambda event: None)
    history = trained.history
    assert history["learning_rate"] == pytest.approx([1e-3, 5e-4, 2.5e-4])
    assert trained.epochs == 3
    best = max(history["val_accuracy"])
    assert trained.best_epoch == history["val_accuracy"].index(best) + 1  # the first epoch reaching the best
    # The weights kept are that epoch's: scored again, they give the history's accuracy at best_epoch.
    batches = training_loop.length_batches(
        prepared.ids["validation"], prepared.labels["validation"], config.batch_size, config.sequence_length, None
    )
    probabilities = np.concatenate([trained.model(inputs, training=False).numpy()[:, 0] for inputs, _ in batches])
    labels = np.concatenate([labels for _, labels in batches])
    assert training.accuracy(probabilities, labels) == pytest.approx(best, abs=1e-4)


def test_adding_classifiers_keeps_the_folders_other_models(tmp_path):
    """`train --add --model dfn --model cnn` on a folder: the new models join the old ones on the same split,
    vocabulary and predictions file, every hash is recorded, and the old models are untouched."""
    import pandas as pd

    folder = tmp_path / "models"
    first = training.train_all(folder, replace(TINY, model_names=("rnn",)))
    rnn_bytes = (folder / "rnn.keras").read_bytes()
    # The add runs with other choices for the rnn (not retrained) and the DFN (retrained).
    changed = {"rnn": {"learning_rate": 0.0123}, "dfn": {"learning_rate": 0.0042}}
    added = replace(
        TINY,
        model_names=("dfn", "cnn"),
        classifiers=tuple(replace(choice, **changed.get(choice.name, {})) for choice in TINY.classifiers),
    )
    manifest = training.add_classifiers(folder, added)
    assert set(manifest["models"]) == {"rnn", "dfn", "cnn"}
    # The recorded choices are those that trained each model in the folder: the DFN's new ones, the rnn's old ones.
    recorded = [entry["name"] for entry in manifest["training_config"]["classifiers"]]
    assert sorted(recorded) == sorted(set(recorded)) and {"rnn", "dfn", "cnn"} <= set(recorded)
    recorded = {entry["name"]: entry for entry in manifest["training_config"]["classifiers"]}
    assert recorded["dfn"]["learning_rate"] == 0.0042 and recorded["rnn"]["learning_rate"] == 1e-3
    assert recorded["cnn"]["kernel_widths"] == list(TINY.classifier("cnn").kernel_widths)
    assert manifest["models"]["rnn"] == first["models"]["rnn"] and (folder / "rnn.keras").read_bytes() == rnn_bytes
    for file_name, digest in manifest["files"].items():
        assert models.sha256_file(folder / file_name) == digest, file_name
    predictions = pd.read_csv(folder / models.PREDICTIONS_FILE)
    assert {"rnn", "dfn", "cnn", "baseline"} <= set(predictions.columns) and not predictions["cnn"].isna().any()
    bundle = load_bundle(folder)
    assert not bundle.errors and set(bundle.names()) == {"rnn", "dfn", "cnn", "baseline"}
    test = predictions[predictions["split"] == "imdb_test"].sort_values("row")
    from rnndemo import data
    from rnndemo.evaluation import heldout_metrics

    recomputed = bundle.classifiers["cnn"].predict_texts(data.load_splits().test["text"].tolist())
    np.testing.assert_allclose(test["cnn"].to_numpy(), recomputed, atol=2e-6)
    assert (
        manifest["models"]["cnn"]["test_accuracy"] == heldout_metrics(recomputed, test["label"].to_numpy())["accuracy"]
    )


def test_adding_the_memory_experiments_model_keeps_it_out_of_the_served_ones(tmp_path):
    """`train --add --model rnn_last`: the last-state SimpleRNN is hashed in the manifest's experiment table, loads
    verified for the memory experiment, and leaves the served models and their predictions file as they were."""
    from rnndemo.serving import load_experiment_classifiers

    folder = tmp_path / "models"
    first = training.train_all(folder, replace(TINY, model_names=("rnn",)))
    predictions = (folder / models.PREDICTIONS_FILE).read_bytes()
    manifest = training.add_classifiers(folder, replace(TINY, model_names=("rnn_last",)))
    assert manifest["models"] == first["models"] and set(manifest["experiment_models"]) == {"rnn_last"}
    assert [entry["name"] for entry in manifest["training_config"]["classifiers"]].count("rnn_last") == 1
    entry = manifest["experiment_models"]["rnn_last"]
    assert entry["file"] == "rnn_last.keras" and entry["hyperparameters"]["readout"] == "last"
    assert manifest["files"]["rnn_last.keras"] == models.sha256_file(folder / "rnn_last.keras")
    assert (folder / models.PREDICTIONS_FILE).read_bytes() == predictions
    bundle = load_bundle(folder)
    assert not bundle.errors and set(bundle.names()) == {"rnn", "baseline"}
    (loaded,) = load_experiment_classifiers(bundle).values()
    assert models.readout_of(loaded.model) == "last" and models.body_kind(loaded.model) == "SimpleRNN"
