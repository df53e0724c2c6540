"""Serving's loaders on tiny models folders built here (a 12-word vocabulary, a 2-unit SimpleRNN, a 2-term
baseline): what a folder that loads serves, and the message each refusal shows a user. The expected words, ids and
messages are written out here, not taken from rnndemo; the sha256s are computed here with hashlib.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path

import keras  # at collection: mutmut's fork server imports it once (safe to fork before first use), not each worker
import numpy as np
import pytest

from .conftest import MODELS_DIR

WORDS = ["", "[UNK]", "the", "film", "was", "good", "bad", "plot", "and", "a", "story", "slow"]
SEQUENCE_LENGTH = 5
REBUILD = "rebuild it with: python -m rnndemo train"
TINY_BASELINE = {"terms": ["good", "bad"], "idf": [1.0, 1.0], "coefficients": [2.0, -2.0], "intercept": 0.0}
COMMITTED = json.loads((MODELS_DIR / "manifest.json").read_text(encoding="utf-8"))


def tiny_model(rows: int = len(WORDS), readout: str = "mean", broken: bool = False):
    """A 2-unit SimpleRNN classifier reading `rows` words. `broken`: a Dense layer of 3 between the readout and the
    classifier, so the file loads and passes every check, but its classifier cannot read the recurrent states."""
    from rnndemo import models

    keras.utils.set_random_seed(7)
    if not broken:
        return models.build_model(models.ModelArchitecture("rnn", rows, 3, 2, readout=readout))
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    embedded = keras.layers.Embedding(rows, 3, mask_zero=True, name="embedding")(token_ids)
    state = keras.layers.SimpleRNN(2, name="recurrent")(embedded)
    widened = keras.layers.Dense(3, name="widen")(state)
    return keras.Model(token_ids, keras.layers.Dense(1, activation="sigmoid", name="classifier")(widened))


def tiny_folder(folder: Path, models: dict | None = None, experiment_models: dict | None = None, **changes) -> Path:
    """A models folder of the tiny vocabulary and baseline; `models` and `experiment_models` map a name to its
    Keras model (saved as the committed manifest names its file, with the committed entry); `changes` set manifest
    keys (None removes one)."""
    folder.mkdir()
    (folder / "vocabulary.json").write_text(json.dumps(WORDS), encoding="utf-8")
    (folder / "baseline.json").write_text(json.dumps(TINY_BASELINE), encoding="utf-8")
    manifest = {key: value for key, value in COMMITTED.items() if key not in ("models", "experiment_models")}
    manifest |= {"vocabulary_size": len(WORDS), "sequence_length": SEQUENCE_LENGTH, "models": {}}
    for section, listed in (("models", models or {}), ("experiment_models", experiment_models)):
        if listed is None:
            continue
        manifest[section] = {}
        for name, model in listed.items():
            entry = COMMITTED[section][name]
            model.save(folder / entry["file"])
            manifest[section][name] = entry
    for key, value in changes.items():
        if value is None:
            manifest.pop(key)
        else:
            manifest[key] = value
    manifest["files"] = {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in folder.iterdir() if path.is_file()
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def test_a_folder_is_served_with_its_vocabulary_sequence_length_and_manifest_entries(tmp_path, monkeypatch):
    """The folder named by RNNDEMO_MODELS_DIR (no argument given) loads whole: its manifest, its vocabulary, the
    classifier under its name with its entry, reading the last 5 ids of a text, and the baseline; the load time
    is this load's."""
    from rnndemo.serving import load_bundle

    folder = tiny_folder(tmp_path / "models", models={"rnn": tiny_model()})
    monkeypatch.setenv("RNNDEMO_MODELS_DIR", str(folder))
    started = time.perf_counter()
    bundle = load_bundle()
    elapsed = time.perf_counter() - started
    assert bundle.errors == {}
    assert bundle.models_dir == folder
    assert bundle.manifest == json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert bundle.vocabulary.words == WORDS
    assert bundle.names() == ["rnn", "baseline"]
    assert 0 < bundle.load_seconds <= elapsed
    classifier = bundle.classifiers["rnn"]
    assert classifier.name == "rnn"
    assert classifier.entry == COMMITTED["models"]["rnn"]
    assert classifier.vocabulary.words == WORDS
    assert classifier.sequence_length == SEQUENCE_LENGTH
    assert classifier.model.get_layer("embedding").input_dim == len(WORDS)
    tokens, ids, cut = classifier.encode("the film was good and the plot was slow")
    assert (tokens, ids, cut) == (["and", "the", "plot", "was", "slow"], [8, 2, 7, 4, 11], 4)
    prediction = bundle.classify("the film was good and the plot was slow", ["rnn"])["rnn"]
    assert prediction.ids == [8, 2, 7, 4, 11] and len(prediction.trajectory) == SEQUENCE_LENGTH
    assert prediction.probability_positive == pytest.approx(
        float(classifier.model(np.asarray([ids], dtype=np.int32))[0, 0]), abs=1e-6
    )
    assert bundle.baseline.predict_proba(["good good"])[0] > 0.5 > bundle.baseline.predict_proba(["bad bad"])[0]


