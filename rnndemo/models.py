"""Stage 4: the recurrent classifiers, and loading them safely from the models folder.

The builders differ only in the recurrent layer:
Embedding(mask_zero, GloVe-initialised, trainable) -> SimpleRNN | LSTM -> Dense(1, sigmoid).
Files are Keras v3 `.keras` archives loaded with `safe_mode=True`, and only after
their sha256 matches the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MANIFEST_FILE = "manifest.json"
VOCABULARY_FILE = "vocabulary.json"
BASELINE_FILE = "baseline.json"
PREDICTIONS_FILE = "heldout_predictions.csv"
MEMORY_FILE = "memory_experiment.json"
REBUILD_HINT = "rebuild it with: python -m rnndemo train"
RECURRENT_KINDS = {"rnn": "SimpleRNN", "lstm": "LSTM"}
DISPLAY_NAMES = {"rnn": "SimpleRNN", "lstm": "LSTM", "baseline": "TF-IDF + logistic regression"}


class ModelFileError(RuntimeError):
    """A model artifact is missing, tampered with or unreadable; the message names the file and the fix."""


@dataclass(frozen=True)
class ModelArchitecture:
    """Shapes of one recurrent classifier."""

    kind: str  # "rnn" (SimpleRNN) or "lstm"
    vocabulary_size: int  # rows of the embedding, including padding and OOV
    embedding_dim: int  # 50 for GloVe-50d
    units: int  # recurrent units
    dropout: float = 0.0  # dropout on the recurrent layer's inputs (training only)


def build_model(architecture: ModelArchitecture, embedding_matrix: np.ndarray | None = None) -> Any:
    """A Keras 3 Functional model; the embedding starts from `embedding_matrix` when given."""
    import keras
    from keras import layers

    if architecture.kind not in RECURRENT_KINDS:
        raise ValueError(f"unknown model kind {architecture.kind!r}; use one of {sorted(RECURRENT_KINDS)}")
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")  # (batch, time)
    embedded = layers.Embedding(
        architecture.vocabulary_size, architecture.embedding_dim, mask_zero=True, name="embedding"
    )(token_ids)  # (batch, time, embedding_dim)
    recurrent_layer = getattr(layers, RECURRENT_KINDS[architecture.kind])
    state = recurrent_layer(architecture.units, dropout=architecture.dropout, name="recurrent")(embedded)  # (batch, units)
    probability = layers.Dense(1, activation="sigmoid", name="classifier")(state)  # (batch, 1)
    model = keras.Model(token_ids, probability, name=f"{architecture.kind}_classifier")
    if embedding_matrix is not None:
        model.get_layer("embedding").set_weights([np.asarray(embedding_matrix, dtype=np.float32)])
    return model


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(models_dir: Path) -> dict:
    """The models folder's manifest; a clear first-run message if there is none."""
    path = Path(models_dir) / MANIFEST_FILE
    if not path.is_file():
        raise ModelFileError(f"No trained models in {Path(models_dir)} ({MANIFEST_FILE} is missing); {REBUILD_HINT}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelFileError(f"{path} is unreadable ({error}); {REBUILD_HINT}") from error


def verified_path(models_dir: Path, manifest: dict, file_name: str) -> Path:
    """Path of an artifact whose sha256 matches the manifest, else ModelFileError naming the file."""
    path = Path(models_dir) / file_name
    expected = manifest.get("files", {}).get(file_name)
    if expected is None:
        raise ModelFileError(f"{file_name} is not listed in {MANIFEST_FILE}; {REBUILD_HINT}")
    if not path.is_file():
        raise ModelFileError(f"{path} is missing; {REBUILD_HINT}")
    if sha256_file(path) != expected:
        raise ModelFileError(f"{path} does not match its sha256 in {MANIFEST_FILE} (corrupted or tampered); refused to load it; {REBUILD_HINT}")
    return path


def record_in_manifest(models_dir: Path, file_name: str) -> None:
    """Add (or refresh) `file_name`'s sha256 in the folder's manifest, for an artifact written after it."""
    models_dir = Path(models_dir)
    manifest = read_manifest(models_dir)
    manifest.setdefault("files", {})[file_name] = sha256_file(models_dir / file_name)
    temporary = models_dir / f".{MANIFEST_FILE}.tmp"
    temporary.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    os.replace(temporary, models_dir / MANIFEST_FILE)  # never a half-written manifest


def load_keras_model(models_dir: Path, manifest: dict, name: str) -> Any:
    """Load one verified `.keras` model with safe_mode=True."""
    import keras

    entry = manifest.get("models", {}).get(name)
    if entry is None:
        raise ModelFileError(f"model {name!r} is not in {MANIFEST_FILE}; {REBUILD_HINT}")
    file_name = entry["file"]
    if not file_name.endswith(".keras"):
        raise ModelFileError(f"{file_name}: only Keras v3 .keras files are loaded; {REBUILD_HINT}")
    path = verified_path(models_dir, manifest, file_name)
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # a verified file that still fails is reported, not raised raw
        raise ModelFileError(f"{path} could not be loaded ({type(error).__name__}: {error}); {REBUILD_HINT}") from error


def parameter_count(model: Any) -> int:
    return int(model.count_params())


def architecture_summary(model: Any) -> list[dict]:
    """One row per layer: name, type, output shape and parameter count."""
    rows = []
    for layer in model.layers:
        shape = getattr(layer, "output", None)
        rows.append({
            "layer": layer.name,
            "type": type(layer).__name__,
            "output shape": str(tuple(shape.shape)) if shape is not None else "",
            "parameters": int(layer.count_params()),
        })
    return rows
