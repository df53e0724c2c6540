"""Every file the manifest lists is refused by the loader that reads it when its content is changed, even into
valid content of the same kind (JSON with one number changed, a .keras file with a new save date, an .npz with
one value changed, a CSV with one probability changed): only the sha256 can tell, so these tests fail when a
loader skips it. Byte-level damage is tested elsewhere; a loader without the check refuses that by parsing.

The manifest is read here as data (which file each section names); the file names of the single files and the
expected refusal are written out, not taken from rnndemo.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from .conftest import MODELS_DIR

MANIFEST = json.loads((MODELS_DIR / "manifest.json").read_text(encoding="utf-8"))
CLASSIFIER_FILES = {entry["file"]: name for name, entry in MANIFEST.get("models", {}).items()}
LANGUAGE_FILES = {entry["file"]: name for name, entry in MANIFEST.get("language_models", {}).items()}
EXPERIMENT_FILES = {entry["file"]: name for name, entry in MANIFEST.get("experiment_models", {}).items()}
FORECASTER_FILES = {
    file_name: series
    for series, table in MANIFEST.get("forecasters", {}).items()
    for entry in table.values()
    for file_name in entry["files"]
}


# --- Valid content of the same kind, changed -------------------------------------------------------------------


def _change_a_number(value, wanted) -> bool:
    """Change the JSON value's last nonzero number of type `wanted` in place: a float is scaled by 0.9 (a metric, a
    weight), an int grows by 1 (a count); the value stays valid. True if one was found."""
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return False
    for key, item in reversed(items):
        if type(item) is wanted and item != 0:
            value[key] = item * 0.9 if wanted is float else item + 1
            return True
        if _change_a_number(item, wanted):
            return True
    return False


def changed_json(data: bytes) -> bytes:
    value = json.loads(data)
    if not (_change_a_number(value, float) or _change_a_number(value, int)):
        # the vocabulary: a list of words, two of which now swap their ids
        assert isinstance(value, list) and all(isinstance(word, str) for word in value)
        value[2], value[3] = value[3], value[2]
    return json.dumps(value).encode("utf-8")


def changed_keras(data: bytes) -> bytes:
    """The same model saved at another time: metadata.json's date changed, config and weights untouched."""
    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w") as archive:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "metadata.json":
                metadata = json.loads(content)
                assert metadata["date_saved"] != "2000-01-01@00:00:00"
                content = json.dumps(metadata | {"date_saved": "2000-01-01@00:00:00"}).encode("utf-8")
            archive.writestr(info, content)
    return target.getvalue()


def changed_npz(data: bytes) -> bytes:
    """The same arrays, with the last nonzero value of the first float array scaled by 0.9."""
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        arrays = {key: archive[key].copy() for key in archive.files}
    name = next(key for key, array in arrays.items() if array.dtype.kind == "f" and np.any(array))
    flat = arrays[name].reshape(-1)
    position = np.flatnonzero(flat)[-1]
    flat[position] = flat[position] * 0.9
    arrays[name] = flat.reshape(arrays[name].shape)
    target = io.BytesIO()
    np.savez_compressed(target, **arrays)
    return target.getvalue()


def changed_csv(data: bytes) -> bytes:
    """The held-out predictions with one model's probability for the last row scaled by 0.9."""
    frame = pd.read_csv(io.BytesIO(data))
    column = next(name for name in frame.columns if frame[name].dtype.kind == "f")
    frame.loc[frame.index[-1], column] = frame[column].iloc[-1] * 0.9
    return frame.to_csv(index=False).encode("utf-8")


CHANGES = {".json": changed_json, ".keras": changed_keras, ".npz": changed_npz, ".csv": changed_csv}


# --- The loader that reads each file --------------------------------------------------------------------------