def test_a_manifest_without_a_key_the_classifiers_need_refuses_the_folder(tmp_path):
    """A manifest without glove_coverage (a key only the classifiers' bundle needs) is refused by name."""
    from rnndemo.models import ModelFileError
    from rnndemo.serving import load_bundle

    folder = tiny_folder(tmp_path / "models", glove_coverage=None)
    with pytest.raises(ModelFileError) as refused:
        load_bundle(folder)
    assert str(refused.value) == f"manifest.json is not a valid manifest ('glove_coverage' is missing); {REBUILD}"


def test_a_vocabulary_of_another_size_than_the_manifest_says_refuses_the_folder(tmp_path):
    """12 words where the manifest says 13: the whole folder is refused, naming the file and the fix."""
    from rnndemo.models import ModelFileError
    from rnndemo.serving import load_bundle

    folder = tiny_folder(tmp_path / "models", vocabulary_size=len(WORDS) + 1)
    with pytest.raises(ModelFileError) as refused:
        load_bundle(folder)
    assert str(refused.value) == (
        f"vocabulary.json has 12 entries, not the manifest's vocabulary_size; refused; {REBUILD}"
    )


def test_a_model_reading_another_number_of_words_is_refused_by_name_and_the_rest_is_served(tmp_path):
    """A classifier of 14 embedding rows beside a 12-word vocabulary is refused with both counts; the baseline
    is still served."""
    from rnndemo.serving import load_bundle

    bundle = load_bundle(tiny_folder(tmp_path / "models", models={"rnn": tiny_model(rows=len(WORDS) + 2)}))
    assert bundle.errors == {"rnn": f"rnn.keras reads 14 words but vocabulary.json has 12; refused; {REBUILD}"}
    assert bundle.names() == ["baseline"]


def test_a_verified_model_that_cannot_be_served_is_refused_by_name_and_its_error_logged(tmp_path, caplog):
    """A file that passes its sha256 and layer checks but whose classifier cannot read the recurrent states: the
    user sees its file name and the fix; the server log has the file, the error's type and its text."""
    from rnndemo.serving import load_bundle

    folder = tiny_folder(tmp_path / "models", models={"rnn": tiny_model(broken=True)})
    with caplog.at_level(logging.ERROR, logger="rnndemo.models"):
        bundle = load_bundle(folder)
    assert bundle.errors == {
        "rnn": f"rnn.keras could not be prepared for serving (see the server log); {REBUILD}",
    }
    assert bundle.names() == ["baseline"]
    [record] = [record for record in caplog.records if record.getMessage().startswith("could not serve")]
    error = record.args[-1]
    assert isinstance(error, ValueError) and "'classifier'" in str(error)  # Keras: the classifier's input shape
    assert record.getMessage() == f"could not serve rnn.keras: {type(error).__name__}: {error}"
    assert type(error).__name__ != "NoneType"


def test_an_unreadable_baseline_is_refused_by_name_and_its_error_logged(tmp_path, caplog):
    """A baseline.json that matches its sha256 but has no terms: the user sees the file and the fix, the
    classifiers' folder still loads, and the log names the folder and the missing key."""
    from rnndemo.serving import load_bundle

    folder = tiny_folder(tmp_path / "models")
    (folder / "baseline.json").write_text("{}", encoding="utf-8")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"]["baseline.json"] = hashlib.sha256(b"{}").hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="rnndemo.models"):
        bundle = load_bundle(folder)
    assert bundle.errors == {"baseline": f"baseline.json is not a valid baseline; {REBUILD}"}
    assert bundle.names() == [] and bundle.vocabulary.words == WORDS
    messages = [record.getMessage() for record in caplog.records if record.name == "rnndemo.models"]
    assert messages == [f"unreadable baseline in {folder}: 'terms'"]


def test_the_memory_experiments_model_is_loaded_with_the_bundles_vocabulary_and_none_for_an_older_folder(tmp_path):
    """The experiment's own classifier (never served) comes with the folder's vocabulary and its own entry; a
    folder from before the experiment lists none, and gets none."""
    from rnndemo.serving import Bundle, load_bundle, load_experiment_classifiers

    folder = tiny_folder(tmp_path / "models", experiment_models={"rnn_last": tiny_model(readout="last")})
    bundle = load_bundle(folder)
    assert bundle.names() == ["baseline"]  # never served
    loaded = load_experiment_classifiers(bundle)
    assert list(loaded) == ["rnn_last"]
    assert loaded["rnn_last"].vocabulary.words == WORDS
    assert loaded["rnn_last"].entry == COMMITTED["experiment_models"]["rnn_last"]
    older = {key: value for key, value in bundle.manifest.items() if key != "experiment_models"}
    assert load_experiment_classifiers(Bundle(folder, older, bundle.vocabulary)) == {}
