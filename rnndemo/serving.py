"""Stage 5: serving the cached models fast and safely for many concurrent visitors.

Each model is loaded once, verified against the manifest, and wrapped in
`tf.function`s with fixed input signatures (batch, time) of int32, so they are
traced once and never retrace; one review's running prediction runs XLA-compiled
at a few padded lengths (COMPILED_STEP_LENGTHS). `model.predict` is never called per request.
Every object here is read-only after construction and safe to share between
Streamlit's session threads.
"""

from __future__ import annotations

import functools
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnndemo import models as model_files
from rnndemo import shapes
from rnndemo.config import LIMITS, default_models_dir
from rnndemo.evaluation import verdict
from rnndemo.registry import EXPERIMENT_NAMES
from rnndemo.text import CleaningOptions, tokenize
from rnndemo.vocab import FIRST_WORD_INDEX, PADDING_INDEX, Vocabulary, pad_batch

BATCH_CHUNK = 64  # reviews per compiled batch call
WORKER_PREFIX = "rnndemo-tensorflow"
# A recurrent or convolutional loop runs a dozen small ops per token; XLA fuses each step into one (per review of 200
# tokens, measured: LSTM(256) 13.7 -> 5.3 ms CPU, GRU 7.7 -> 1.1, SimpleRNN 5.0 -> 1.1, CNN 3.0 -> 1.0). It compiles
# once per input shape (about 0.5 s), so one review's ids are padded at the end to the next of these lengths. Every
# model here is causal: the outputs at the real tokens do not depend on what follows them, and are sliced back.
COMPILED_STEP_LENGTHS = (64, 128, 256, 400)
_workers_lock = threading.Lock()
_workers: list[ThreadPoolExecutor] = []  # one process-wide pool, created on first use


def compiled_step_length(length: int) -> int | None:
    """The padded length at which a review of `length` tokens runs compiled; None past the longest."""
    return next((bucket for bucket in COMPILED_STEP_LENGTHS if bucket >= length), None)


def _to_numpy(value):
    if isinstance(value, (tuple, list)):
        return type(value)(_to_numpy(item) for item in value)
    return value.numpy() if hasattr(value, "numpy") else value


def tensorflow_call(function, *arguments):
    """Run a compiled TensorFlow function on a long-lived worker thread; returns numpy arrays.

    Streamlit runs every rerun on a fresh thread, and the first TensorFlow call on a
    new thread costs about 100 ms here (measured in AppTest); a call on a warm,
    long-lived worker costs about 1 ms. Two workers match the two cores.
    """
    if threading.current_thread().name.startswith(WORKER_PREFIX):
        return _to_numpy(function(*arguments))
    with _workers_lock:
        if not _workers:
            _workers.append(ThreadPoolExecutor(max_workers=2, thread_name_prefix=WORKER_PREFIX))
    return _workers[0].submit(lambda: _to_numpy(function(*arguments))).result()


class EmptyTextError(ValueError):
    """The text has no words once cleaned."""


def prepare_text(text: str, max_characters: int = LIMITS.max_text_characters) -> tuple[str, str]:
    """Bound a pasted text, keeping its end (the part the model reads); returns (text, notice or '')."""
    if not isinstance(text, str):
        raise TypeError("text must be a string")
    if len(text) <= max_characters:
        return text, ""
    return text[-max_characters:], f"the text had {len(text):,} characters; only the last {max_characters:,} were kept"


@dataclass(frozen=True)
class Prediction:
    """One model's verdict on one text."""

    model: str  # its registry name: "rnn", "lstm", "gru", "dfn", "cnn" or "baseline"
    probability_positive: float
    trajectory: list[float]  # probability after each token seen (empty for the baseline)
    tokens: list[str]  # tokens the model saw, in order
    ids: list[int]  # their vocabulary indices
    cut_tokens: int  # tokens dropped from the start because the text was too long
    latency_ms: float  # wall time of this call

    @property
    def label(self) -> str:
        return verdict(self.probability_positive)