def _write_manifest(folder: Path, change) -> None:
    """Narrow the copy's manifest to what one load needs (it lists fewer models: one load, not five Keras loads)."""
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    change(manifest)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def refusals(folder: Path, file_name: str) -> list[str]:
    """What the loader of `file_name` says when it loads `folder` (one message per loader that reads the file; an
    empty message when it accepted the file)."""
    from rnndemo import evaluation, forecast_models, forecast_serving, memory, order_test, race, word_statistics
    from rnndemo.models import ModelFileError, load_vocabulary, read_manifest
    from rnndemo.next_word import load_language_models
    from rnndemo.serving import Bundle, load_bundle, load_experiment_classifiers

    def message(load) -> str:
        try:
            load()
        except ModelFileError as error:
            return str(error)
        return ""

    if file_name in CLASSIFIER_FILES or file_name in ("baseline.json", "vocabulary.json"):
        name = CLASSIFIER_FILES.get(file_name)
        _write_manifest(
            folder, lambda manifest: manifest.update(models={name: manifest["models"][name]} if name else {})
        )
        holder = {}
        refused = message(lambda: holder.update(bundle=load_bundle(folder)))
        if refused:  # the vocabulary: the whole folder is refused
            return [refused]
        errors = holder["bundle"].errors
        return [errors.get(name or "baseline", "")]
    if file_name in LANGUAGE_FILES or file_name == "language_model_memory.json":
        name = LANGUAGE_FILES.get(file_name, "unigram")  # the context experiment is checked whatever is listed
        _write_manifest(
            folder, lambda manifest: manifest.update(language_models={name: manifest["language_models"][name]})
        )
        loaded = load_language_models(folder)
        return [loaded.errors.get(name if file_name in LANGUAGE_FILES else "context experiment", "")]
    manifest = read_manifest(folder)
    if file_name in EXPERIMENT_FILES:
        # The memory experiment's own model (never served): its loader, and the experiment that measures it.
        copy = Bundle(folder, manifest, load_vocabulary(folder, manifest))
        return [message(lambda: load_experiment_classifiers(copy)), message(lambda: memory.measured_classifiers(copy))]
    if file_name == "heldout_predictions.csv":
        return [message(lambda: evaluation.load_heldout_predictions(Bundle(folder, manifest, None)))]
    if file_name == "memory_experiment.json":
        return [message(lambda: memory.load_memory_experiment(folder, manifest))]
    if file_name == "race_sweep.json":
        return [message(lambda: race.load_sweep(folder, manifest))]
    if file_name == "order_test.json":
        return [message(lambda: order_test.load_order_test(folder, manifest))]
    if file_name == "word_statistics.json":
        vocabulary = load_vocabulary(folder, manifest)
        return [message(lambda: word_statistics.load(folder, manifest, vocabulary))]
    if file_name == "forecast_metrics.json":
        return [message(lambda: forecast_serving.load_metrics(folder))]
    if file_name == "forecasts.npz":
        return [message(lambda: forecast_serving.load_forecast_arrays(folder))]
    if file_name in FORECASTER_FILES:
        # The page and CLI load, for each W, the strategy chosen on validation; retraining the classifiers carries
        # every forecaster file over only when all of them pass their check.
        series = FORECASTER_FILES[file_name]
        by_window = json.loads((MODELS_DIR / "forecast_metrics.json").read_text())[series]["by_window"]
        found = []
        for width, entry in by_window.items():
            served = {
                forecast_models.model_file(series, cell, strategy, int(width))
                for cell, strategy in entry["chosen_strategy"].items()
            }
            if file_name in served:
                metrics = forecast_serving.load_metrics(folder)
                found.append(message(partial(forecast_serving.load_networks, folder, series, metrics, int(width))))
        staging = folder.parent / "staging"
        staging.mkdir()
        (staging / "manifest.json").write_text(json.dumps({"files": {}, "sequence_length": 400}), encoding="utf-8")
        forecast_models.carry_forecasters(folder, staging)
        carried = sorted(path.name for path in staging.iterdir() if path.name != "manifest.json")
        found.append(f"{file_name} does not match its sha256 (not carried)" if not carried else f"carried {carried}")
        return found
    raise AssertionError(f"{file_name} is in the manifest, but this test knows no loader that reads it")


def copy_for_one_load(folder: Path, file_name: str) -> Path:
    """A copy of the models folder for the load of `file_name`: its JSON and CSV files, `file_name`, and the model
    files that load also reads (the unigram the context experiment is checked beside; for a forecaster, every
    forecaster file, which are carried together). The other .keras and .npz files (35 MB) stay behind."""
    needed = {file_name, "lm_unigram.npz"}
    if file_name in FORECASTER_FILES:
        needed |= set(FORECASTER_FILES) | {"forecasts.npz"}

    def left_behind(_, names):
        return [name for name in names if name.endswith((".keras", ".npz")) and name not in needed]

    shutil.copytree(MODELS_DIR, folder, ignore=left_behind)
    return folder


@pytest.mark.parametrize("file_name", sorted(MANIFEST["files"]))
def test_a_file_changed_into_valid_content_of_its_kind_is_refused(tmp_path, file_name):
    folder = copy_for_one_load(tmp_path / "models", file_name)
    original = (folder / file_name).read_bytes()
    changed = CHANGES[Path(file_name).suffix](original)
    assert changed != original
    (folder / file_name).write_bytes(changed)
    found = refusals(folder, file_name)
    assert found and all(f"{file_name} does not match its sha256" in refused for refused in found), (
        f"a changed {file_name} was not refused by its sha256: {found}"
    )


def test_every_change_above_is_valid_content_of_its_kind():
    """The changed files still parse as what they are (so the tests above are about the sha256 check, not about
    a parser that would refuse damaged bytes anyway)."""
    for file_name in MANIFEST["files"]:
        changed = CHANGES[Path(file_name).suffix]((MODELS_DIR / file_name).read_bytes())
        if file_name.endswith(".json"):
            json.loads(changed)
        elif file_name.endswith(".npz"):
            with np.load(io.BytesIO(changed), allow_pickle=False) as archive:
                assert set(archive.files) == set(np.load(MODELS_DIR / file_name).files)
        elif file_name.endswith(".keras"):
            assert zipfile.ZipFile(io.BytesIO(changed)).testzip() is None
        else:
            assert len(pd.read_csv(io.BytesIO(changed))) == len(pd.read_csv(MODELS_DIR / file_name))
