"""Stage 4: the recurrent classifiers, and loading them safely from the models folder.

The builders differ only in the recurrent layer and its readout:
Embedding(mask_zero, GloVe-initialised, trainable) -> [SpatialDropout1D] -> SimpleRNN | GRU | LSTM
-> last state, or the mean of every state ("mean" readout) -> [Dropout] -> Dense(1, sigmoid).
Either way the model's output after t tokens is a function of h_1..h_t alone, so the running
prediction is exactly "what the model would say if the review ended here".
Files are Keras v3 `.keras` archives loaded with `safe_mode=True`, and only after
their sha256 matches the manifest.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnndemo.registry import (  # noqa: F401  (re-exported)
    DISPLAY_NAMES,
    EXPERIMENT_LAYERS,
    LANGUAGE_MODELS,
    NEURAL_LAYERS,
    RECURRENT_KINDS,
)
from rnndemo.shapes import manifest_problem

LANGUAGE_LAYERS = {spec.name: spec.layer for spec in LANGUAGE_MODELS if spec.layer}

MANIFEST_FILE = "manifest.json"
VOCABULARY_FILE = "vocabulary.json"
BASELINE_FILE = "baseline.json"
PREDICTIONS_FILE = "heldout_predictions.csv"
MEMORY_FILE = "memory_experiment.json"
LANGUAGE_MEMORY_FILE = "language_model_memory.json"  # perplexity against the context each LM may see
RACE_SWEEP_FILE = "race_sweep.json"  # the race page's reference: test error against T, three seeds per cell
REBUILD_HINT = "rebuild it with: python -m rnndemo train"
PIN_ENVIRONMENT = "RNNDEMO_MANIFEST_SHA256"  # a deployment's pin of the manifest's own sha256 (docs/SECURITY.md)
LOGGER = logging.getLogger("rnndemo.models")  # full paths and raw errors go here, never to visitors
_FILE_NAME = re.compile(r"[a-z0-9][a-z0-9_]*\.(keras|json|csv|npz)")


class ModelFileError(RuntimeError):
    """A model artifact is missing, tampered with or unreadable; the message names the file and the fix."""


@dataclass(frozen=True)
class ModelArchitecture:
    """Shapes of one recurrent classifier."""

    kind: str  # "rnn" (SimpleRNN), "gru" or "lstm"
    vocabulary_size: int  # rows of the embedding, including padding and OOV
    embedding_dim: int  # 50 for GloVe-50d
    units: int  # recurrent units
    dropout: float = 0.0  # dropout on the recurrent layer's inputs (training only)
    spatial_dropout: float = 0.0  # drops whole embedding channels for a review (training only)
    output_dropout: float = 0.0  # dropout on the readout before the classifier (training only)
    readout: str = "last"  # "last": the final state h_T; "mean": the mean of h_1..h_T over the real tokens
    kernel_widths: tuple[int, ...] = (3, 4, 5)  # the CNN's convolution widths (`units` filters each)


READOUTS = ("last", "mean")


def classifier_layers() -> dict[str, Any]:
    """The classifiers' custom layers by name, registered with Keras on first use (so importing this module does
    not import Keras). Call it before `keras.saving.load_model` of a CNN file."""
    with _LAYERS_LOCK:  # Keras refuses a second registration under the same name
        if not _LAYERS:
            _define_layers()
    return _LAYERS


def _define_layers() -> None:
    import keras
    from keras import ops

    @keras.saving.register_keras_serializable(package="rnndemo")
    class ZeroAtPadding(keras.layers.Layer):
        """[values (batch, time, channels), token_ids (batch, time)] -> values, zero where the id is 0 (padding).

        The CNN's convolutions and max pooling know no Keras mask; zeroing the padding's vectors and features
        makes its output the same however much padding a batch adds."""

        def call(self, inputs):
            values, token_ids = inputs
            real = ops.cast(ops.not_equal(token_ids, 0), values.dtype)  # (batch, time)
            return values * ops.expand_dims(real, -1)

        def compute_output_shape(self, input_shapes):
            return input_shapes[0]

    _LAYERS["ZeroAtPadding"] = ZeroAtPadding


_LAYERS: dict[str, Any] = {}
_LAYERS_LOCK = threading.Lock()


def build_model(architecture: ModelArchitecture, embedding_matrix: np.ndarray | None = None) -> Any:
    """A Keras 3 Functional model; the embedding starts from `embedding_matrix` when given."""
    import keras
    from keras import layers

    layer = NEURAL_LAYERS.get(architecture.kind) or RECURRENT_KINDS.get(architecture.kind)  # by layer, not name
    if layer == "Dense":
        return _build_feedforward(architecture, embedding_matrix)
    if layer == "Conv1D":
        return _build_convolutional(architecture, embedding_matrix)
    if architecture.kind not in RECURRENT_KINDS:
        raise ValueError(f"unknown model kind {architecture.kind!r}; use one of {sorted(NEURAL_LAYERS)}")
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")  # (batch, time)
    embedded = layers.Embedding(
        architecture.vocabulary_size, architecture.embedding_dim, mask_zero=True, name="embedding"
    )(token_ids)  # (batch, time, embedding_dim)
    if architecture.readout not in READOUTS:
        raise ValueError(f"unknown readout {architecture.readout!r}; use one of {READOUTS}")
    if architecture.spatial_dropout:
        embedded = layers.SpatialDropout1D(architecture.spatial_dropout, name="spatial_dropout")(embedded)
    recurrent_layer = getattr(layers, RECURRENT_KINDS[architecture.kind])
    mean = architecture.readout == "mean"
    states = recurrent_layer(architecture.units, dropout=architecture.dropout, return_sequences=mean, name="recurrent")(
        embedded
    )  # (batch, units), or (batch, time, units) for the mean readout
    state = layers.GlobalAveragePooling1D(name="readout")(states) if mean else states  # masked: real tokens only
    if architecture.output_dropout:
        state = layers.Dropout(architecture.output_dropout, name="output_dropout")(state)
    probability = layers.Dense(1, activation="sigmoid", name="classifier")(state)  # (batch, 1)
    model = keras.Model(token_ids, probability, name=f"{architecture.kind}_classifier")
    if embedding_matrix is not None:
        model.get_layer("embedding").set_weights([np.asarray(embedding_matrix, dtype=np.float32)])
    return model


def _embedded_input(architecture: ModelArchitecture, mask_zero: bool) -> tuple[Any, Any, Any]:
    """The token-id input, the embedding layer, and the embedded tensor (batch, time, embedding_dim)."""
    import keras
    from keras import layers

    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")  # (batch, time)
    embedding = layers.Embedding(
        architecture.vocabulary_size, architecture.embedding_dim, mask_zero=mask_zero, name="embedding"
    )
    return token_ids, embedding, embedding(token_ids)


def _finish(model: Any, embedding_matrix: np.ndarray | None) -> Any:
    if embedding_matrix is not None:
        model.get_layer("embedding").set_weights([np.asarray(embedding_matrix, dtype=np.float32)])
    return model


def _build_feedforward(architecture: ModelArchitecture, embedding_matrix: np.ndarray | None) -> Any:
    """The DFN: the mean of the word vectors (padding masked) -> Dense(units, relu) -> Dense(1, sigmoid).
    The mean forgets the order of the words, so the model is order-blind by construction."""
    import keras
    from keras import layers

    token_ids, _, embedded = _embedded_input(architecture, mask_zero=True)
    if architecture.spatial_dropout:
        embedded = layers.SpatialDropout1D(architecture.spatial_dropout, name="spatial_dropout")(embedded)
    mean = layers.GlobalAveragePooling1D(name="readout")(embedded)  # (batch, embedding_dim), real tokens only
    hidden = layers.Dense(architecture.units, activation="relu", name="hidden")(mean)  # (batch, units)
    if architecture.output_dropout:
        hidden = layers.Dropout(architecture.output_dropout, name="output_dropout")(hidden)
    probability = layers.Dense(1, activation="sigmoid", name="classifier")(hidden)  # (batch, 1)
    return _finish(keras.Model(token_ids, probability, name="dfn_classifier"), embedding_matrix)


def _build_convolutional(architecture: ModelArchitecture, embedding_matrix: np.ndarray | None) -> Any:
    """The 1-D CNN: for each width w, Conv1D(units, w, causal, relu) over the word vectors -> the maximum over
    the real positions; the maxima concatenated -> Dense(1, sigmoid). It sees the order of w words at a time.

    Causal windows end at their position, so the feature at token t reads tokens t-w+1..t: the running
    prediction (the model on the review's first t tokens) is the classifier of the running maxima."""
    import keras
    from keras import layers

    zero_at_padding = classifier_layers()["ZeroAtPadding"]
    token_ids, _, embedded = _embedded_input(architecture, mask_zero=False)
    embedded = zero_at_padding(name="padding_vectors")([embedded, token_ids])  # (batch, time, embedding_dim)
    if architecture.spatial_dropout:
        embedded = layers.SpatialDropout1D(architecture.spatial_dropout, name="spatial_dropout")(embedded)
    maxima = []
    for index, width in enumerate(architecture.kernel_widths):
        name = "convolution" if index == 0 else f"convolution_{width}"
        features = layers.Conv1D(architecture.units, width, padding="causal", activation="relu", name=name)(embedded)
        features = zero_at_padding(name=f"{name}_real")([features, token_ids])  # (batch, time, units)
        maxima.append(layers.GlobalMaxPooling1D(name=f"{name}_max")(features))  # (batch, units); features >= 0
    pooled = maxima[0] if len(maxima) == 1 else layers.Concatenate(name="readout")(maxima)
    if architecture.output_dropout:
        pooled = layers.Dropout(architecture.output_dropout, name="output_dropout")(pooled)
    probability = layers.Dense(1, activation="sigmoid", name="classifier")(pooled)  # (batch, 1)
    return _finish(keras.Model(token_ids, probability, name="cnn_classifier"), embedding_matrix)


def convolutions_of(model: Any) -> list[Any]:
    """The CNN's Conv1D layers in order of their widths (empty for any other model)."""
    return [layer for layer in model.layers if type(layer).__name__ == "Conv1D"]


def readout_of(model: Any) -> str:
    """ "mean" if the model averages its states before the classifier, else "last" (read from the model itself);
    "not recurrent" for the DFN and the CNN, which have no states."""
    if body_kind(model) in ("Dense", "Conv1D"):
        return "not recurrent"
    try:
        model.get_layer("readout")
    except ValueError:
        return "last"
    return "mean"


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(models_dir: Path, required: tuple[str, ...] = ()) -> dict:
    """The models folder's manifest, checked against the deployment's pin and validated; ModelFileError otherwise.

    `required`: top-level keys this reader needs besides those every manifest has (shapes.CLASSIFIER_KEYS for the
    classifiers' bundle; a folder written by `race --sweep` alone has none of them).
    """
    path = Path(models_dir) / MANIFEST_FILE
    if not path.is_file():
        LOGGER.warning("no manifest at %s", path)
        raise ModelFileError(f"No trained models ({MANIFEST_FILE} is missing); {REBUILD_HINT}")
    pinned = os.environ.get(PIN_ENVIRONMENT, "").strip().lower()
    if pinned and sha256_file(path) != pinned:
        LOGGER.error("%s does not match %s=%s", path, PIN_ENVIRONMENT, pinned)
        raise ModelFileError(
            f"{MANIFEST_FILE} does not match the sha256 pinned in {PIN_ENVIRONMENT}; refused every model"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        LOGGER.warning("unreadable manifest %s: %s", path, error)
        raise ModelFileError(f"{MANIFEST_FILE} is unreadable (not JSON); {REBUILD_HINT}") from error
    except RecursionError as error:  # deeply nested JSON: Python's parser gives up, and it is no ValueError
        raise ModelFileError(f"{MANIFEST_FILE} is not a valid manifest (nested too deeply); {REBUILD_HINT}") from error
    problem = manifest_problem(manifest) or next(
        (f"'{key}' is missing" for key in required if key not in manifest), None
    )
    if problem:
        raise ModelFileError(f"{MANIFEST_FILE} is not a valid manifest ({problem}); {REBUILD_HINT}")
    return manifest


def confined_path(models_dir: Path, file_name: Any) -> Path:
    """The path of `file_name` inside the models folder; refuses separators, '..', odd names and links out."""
    if not isinstance(file_name, str) or not _FILE_NAME.fullmatch(file_name):
        shown = repr(file_name)[:60]
        raise ModelFileError(
            f"the manifest names {shown}, which is not a plain file name of the models folder; refused"
        )
    folder = Path(models_dir)
    path = folder / file_name
    if path.is_symlink() or (path.exists() and path.resolve().parent != folder.resolve()):
        raise ModelFileError(f"{file_name} is a link out of the models folder; refused")
    return path


def verified_path(models_dir: Path, manifest: dict, file_name: str) -> Path:
    """Path of an artifact whose sha256 matches the manifest, else ModelFileError naming the file
    (never a server path)."""
    path = confined_path(models_dir, file_name)
    expected = manifest.get("files", {}).get(file_name)
    if expected is None:
        raise ModelFileError(f"{file_name} is not listed in {MANIFEST_FILE}; {REBUILD_HINT}")
    if not path.is_file():
        LOGGER.warning("missing artifact %s", path)
        raise ModelFileError(f"{file_name} is missing; {REBUILD_HINT}")
    if sha256_file(path) != expected:
        LOGGER.warning("sha256 mismatch for %s", path)
        raise ModelFileError(
            f"{file_name} does not match its sha256 in {MANIFEST_FILE} (corrupted or tampered); "
            f"refused to load it; {REBUILD_HINT}"
        )
    return path


def load_verified_json(models_dir: Path, manifest: dict, file_name: str, hint: str = REBUILD_HINT) -> Any:
    """A JSON side file of the models folder (an experiment, a sweep), read only once its sha256 matches the
    manifest; None when the folder has no such file. ModelFileError names the file and `hint` says the fix."""
    if not (Path(models_dir) / file_name).is_file():
        return None
    return read_json(verified_path(models_dir, manifest, file_name), hint)


def read_json(path: Path, hint: str = REBUILD_HINT) -> Any:
    """The JSON value of a verified file of the models folder; ModelFileError naming the file when it is not JSON,
    or is nested too deeply for Python's parser (a RecursionError, which is no ValueError)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise ModelFileError(f"{path.name} is not valid JSON; {hint}") from error
    except RecursionError as error:
        raise ModelFileError(f"{path.name} is not valid JSON (nested too deeply); {hint}") from error


def load_vocabulary(models_dir: Path, manifest: dict) -> Any:
    """The folder's verified vocabulary (rnndemo.vocab.Vocabulary); ModelFileError naming the file otherwise."""
    from rnndemo.vocab import Vocabulary

    path = verified_path(models_dir, manifest, VOCABULARY_FILE)
    try:
        return Vocabulary(read_json(path))
    except (ModelFileError, ValueError, TypeError) as error:
        LOGGER.warning("unreadable vocabulary %s: %s", path, error)
        raise ModelFileError(f"{VOCABULARY_FILE} is not a valid vocabulary; {REBUILD_HINT}") from error


def record_in_manifest(models_dir: Path, file_name: str) -> None:
    """Add (or refresh) `file_name`'s sha256 in the folder's manifest, for an artifact written after it."""
    models_dir = Path(models_dir)
    manifest = read_manifest(models_dir)
    manifest.setdefault("files", {})[file_name] = sha256_file(models_dir / file_name)
    temporary = models_dir / f".{MANIFEST_FILE}.tmp"
    temporary.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    os.replace(temporary, models_dir / MANIFEST_FILE)  # never a half-written manifest


def update_manifest(models_dir: Path, change: Callable[[dict], None]) -> None:
    """Read the folder's manifest, let `change` edit it in place, and write it back atomically, all at once: a
    writer of one section (the forecasters) keeps every entry another writer added before."""
    models_dir = Path(models_dir)
    manifest = read_manifest(models_dir)
    change(manifest)
    problem = manifest_problem(manifest)
    if problem:
        raise ModelFileError(f"refused to write an invalid {MANIFEST_FILE} ({problem})")
    temporary = models_dir / f".{MANIFEST_FILE}.{os.getpid()}.tmp"
    temporary.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    os.replace(temporary, models_dir / MANIFEST_FILE)  # never a half-written manifest


CLASSIFIER_SECTIONS = {"models": NEURAL_LAYERS, "experiment_models": EXPERIMENT_LAYERS}  # table -> name -> layer


def load_keras_model(models_dir: Path, manifest: dict, name: str, section: str = "models") -> Any:
    """Load one verified `.keras` model with safe_mode=True, and check that it is the kind its name says.

    `section` is the manifest's table: "models" (the served classifiers), "experiment_models" (classifiers
    of the memory experiment, never served) or "language_models" (whose custom layers the caller registers
    first: `language_model_layers.custom_layers`).
    """
    import keras

    classifiers = section in CLASSIFIER_SECTIONS
    layers = CLASSIFIER_SECTIONS.get(section, LANGUAGE_LAYERS)
    if classifiers:
        classifier_layers()  # the CNN's ZeroAtPadding
    entry = manifest.get(section, {}).get(name)
    if name not in layers:
        raise ModelFileError(f"the manifest lists an unknown model; only {', '.join(layers)} are served")
    if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
        raise ModelFileError(f"model {name} is not in {MANIFEST_FILE}; {REBUILD_HINT}")
    file_name = entry["file"]
    if not file_name.endswith(".keras"):
        raise ModelFileError(f"{file_name}: only Keras v3 .keras files are loaded; {REBUILD_HINT}")
    path = verified_path(models_dir, manifest, file_name)
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # a verified file that still fails is reported by name; the detail goes to the log
        LOGGER.error("could not load %s: %s: %s", path, type(error).__name__, error)
        raise ModelFileError(f"{file_name} could not be loaded (see the server log); {REBUILD_HINT}") from error
    actual = body_kind(model) if classifiers else recurrent_kind(model)
    if actual != layers[name]:
        raise ModelFileError(
            f"{file_name} holds a {actual or 'non-recurrent'} model, not the {layers[name]} "
            f"that '{name}' must be (swapped or relabelled); refused"
        )
    problem = classifier_layers_problem(model) if classifiers else None
    if problem:
        raise ModelFileError(f"{file_name} {problem}, which serving reads; refused; {REBUILD_HINT}")
    return model


def classifier_layers_problem(model: Any) -> str | None:
    """What a loaded classifier lacks of the layers serving reads by name (its embedding, and a classifier of one
    output with a bias), or None. Without this check such a model raised later, outside any refusal."""
    names = [layer.name for layer in model.layers]
    missing = next((name for name in ("embedding", "classifier") if name not in names), None)
    if missing:
        return f"has no '{missing}' layer"
    embedding, classifier = model.get_layer("embedding"), model.get_layer("classifier")
    if not hasattr(embedding, "input_dim"):
        return f"has an 'embedding' layer that is a {type(embedding).__name__}, not an Embedding"
    if getattr(classifier, "units", None) != 1 or not getattr(classifier, "use_bias", False):
        return f"has a 'classifier' layer of {getattr(classifier, 'units', '?')} outputs (one, with a bias, expected)"
    return None


def recurrent_kind(model: Any) -> str | None:
    """The class name of the model's recurrent layer (from the loaded architecture, not from the manifest)."""
    try:
        return type(model.get_layer("recurrent")).__name__
    except ValueError:
        return None


def body_kind(model: Any) -> str | None:
    """The class name of the layer that makes a classifier what it is: its recurrent layer, else its first
    convolution (CNN), else its hidden Dense layer (DFN); read from the loaded architecture, not the manifest."""
    for layer_name in ("recurrent", "convolution", "hidden"):
        try:
            return type(model.get_layer(layer_name)).__name__
        except ValueError:
            continue
    return None


def parameter_count(model: Any) -> int:
    return int(model.count_params())


def architecture_summary(model: Any) -> list[dict]:
    """One row per layer: name, type, output shape and parameter count."""
    rows = []
    for layer in model.layers:
        shape = getattr(layer, "output", None)
        rows.append(
            {
                "layer": layer.name,
                "type": type(layer).__name__,
                "output shape": str(tuple(shape.shape)) if shape is not None else "",
                "parameters": int(layer.count_params()),
            }
        )
    return rows