def _sequence_model(model: Any) -> Any:
    """A model sharing `model`'s weights that outputs the probability after every token: the model's
    own output had the review ended there (its readout of h_1..h_t: the last state, or their mean)."""
    import keras
    from keras import ops

    if model_files.body_kind(model) == "Dense":
        return _feedforward_sequence_model(model)
    if model_files.body_kind(model) == "Conv1D":
        return _convolutional_sequence_model(model)
    recurrent = model.get_layer("recurrent")
    config = recurrent.get_config() | {"return_sequences": True, "dropout": 0.0, "name": "recurrent_sequence"}
    sequence_layer = type(recurrent).from_config(config)
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    embedded = model.get_layer("embedding")(token_ids)  # (batch, time, embedding_dim)
    states = sequence_layer(embedded)  # (batch, time, units)
    sequence_layer.set_weights(recurrent.get_weights())
    readouts = states
    if model_files.readout_of(model) == "mean":
        real = ops.expand_dims(ops.cast(ops.not_equal(token_ids, PADDING_INDEX), states.dtype), -1)  # (batch, time, 1)
        # The mean of the states of the real tokens so far (padding, id 0, is skipped as the model skips it).
        readouts = ops.cumsum(states * real, axis=1) / ops.maximum(ops.cumsum(real, axis=1), 1.0)
    probabilities = model.get_layer("classifier")(readouts)  # (batch, time, 1)
    return keras.Model(token_ids, [probabilities, states], name=f"{model.name}_sequence")


def _running_mean(values: Any, token_ids: Any) -> Any:
    """The mean of `values` (batch, time, channels) over the real tokens up to each position (padding skipped)."""
    from keras import ops

    real = ops.expand_dims(ops.cast(ops.not_equal(token_ids, PADDING_INDEX), values.dtype), -1)  # (batch, time, 1)
    return ops.cumsum(values * real, axis=1) / ops.maximum(ops.cumsum(real, axis=1), 1.0)


def _feedforward_sequence_model(model: Any) -> Any:
    """The DFN's running prediction: its hidden and classifier layers applied to the running mean of the word
    vectors. Its second output is that running mean (batch, time, embedding_dim), in place of hidden states."""
    import keras

    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    embedding = model.get_layer("embedding")
    means = _running_mean(embedding(token_ids), token_ids)  # (batch, time, embedding_dim)
    probabilities = model.get_layer("classifier")(model.get_layer("hidden")(means))  # (batch, time, 1)
    return keras.Model(token_ids, [probabilities, means], name=f"{model.name}_sequence")


def _convolutional_sequence_model(model: Any) -> Any:
    """The CNN's running prediction: its classifier applied to the running maximum of each causal convolution's
    features over the real tokens so far. Its second output is those running maxima (batch, time, features).

    A callable for the compiled serving functions, not a Keras model: the running maximum is a `tf.scan`."""
    import keras
    import tensorflow as tf

    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    zero_at_padding = model.get_layer("padding_vectors")
    embedded = zero_at_padding([model.get_layer("embedding")(token_ids), token_ids])  # (batch, time, embedding_dim)
    features = [
        zero_at_padding([convolution(embedded), token_ids])  # (batch, time, units), >= 0
        for convolution in model_files.convolutions_of(model)
    ]
    features_model = keras.Model(token_ids, keras.layers.Concatenate()(features) if len(features) > 1 else features[0])
    classifier = model.get_layer("classifier")

    def running(ids, training=False):
        by_time = tf.transpose(features_model(ids, training=training), [1, 0, 2])  # (time, batch, features)
        maxima = tf.transpose(tf.scan(tf.maximum, by_time), [1, 0, 2])  # (batch, time, features)
        return classifier(maxima), maxima

    return running


