"""What training writes and how the new folder becomes visible, fast (no training)."""

import json
import os

from rnndemo import models, training_artifacts


def folder_with_manifest(path, content: str):
    path.mkdir()
    (path / models.MANIFEST_FILE).write_text(content, encoding="utf-8")
    return path


def test_swap_in_never_leaves_a_moment_without_the_models_folder(tmp_path, monkeypatch):
    """A reader that looks after every rename of the swap finds a models folder, the old or the new one."""
    models_dir = folder_with_manifest(tmp_path / "models", "old")
    staging = folder_with_manifest(tmp_path / ".models.tmp-1-x", "new")
    seen = []
    real_replace = os.replace

    def watched_replace(source, target):
        real_replace(source, target)
        manifest = models_dir / models.MANIFEST_FILE
        seen.append(manifest.read_text(encoding="utf-8") if manifest.exists() else None)

    monkeypatch.setattr(os, "replace", watched_replace)
    training_artifacts.swap_in(staging, models_dir)
    assert None not in seen, seen
    assert (models_dir / models.MANIFEST_FILE).read_text(encoding="utf-8") == "new"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["models"]  # the old folder is gone


def test_swap_in_moves_the_staging_folder_in_when_there_is_no_models_folder(tmp_path):
    staging = folder_with_manifest(tmp_path / ".models.tmp-1-x", "new")
    training_artifacts.swap_in(staging, tmp_path / "models")
    assert (tmp_path / "models" / models.MANIFEST_FILE).read_text(encoding="utf-8") == "new"
    assert not staging.exists()


def test_write_manifest_replaces_the_manifest_whole_and_leaves_no_temporary_file(tmp_path):
    folder = folder_with_manifest(tmp_path / "staging", "{}")
    manifest = {"files": {"vocabulary.json": "0" * 64}, "sequence_length": 400}
    assert training_artifacts.write_manifest(folder, manifest) == manifest
    assert json.loads((folder / models.MANIFEST_FILE).read_text(encoding="utf-8")) == manifest
    assert [path.name for path in folder.iterdir()] == [models.MANIFEST_FILE]


def test_train_all_writes_the_manifest_once_and_only_then_swaps_the_folder_in(tmp_path, monkeypatch):
    """The orchestration alone (its stages replaced): one write of a complete manifest, before the swap."""
    from dataclasses import replace
    from types import SimpleNamespace

    from rnndemo import training
    from rnndemo.config import TRAINING

    models_dir = tmp_path / "models"
    written = []

    def classifiers_written(run, pretrained=None):
        (run.staging / models.VOCABULARY_FILE).write_text("{}", encoding="utf-8")
        return {"files": {models.VOCABULARY_FILE: models.sha256_file(run.staging / models.VOCABULARY_FILE)}}

    def counted_write(folder, manifest):
        assert not models_dir.exists()  # written in the staging folder, before the swap
        written.append(manifest)
        return training_artifacts.write_manifest(folder, manifest)

    monkeypatch.setattr(training, "prepare_data", lambda config, report: SimpleNamespace(vocabulary=None, tokens={}))
    monkeypatch.setattr(training, "pretrained_language_model", lambda *arguments: None)
    monkeypatch.setattr(training, "write_models", classifiers_written)
    monkeypatch.setattr(training, "write_manifest", counted_write)
    manifest = training.train_all(models_dir, replace(TRAINING, parts=("classifiers",), memory_experiment=False))
    assert len(written) == 1 and manifest == written[0]
    assert json.loads((models_dir / models.MANIFEST_FILE).read_text(encoding="utf-8")) == manifest