class Classifier:
    """A loaded Keras classifier (recurrent, feed-forward or convolutional) with compiled serving functions."""

    def __init__(self, name: str, model: Any, vocabulary: Vocabulary, sequence_length: int, entry: dict | None = None):
        import tensorflow as tf

        self.name = name
        self.model = model
        self.vocabulary = vocabulary
        self.sequence_length = sequence_length
        self.entry = entry or {}
        self.sequence_model = _sequence_model(model)
        # p(positive) with nothing read, σ(b) of the classifier layer: read once, not on every batched call.
        bias = float(model.get_layer("classifier").get_weights()[1][0])
        self.empty_probability = 1.0 / (1.0 + np.exp(-bias))
        from rnndemo.embeddings import EmbeddingSpace

        # The trained embedding as a searchable space; rows 0 and 1 (padding, OOV) are not words.
        trained = np.array(model.get_layer("embedding").get_weights()[0], dtype=np.float32)
        trained.setflags(write=False)
        self.embedding_space = EmbeddingSpace(
            f"the {entry.get('layer', name) if entry else name} model's trained embedding",
            vocabulary.words,
            trained,
            skip_rows=FIRST_WORD_INDEX,
        )
        signature = [tf.TensorSpec(shape=(None, None), dtype=tf.int32)]
        # A partial per classifier, not the bound method: TensorFlow counts traces per code object, and five
        # classifiers tracing once each printed an "excessive retracing" warning on every command's stderr.
        self._final = tf.function(
            functools.partial(Classifier._call_final, self), input_signature=signature, autograph=False
        )
        self._steps = tf.function(
            functools.partial(Classifier._call_steps, self), input_signature=signature, autograph=False
        )
        # Trace both now, under one thread, so concurrent first requests never race a trace.
        warm = tf.constant([[2, 3]], dtype=tf.int32)
        tensorflow_call(self._final, warm)
        tensorflow_call(self._steps, warm)
        # The DFN has no loop to fuse (0.8 ms either way): it keeps the graph path.
        self._compiled_steps = (
            None
            if model_files.body_kind(model) == "Dense"
            else tf.function(
                functools.partial(Classifier._call_steps, self),
                input_signature=signature,
                autograph=False,
                jit_compile=True,
            )
        )
        if self._compiled_steps is not None:
            # Traced now, under one thread, like the two above; XLA compiles each padded length on first need.
            self._compiled_steps.get_concrete_function()
        self._compiled_lengths: set[int] = set()  # compiled and ready; read without the lock
        self._compile_lock = threading.Lock()
        self._vocabulary_size = int(model.get_layer("embedding").input_dim)

    def _call_final(self, ids):
        return self.model(ids, training=False)  # (batch, 1)

    def _call_steps(self, ids):
        return self.sequence_model(ids, training=False)  # (batch, time, 1), (batch, time, units)

    def encode(self, text: str, options: CleaningOptions = CleaningOptions()) -> tuple[list[str], list[int], int]:
        """Tokens and ids the model reads (the last `sequence_length`), and how many were cut."""
        tokens = tokenize(text, options)
        if not tokens:
            raise EmptyTextError("the text has no words once cleaned; paste a review with some words in it")
        seen = tokens[-self.sequence_length :]
        return seen, self.vocabulary.encode_tokens(seen), len(tokens) - len(seen)

    def run_steps(self, id_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-step probabilities (batch, time) and hidden states (batch, time, units).

        One review of up to COMPILED_STEP_LENGTHS[-1] tokens always runs XLA-compiled (its padded length is
        compiled on first need, if the launcher has not compiled it before listening), so a text gets the same
        numbers whenever it is asked; a batch runs the graph function."""
        id_rows = np.asarray(id_rows, dtype=np.int32)
        batch, length = id_rows.shape
        padded_length = compiled_step_length(length) if batch == 1 else None
        compiled = self.compile_steps(padded_length) if padded_length is not None else None
        if compiled is None:
            probabilities, states = tensorflow_call(self._steps, id_rows)
            return probabilities[..., 0], states
        # XLA clamps an id out of range where the graph function raises: checked here instead.
        if length and not (0 <= id_rows.min() and id_rows.max() < self._vocabulary_size):
            raise ValueError(f"ids must be from 0 to {self._vocabulary_size - 1}")
        padded = np.full((1, padded_length), PADDING_INDEX, dtype=np.int32)
        padded[:, :length] = id_rows
        probabilities, states = tensorflow_call(compiled, padded)
        return probabilities[:, :length, 0], states[:, :length]

    def compile_steps(self, padded_length: int) -> Any:
        """Compile run_steps for one review padded to `padded_length` (one of COMPILED_STEP_LENGTHS), unless done;
        returns the compiled function, or None: the DFN, or a model whose compile failed (it is logged, and the
        graph function then serves every review of that model)."""
        compiled = self._compiled_steps
        if compiled is None or padded_length in self._compiled_lengths:
            return compiled  # the common case: one set lookup, no lock
        with self._compile_lock:  # one compile per length, however many visitors ask for it at once
            if self._compiled_steps is not None and padded_length not in self._compiled_lengths:
                try:
                    self._compiled_steps(np.full((1, padded_length), FIRST_WORD_INDEX, dtype=np.int32))
                except Exception:  # noqa: BLE001 - a model XLA cannot compile is still served, as before
                    model_files.LOGGER.exception("%s: XLA could not compile length %d", self.name, padded_length)
                    self._compiled_steps = None
                    return None
                self._compiled_lengths.add(padded_length)
            return self._compiled_steps

    def compiled_lengths(self) -> frozenset[int]:
        """The padded lengths at which run_steps is compiled now."""
        return frozenset(self._compiled_lengths)

    def predict_text(self, text: str, options: CleaningOptions = CleaningOptions()) -> Prediction:
        """Probability of 'positive' and the running prediction, from one compiled call."""
        started = time.perf_counter()
        tokens, ids, cut = self.encode(text, options)
        probabilities, _ = self.run_steps(np.asarray([ids], dtype=np.int32))
        trajectory = probabilities[0].astype(float).tolist()
        return Prediction(
            self.name, trajectory[-1], trajectory, tokens, ids, cut, (time.perf_counter() - started) * 1000
        )

    def predict_ids(self, id_lists: list[list[int]]) -> np.ndarray:
        """Probability of 'positive' for many id lists, batched by similar length."""
        order = np.argsort([len(ids) for ids in id_lists], kind="stable")
        result = np.empty(len(id_lists), dtype=np.float64)
        for start in range(0, len(order), BATCH_CHUNK):
            chunk = order[start : start + BATCH_CHUNK]
            longest = max(1, min(self.sequence_length, max(len(id_lists[row]) for row in chunk)))
            batch = pad_batch([id_lists[row] for row in chunk], longest)
            result[chunk] = tensorflow_call(self._final, batch)[:, 0]
        return result

    def predict_ids_unbounded(self, id_lists: list[list[int]]) -> np.ndarray:
        """Like predict_ids, but never truncates (the memory experiment feeds reviews plus filler)."""
        result = np.empty(len(id_lists), dtype=np.float64)
        for start in range(0, len(id_lists), BATCH_CHUNK):
            chunk = id_lists[start : start + BATCH_CHUNK]
            longest = max(1, max(len(ids) for ids in chunk))
            result[start : start + len(chunk)] = tensorflow_call(self._final, pad_batch(chunk, longest))[:, 0]
        return result

    def predict_ids_exact(self, id_rows: np.ndarray) -> np.ndarray:
        """Final probability for an already padded (batch, time) matrix, in one compiled call.

        A row of padding only (occlusion of a one-word text) has no states to read: its readout is the zero
        vector, so its probability is σ(b) of the classifier, for every readout. Keras's masked mean would
        divide 0 by 0 there, so those rows are set here.
        """
        id_rows = np.asarray(id_rows, dtype=np.int32)
        probabilities = tensorflow_call(self._final, id_rows)[:, 0].astype(np.float64)
        probabilities[~id_rows.any(axis=1)] = self.empty_probability
        return probabilities

    def predict_texts(self, texts: list[str], options: CleaningOptions = CleaningOptions()) -> np.ndarray:
        """Probability of 'positive' for many texts; a text with no words gets NaN (no prediction, not a guess)."""
        id_lists = [self.vocabulary.encode_tokens(tokenize(text, options)[-self.sequence_length :]) for text in texts]
        probabilities = self.predict_ids(id_lists)
        probabilities[[len(ids) == 0 for ids in id_lists]] = np.nan
        return probabilities


@dataclass
class Bundle:
    """Everything loaded from one models folder; models that failed are in `errors`."""

    models_dir: Path
    manifest: dict
    vocabulary: Vocabulary | None
    classifiers: dict[str, Classifier] = field(default_factory=dict)
    baseline: Any = None
    errors: dict[str, str] = field(default_factory=dict)
    load_seconds: float = 0.0

    def names(self) -> list[str]:
        return list(self.classifiers) + (["baseline"] if self.baseline is not None else [])

    def compile_steps(self) -> None:
        """Compile every classifier's run_steps at every padded length (Classifier.run_steps), shortest first."""
        for padded_length in COMPILED_STEP_LENGTHS:
            for classifier in self.classifiers.values():
                classifier.compile_steps(padded_length)

    def classify(
        self, text: str, names: list[str] | None = None, options: CleaningOptions = CleaningOptions()
    ) -> dict[str, Prediction]:
        """Every requested model's verdict on `text`; unknown names raise ValueError."""
        names = names or self.names()
        unknown = [name for name in names if name not in self.names()]
        if unknown:
            detail = "; ".join(self.errors.get(name, "") for name in unknown if name in self.errors)
            raise ValueError(
                f"unknown or unavailable model {', '.join(unknown)}; available: {', '.join(self.names()) or 'none'}"
                + (f" ({detail})" if detail else "")
            )
        results = {}
        for name in names:
            if name == "baseline":
                started = time.perf_counter()
                tokens = tokenize(text, options)
                if not tokens:
                    raise EmptyTextError("the text has no words once cleaned; paste a review with some words in it")
                probability = float(self.baseline.predict_proba([" ".join(tokens)])[0])
                results[name] = Prediction(name, probability, [], tokens, [], 0, (time.perf_counter() - started) * 1000)
            else:
                results[name] = self.classifiers[name].predict_text(text, options)
        return results


def configure_tensorflow_for_serving(threads: int = 1) -> None:
    """One intra-op thread per call: single reviews gain nothing from splitting a small
    matrix product, and on 2 cores shared with Streamlit (and a browser) TensorFlow's
    spinning thread pool otherwise slows every call many times over. Concurrency comes
    from the two worker threads instead. Must run before TensorFlow's runtime starts."""
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        pass  # the runtime already started (e.g. training in this process); keep its setting


def _load_vocabulary(models_dir: Path, manifest: dict) -> Vocabulary:
    """The verified vocabulary, shaped as the manifest says; every Keras classifier reads its ids,
    so a bad one refuses the folder."""
    vocabulary = model_files.load_vocabulary(models_dir, manifest)
    if len(vocabulary) != manifest.get("vocabulary_size"):
        raise model_files.ModelFileError(
            f"{model_files.VOCABULARY_FILE} has {len(vocabulary):,} entries, not the "
            f"manifest's vocabulary_size; refused; {model_files.REBUILD_HINT}"
        )
    return vocabulary


def _load_classifier(
    models_dir: Path, manifest: dict, name: str, vocabulary: Vocabulary, section: str = "models"
) -> Classifier:
    """One verified classifier with its serving functions; ModelFileError naming its file otherwise.
    `section`: the manifest's table, "models" (served) or "experiment_models" (the memory experiment's)."""
    model = model_files.load_keras_model(models_dir, manifest, name, section=section)
    file_name = manifest[section][name]["file"]
    rows = model.get_layer("embedding").input_dim
    if rows != len(vocabulary):
        raise model_files.ModelFileError(
            f"{file_name} reads {rows:,} words but {model_files.VOCABULARY_FILE} "
            f"has {len(vocabulary):,}; refused; {model_files.REBUILD_HINT}"
        )
    try:
        return Classifier(name, model, vocabulary, int(manifest["sequence_length"]), manifest[section][name])
    except Exception as error:  # a verified, checked file that still fails is refused by name; details to the log
        model_files.LOGGER.error("could not serve %s: %s: %s", file_name, type(error).__name__, error)
        raise model_files.ModelFileError(
            f"{file_name} could not be prepared for serving (see the server log); {model_files.REBUILD_HINT}"
        ) from error


def load_experiment_classifiers(bundle: Bundle) -> dict[str, Classifier]:
    """The verified classifiers the folder's manifest lists for the memory experiment only (never served), in
    registry order; none for an older folder. ModelFileError naming the file when one fails its check."""
    listed = bundle.manifest.get("experiment_models", {})
    return {
        name: _load_classifier(bundle.models_dir, bundle.manifest, name, bundle.vocabulary, "experiment_models")
        for name in EXPERIMENT_NAMES
        if name in listed
    }


def load_bundle(models_dir: Path | None = None) -> Bundle:
    """Load and verify the classifiers, their vocabulary and the baseline; one bad model never stops the others
    (it is in `errors`). A bad manifest or vocabulary refuses the whole folder: ModelFileError."""
    from rnndemo.baseline import Baseline

    configure_tensorflow_for_serving()
    started = time.perf_counter()
    models_dir = Path(models_dir) if models_dir is not None else default_models_dir()
    manifest = model_files.read_manifest(models_dir, required=shapes.CLASSIFIER_KEYS)
    vocabulary = _load_vocabulary(models_dir, manifest)
    bundle = Bundle(models_dir, manifest, vocabulary)
    for name in manifest["models"]:  # a required key (CLASSIFIER_KEYS)
        try:
            bundle.classifiers[name] = _load_classifier(models_dir, manifest, name, vocabulary)
        except model_files.ModelFileError as error:
            bundle.errors[name] = str(error)
    try:
        bundle.baseline = Baseline.load(model_files.verified_path(models_dir, manifest, model_files.BASELINE_FILE))
    except model_files.ModelFileError as error:
        bundle.errors["baseline"] = str(error)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:  # RecursionError: nested JSON
        model_files.LOGGER.warning("unreadable baseline in %s: %s", models_dir, error)
        bundle.errors["baseline"] = f"{model_files.BASELINE_FILE} is not a valid baseline; {model_files.REBUILD_HINT}"
    bundle.load_seconds = time.perf_counter() - started
    return bundle
