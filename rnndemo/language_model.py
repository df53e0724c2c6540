"""Word-level language models: a SimpleRNN and an LSTM that predict the next word of a review.

They read the same tokens as the classifiers. The LM vocabulary is the first N entries of
the classifier vocabulary (0 = padding, 1 = [UNK], then words by train-split frequency)
plus an end-of-review token "</review>" at index N, so an index means the same word in
both. A review is read as `[END] + ids` and predicts `ids + [END]`; padding (id 0) is never
predicted: its logit is masked inside the model, so its probability is exactly 0.

The output layer is tied to the input embedding (logits = E·Dense(h) + b): one
`TiedEmbedding` layer holds E and is called twice, to embed ids and to score every word.
That keeps each saved file small (a 10,001 × 50 matrix is 2 MB) and, started from GloVe,
learns far faster than a separate softmax. `LanguageModel` serves a trained model through
`tf.function`s with fixed input signatures and is read-only after construction.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnndemo.config import LanguageModelConfig
from rnndemo.progress import ProgressCallback, TrainingEvent
from rnndemo.vocab import END_TOKEN, OOV_INDEX, PADDING_INDEX, Vocabulary

DEFAULT_LM_VOCABULARY_SIZE = 10_000
KINDS = {"rnn": "SimpleRNN", "lstm": "LSTM"}
MASKED_LOGIT = -1e9  # exp(-1e9 - max) underflows to exactly 0 in float32
SCORING_CHUNK = 64  # rows per compiled call when scoring many reviews or windows
SCORING_TOKENS = 16_384  # padded tokens per scoring call: bounds the (rows, time, V) log-probabilities to ~650 MB


# --------------------------------------------------------------------------- vocabulary


class LanguageModelVocabulary:
    """The classifier vocabulary's first `size` words plus "</review>" at index `size`."""

    def __init__(self, classifier_words: list[str], size: int = DEFAULT_LM_VOCABULARY_SIZE):
        if not 3 <= size <= len(classifier_words):
            raise ValueError(f"size must be from 3 to {len(classifier_words)}")
        if END_TOKEN in classifier_words[:size]:
            raise ValueError(f"the classifier vocabulary already holds {END_TOKEN!r}")
        self.classifier_size = size  # N: classifier ids >= N become [UNK]
        self.words = list(classifier_words[:size]) + [END_TOKEN]
        self.end_index = size
        self.index = {word: position for position, word in enumerate(self.words)}

    @classmethod
    def from_vocabulary(cls, vocabulary: Vocabulary, size: int = DEFAULT_LM_VOCABULARY_SIZE) -> LanguageModelVocabulary:
        return cls(vocabulary.words, size)

    def __len__(self) -> int:
        return len(self.words)  # V = N + 1

    def from_classifier_ids(self, ids: Iterable[int]) -> list[int]:
        """Classifier ids to LM ids: the same index, or 1 ([UNK]) from N upwards."""
        size = self.classifier_size
        return [int(index) if int(index) < size else OOV_INDEX for index in ids]

    def encode_tokens(self, tokens: list[str]) -> list[int]:
        """Tokens to LM ids (1 for a word outside the first N); "</review>" is never produced from text."""
        end = self.end_index
        return [index if (index := self.index.get(token, OOV_INDEX)) != end else OOV_INDEX for token in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.words[int(index)] if 0 <= int(index) < len(self.words) else self.words[OOV_INDEX] for index in ids]


def encode_reviews(texts: Iterable[str], vocabulary: LanguageModelVocabulary) -> list[list[int]]:
    """Tokenise (default cleaning) and encode reviews as LM id lists."""
    from rnndemo.text import tokenize

    return [vocabulary.encode_tokens(tokenize(text)) for text in texts]


def language_model_glove_matrix(vocabulary: LanguageModelVocabulary, seed: int = 0) -> tuple[np.ndarray, int, int]:
    """GloVe rows for the LM words (small random rows for [UNK], "</review>" and misses)."""
    from rnndemo.embeddings import glove_matrix_for, load_glove

    return glove_matrix_for(vocabulary.words, load_glove(), seed=seed)


# --------------------------------------------------------------------------- layers and model


def _register(cls):
    import keras

    return keras.saving.register_keras_serializable(package="rnndemo")(cls)


def custom_layers() -> dict[str, Any]:
    """The custom layers by name, registered with Keras on first use (so importing this module does not
    import Keras). Call it before `keras.saving.load_model` of a language model file."""
    with _LAYERS_LOCK:  # Keras refuses a second registration under the same name
        if not _LAYERS:
            _define_layers()
    return _LAYERS


def _define_layers() -> None:
    import keras
    from keras import ops

    def mask_padding(logits):
        # Adds MASKED_LOGIT at index 0 only; the other logits are untouched.
        vocabulary_size = ops.shape(logits)[-1]
        padding = ops.cast(ops.equal(ops.arange(vocabulary_size), PADDING_INDEX), logits.dtype)
        return logits + padding * MASKED_LOGIT

    class TiedEmbedding(keras.layers.Layer):
        """One matrix E (V × d) used twice: ids -> E[ids], and vectors x -> x·Eᵀ + b (padding masked)."""

        def __init__(self, vocabulary_size: int, embedding_dim: int, **kwargs):
            super().__init__(**kwargs)
            self.vocabulary_size = vocabulary_size
            self.embedding_dim = embedding_dim
            self.embeddings = self.add_weight(
                shape=(vocabulary_size, embedding_dim),
                name="embeddings",
                initializer=keras.initializers.RandomUniform(-0.05, 0.05),
            )
            self.bias = self.add_weight(shape=(vocabulary_size,), name="bias", initializer="zeros")

        def call(self, inputs, project=False):
            if project:
                return mask_padding(ops.matmul(inputs, ops.transpose(self.embeddings)) + self.bias)
            return ops.take(self.embeddings, ops.cast(inputs, "int32"), axis=0)

        def get_config(self):
            return super().get_config() | {"vocabulary_size": self.vocabulary_size, "embedding_dim": self.embedding_dim}

    class MaskPadding(keras.layers.Layer):
        """Masks the padding logit of an untied output layer."""

        def call(self, logits):
            return mask_padding(logits)

    _LAYERS["TiedEmbedding"] = _register(TiedEmbedding)
    _LAYERS["MaskPadding"] = _register(MaskPadding)


_LAYERS: dict[str, Any] = {}
_LAYERS_LOCK = threading.Lock()


def build_language_model(
    kind: str,
    vocabulary_size: int,
    units: int,
    embedding_dim: int = 50,
    embedding_matrix: np.ndarray | None = None,
    tied: bool = True,
    output_bias: np.ndarray | None = None,
) -> Any:
    """Embedding -> SimpleRNN|LSTM (every step) -> logits over all V words (padding masked).

    Tied: logits = E·Dense(embedding_dim)(h) + b with the input embedding E.
    Untied: logits = Dense(V)(h) (V × units weights; too big to save at 10k words and 256 units).
    """
    import keras
    from keras import layers

    if kind not in KINDS:
        raise ValueError(f"unknown language model kind {kind!r}; use one of {sorted(KINDS)}")
    classes = custom_layers()
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")  # (batch, time)
    if tied:
        embedding = classes["TiedEmbedding"](vocabulary_size, embedding_dim, name="embedding")
    else:
        embedding = layers.Embedding(vocabulary_size, embedding_dim, name="embedding")
    embedded = embedding(token_ids)  # (batch, time, embedding_dim)
    states = getattr(layers, KINDS[kind])(units, return_sequences=True, name="recurrent")(
        embedded
    )  # (batch, time, units)
    if tied:
        projected = layers.Dense(embedding_dim, name="projection")(states)  # (batch, time, embedding_dim)
        logits = embedding(projected, project=True)  # (batch, time, V)
    else:
        logits = classes["MaskPadding"](name="padding_mask")(layers.Dense(vocabulary_size, name="output")(states))
    model = keras.Model(token_ids, logits, name=f"{kind}_language_model")
    if embedding_matrix is not None:
        matrix = np.asarray(embedding_matrix, dtype=np.float32)
        if matrix.shape != (vocabulary_size, embedding_dim):
            raise ValueError(f"embedding_matrix is {matrix.shape}, not {(vocabulary_size, embedding_dim)}")
        if tied:
            embedding.embeddings.assign(matrix)
        else:
            embedding.set_weights([matrix])
    if output_bias is not None:
        bias = embedding.bias if tied else model.get_layer("output").bias
        bias.assign(np.asarray(output_bias, dtype=np.float32))
    return model


def _model_shape(model: Any) -> dict:
    """kind, V, units, embedding_dim and tied, read from a built (or loaded) model."""
    recurrent = model.get_layer("recurrent")
    kind = {name: kind for kind, name in KINDS.items()}.get(type(recurrent).__name__)
    embedding = model.get_layer("embedding")
    tied = type(embedding).__name__ == "TiedEmbedding"
    vocabulary_size = embedding.vocabulary_size if tied else embedding.input_dim
    embedding_dim = embedding.embedding_dim if tied else embedding.output_dim
    return {
        "kind": kind,
        "vocabulary_size": int(vocabulary_size),
        "units": int(recurrent.units),
        "embedding_dim": int(embedding_dim),
        "tied": tied,
    }


# --------------------------------------------------------------------------- training


@dataclass
class LanguageModelTraining:
    """What one training run produced."""

    kind: str  # "rnn" or "lstm"
    model: Any  # the best weights, in a fresh model without optimizer state
    history: dict[str, list[float]] = field(
        default_factory=dict
    )  # per validation check: tokens, loss, val_perplexity, seconds, learning_rate
    tokens_seen: int = 0  # predicted training tokens processed
    seconds: float = 0.0  # wall time of the training loop, validation checks included
    best_validation_perplexity: float = math.inf  # on the fixed validation subset
    best_tokens: int = 0  # tokens seen when the best weights were taken
    stop_reason: str = ""  # "budget", "early stopping" or "time limit"


def review_stream(reviews: list[list[int]], end_index: int) -> np.ndarray:
    """All reviews joined as END r1 END r2 ... END, int32."""
    pieces = [np.asarray([end_index], dtype=np.int32)]
    for ids in reviews:
        pieces.append(np.asarray(ids, dtype=np.int32))
        pieces.append(np.asarray([end_index], dtype=np.int32))
    return np.concatenate(pieces)


def _window_batches(stream: np.ndarray, window: int, batch_size: int, rng: np.random.Generator):
    """Endless (inputs, targets) batches of fixed windows: each pass starts at a random offset, in random order."""
    while True:
        offset = int(rng.integers(0, window))
        count = (len(stream) - 1 - offset) // window
        starts = offset + window * rng.permutation(count)
        for first in range(0, count - batch_size + 1, batch_size):
            rows = starts[first : first + batch_size, None] + np.arange(window)[None, :]
            yield stream[rows], stream[rows + 1]


def _clean_copy(model: Any) -> Any:
    """A fresh, uncompiled model with `model`'s weights and no optimizer state."""
    shape = _model_shape(model)
    clean = build_language_model(
        shape["kind"], shape["vocabulary_size"], shape["units"], shape["embedding_dim"], tied=shape["tied"]
    )
    clean.set_weights(model.get_weights())
    return clean


def train_language_model(
    kind: str,
    train_reviews: list[list[int]],
    validation_reviews: list[list[int]],
    config: LanguageModelConfig,
    report: ProgressCallback | None = None,
    embedding_matrix: np.ndarray | None = None,
) -> LanguageModelTraining:
    """Train one LM on windows of the train stream for `config.token_budget` tokens, keeping the
    weights with the best perplexity on the fixed validation subset (early stopping).

    Reviews are LM id lists (`encode_reviews`); `embedding_matrix` (V × embedding_dim) initialises E.
    """
    import keras

    report = report or (lambda event: None)
    keras.utils.set_random_seed(config.seed)
    vocabulary_size = config.vocabulary_size + 1
    end_index = config.vocabulary_size
    stream = review_stream(train_reviews, end_index)
    bias = None
    if config.unigram_bias:
        counts = np.bincount(stream, minlength=vocabulary_size).astype(np.float64) + 1.0
        counts[PADDING_INDEX] = 1.0  # masked anyway
        bias = np.log(counts / counts.sum())
    model = build_language_model(
        kind, vocabulary_size, config.units, config.embedding_dim, embedding_matrix, config.tied, bias
    )
    optimizer = keras.optimizers.Adam(config.learning_rate, clipnorm=config.clip_norm)
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    scorer = LanguageModel(kind, model, None, warm=False)
    validation = list(validation_reviews[: config.validation_reviews])

    rng = np.random.default_rng(config.seed)
    batches = _window_batches(stream, config.window, config.batch_size, rng)
    tokens_per_batch = config.window * config.batch_size
    total_batches = max(1, config.token_budget // tokens_per_batch)
    checks = max(1, total_batches * tokens_per_batch // config.evaluate_every)
    report_every = max(1, min(50, total_batches // 10))  # batch events: about every 50 steps
    history: dict[str, list[float]] = {
        "tokens": [],
        "loss": [],
        "val_perplexity": [],
        "seconds": [],
        "learning_rate": [],
    }
    best_perplexity, best_weights, best_tokens, waited = math.inf, model.get_weights(), 0, 0
    halvings = 1.0  # product of the plateau halvings so far
    stop_reason, tokens_seen, losses = "budget", 0, []
    next_check = config.evaluate_every
    started = time.perf_counter()
    for batch_number in range(1, total_batches + 1):
        inputs, targets = next(batches)
        if config.decay_to != 1.0:
            progress = (batch_number - 1) / total_batches
            schedule = config.decay_to + (1.0 - config.decay_to) * 0.5 * (1.0 + math.cos(math.pi * progress))
            optimizer.learning_rate.assign(config.learning_rate * schedule * halvings)
        losses.append(float(model.train_on_batch(inputs, targets)))
        tokens_seen += tokens_per_batch
        elapsed = time.perf_counter() - started
        out_of_time = config.max_seconds is not None and elapsed > config.max_seconds
        if batch_number % report_every == 0:
            remaining = elapsed / batch_number * (total_batches - batch_number)
            report(
                TrainingEvent(
                    "batch",
                    kind,
                    "",
                    len(history["tokens"]) + 1,
                    checks,
                    batch_number,
                    total_batches,
                    {"loss": float(np.mean(losses[-report_every:])), "tokens": tokens_seen},
                    remaining,
                )
            )
        if tokens_seen < next_check and batch_number < total_batches and not out_of_time:
            continue
        next_check += config.evaluate_every
        perplexity, _ = scorer.perplexity(validation)
        for key, value in (
            ("tokens", tokens_seen),
            ("loss", float(np.mean(losses))),
            ("val_perplexity", perplexity),
            ("seconds", time.perf_counter() - started),
            ("learning_rate", float(optimizer.learning_rate.numpy())),
        ):
            history[key].append(float(value))
        losses = []
        if perplexity < best_perplexity:
            best_perplexity, best_weights, best_tokens, waited = perplexity, model.get_weights(), tokens_seen, 0
        else:
            waited += 1
            halvings /= 2
            optimizer.learning_rate.assign(float(optimizer.learning_rate.numpy()) / 2)
        metrics = {key: round(values[-1], 4) for key, values in history.items()}
        report(
            TrainingEvent(
                "epoch",
                kind,
                f"{kind} after {tokens_seen:,} tokens: validation perplexity {perplexity:.1f}",
                len(history["tokens"]),
                checks,
                metrics=metrics,
                eta_seconds=elapsed / tokens_seen * (total_batches * tokens_per_batch - tokens_seen),
            )
        )
        if out_of_time:
            stop_reason = "time limit"
            break
        if waited >= config.patience:
            stop_reason = "early stopping"
            break
    seconds = time.perf_counter() - started
    model.set_weights(best_weights)
    return LanguageModelTraining(
        kind, _clean_copy(model), history, tokens_seen, seconds, best_perplexity, best_tokens, stop_reason
    )


# --------------------------------------------------------------------------- serving


class LanguageModel:
    """A trained LM with compiled serving functions; read-only after construction, safe to share between threads."""

    def __init__(self, name: str, keras_model: Any, vocabulary: LanguageModelVocabulary | None, warm: bool = True):
        import keras
        import tensorflow as tf

        self.name = name
        self.model = keras_model
        self.vocabulary = vocabulary
        shape = _model_shape(keras_model)
        self.kind = shape["kind"]
        self.vocabulary_size = shape["vocabulary_size"]
        self.units = shape["units"]
        if vocabulary is not None and len(vocabulary) != self.vocabulary_size:
            raise ValueError(
                f"the model predicts {self.vocabulary_size:,} words but the vocabulary has {len(vocabulary):,}"
            )
        self.end_index = self.vocabulary_size - 1
        self._embedding = keras_model.get_layer("embedding")
        self._tied = shape["tied"]
        recurrent = keras_model.get_layer("recurrent")
        # The same cell (same weights) wrapped to take and return the recurrent state.
        self._stateful = keras.layers.RNN(recurrent.cell, return_sequences=True, return_state=True)
        self._head_layers = (
            [keras_model.get_layer("projection")]
            if self._tied
            else [keras_model.get_layer("output"), keras_model.get_layer("padding_mask")]
        )
        ids = tf.TensorSpec(shape=(None, None), dtype=tf.int32)
        state = tf.TensorSpec(shape=(None, self.units), dtype=tf.float32)
        self._next = tf.function(self._call_next, input_signature=[ids, state, state], autograph=False)
        self._surprisal = tf.function(self._call_surprisal, input_signature=[ids, ids], autograph=False)
        self._read = tf.function(self._call_read, input_signature=[ids], autograph=False)
        states = tf.TensorSpec(shape=(None, None, self.units), dtype=tf.float32)
        self._surprisal_of_states = tf.function(
            self._call_surprisal_of_states, input_signature=[states, ids], autograph=False
        )
        # The page asks for the same text's next words, last steps, surprisal and continuation: each used to
        # read the whole text again (~30 ms a pass for a 230-token review). One reading per text serves them
        # all; recent readings are kept, keyed by the ids (pure, read-only arrays; lru_cache is thread-safe).
        self._reading = functools.lru_cache(maxsize=READINGS_KEPT)(self._read_once)
        if warm:
            # Trace everything now, under one thread, so concurrent first requests never race a trace.
            from rnndemo.serving import tensorflow_call

            warm_ids = np.asarray([[self.end_index, 2]], dtype=np.int32)
            zeros = np.zeros((1, self.units), dtype=np.float32)
            tensorflow_call(self._next, warm_ids, zeros, zeros)
            tensorflow_call(self._surprisal, warm_ids, warm_ids)
            sequence = tensorflow_call(self._read, warm_ids)[0]
            tensorflow_call(self._surprisal_of_states, sequence, warm_ids)

    # --- compiled pieces (run on TensorFlow worker threads)

    def _run(self, ids, hidden, cell):
        """States for every step and the final state, starting from (hidden, cell)."""
        embedded = self._embedding(ids)
        initial = [hidden, cell] if self.kind == "lstm" else [hidden]
        outputs = self._stateful(embedded, initial_state=initial)
        sequence, final = outputs[0], list(outputs[1:])
        return sequence, final[0], (final[1] if self.kind == "lstm" else cell)

    def _logits(self, states):
        if self._tied:
            return self._embedding(self._head_layers[0](states), project=True)
        return self._head_layers[1](self._head_layers[0](states))

    def _zeros(self, ids):
        import tensorflow as tf

        return tf.zeros((tf.shape(ids)[0], self.units), dtype=tf.float32)

    def _call_next(self, ids, hidden, cell):
        import tensorflow as tf

        sequence, hidden, cell = self._run(ids, hidden, cell)
        probabilities = tf.nn.softmax(self._logits(sequence[:, -1, :]), axis=-1)  # (batch, V)
        return probabilities, hidden, cell

    def _call_surprisal(self, inputs, targets):
        import tensorflow as tf

        zeros = self._zeros(inputs)
        sequence, _, _ = self._run(inputs, zeros, zeros)
        log_probabilities = tf.nn.log_softmax(self._logits(sequence), axis=-1)  # (batch, time, V)
        return -tf.gather(log_probabilities, targets, axis=2, batch_dims=2)  # (batch, time)

    def _call_read(self, ids):
        """Every state, the final state and the next-word distribution, from a zero state (see `read`)."""
        import tensorflow as tf

        zeros = self._zeros(ids)
        sequence, hidden, cell = self._run(ids, zeros, zeros)
        probabilities = tf.nn.softmax(self._logits(sequence[:, -1, :]), axis=-1)  # as _call_next computes it
        return sequence, hidden, cell, probabilities

    def _call_surprisal_of_states(self, states, targets):
        import tensorflow as tf

        log_probabilities = tf.nn.log_softmax(self._logits(states), axis=-1)  # (batch, time, V)
        return -tf.gather(log_probabilities, targets, axis=2, batch_dims=2)  # (batch, time)

    # --- public API

    def _check(self, ids: list[int]) -> list[int]:
        ids = [int(index) for index in ids]
        if any(not 0 < index < self.vocabulary_size for index in ids):
            raise ValueError(f"LM ids must be from 1 to {self.vocabulary_size - 1}")
        return ids

    def _zero_state(self, rows: int = 1) -> np.ndarray:
        return np.zeros((rows, self.units), dtype=np.float32)

    def read(self, ids: list[int]) -> Reading:
        """[END] + ids read once: every state, the final state and the next-word distribution. Recent texts'
        readings are kept, so the page's sections share one pass over the text."""
        return self._reading(tuple(self._check(ids)))

    def _read_once(self, ids: tuple[int, ...]) -> Reading:
        from rnndemo.serving import tensorflow_call

        context = np.asarray([[self.end_index, *ids]], dtype=np.int32)
        sequence, hidden, cell, probabilities = tensorflow_call(self._read, context)
        arrays = (sequence[0], hidden, cell, probabilities[0])
        for array in arrays:
            array.setflags(write=False)  # shared by every visitor who sends the same text
        return Reading(*arrays)

    def next_distribution(self, ids: list[int]) -> np.ndarray:
        """p(next word | [END] + ids) over all V words: float64, sums to 1, exactly 0 at index 0."""
        return _normalised(self.read(ids).next_probabilities)

    def surprisal(self, ids: list[int], include_end: bool = False) -> np.ndarray:
        """−ln p(ids[i] | [END] + ids[:i]) in nats for every token (and for END after them if `include_end`),
        from the text's reading."""
        from rnndemo.serving import tensorflow_call

        ids = self._check(ids)
        targets = ids + ([self.end_index] if include_end else [])
        if not targets:
            return np.zeros(0, dtype=np.float64)
        states = self.read(ids).states[None, : len(targets)]  # state i predicts targets[i]
        values = tensorflow_call(self._surprisal_of_states, states, np.asarray([targets], dtype=np.int32))
        return values[0].astype(np.float64)

    def generate(
        self,
        ids: list[int],
        words: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        seed: int = 0,
        stop_at_end: bool = True,
        exclude_unknown: bool = False,
    ) -> list[tuple[int, float]]:
        """Sample up to `words` ids after [END] + ids; each with the probability the unmodified model gave it.

        See `generate_steps`, which also says what else could have been drawn at each step."""
        steps = self.generate_steps(ids, words, temperature, top_k, seed, stop_at_end, exclude_unknown)
        return [(step.index, step.probability) for step in steps]

    def generate_steps(
        self,
        ids: list[int],
        words: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        seed: int = 0,
        stop_at_end: bool = True,
        exclude_unknown: bool = False,
        alternatives: int = 0,
    ) -> list[GenerationStep]:
        """Sample up to `words` ids after [END] + ids, one `GenerationStep` each.

        Sampling uses the distribution sharpened or flattened by `temperature` and cut to the
        `top_k` most likely words (`sampling_distribution`); padding (probability 0) is never drawn,
        nor [UNK] with `exclude_unknown`. With `stop_at_end` generation stops after drawing "</review>"
        (which is included). The recurrent state is carried between steps, so each word costs one
        small compiled call. Reproducible per seed; a longer continuation starts with the shorter one.
        """
        from rnndemo.serving import tensorflow_call

        if temperature <= 0:
            raise ValueError("temperature must be positive")
        if top_k is not None and top_k < 1:
            raise ValueError("top_k must be at least 1")
        excluded = (OOV_INDEX,) if exclude_unknown else ()
        rng = np.random.default_rng(seed)
        start = self.read(ids)
        probabilities, hidden, cell = start.next_probabilities[None], start.hidden, start.cell
        generated: list[GenerationStep] = []
        for _ in range(words):
            distribution = _normalised(probabilities[0])
            drawn_from = sampling_distribution(distribution, temperature, top_k, excluded)
            choice = int(rng.choice(len(drawn_from), p=drawn_from))
            likeliest = np.argsort(-drawn_from, kind="stable")[:alternatives]
            generated.append(
                GenerationStep(
                    choice,
                    float(distribution[choice]),
                    float(drawn_from[choice]),
                    tuple((int(index), float(drawn_from[index])) for index in likeliest if drawn_from[index] > 0),
                )
            )
            if stop_at_end and choice == self.end_index:
                break
            probabilities, hidden, cell = tensorflow_call(
                self._next, np.asarray([[choice]], dtype=np.int32), hidden, cell
            )
        return generated

    def hidden_states(self, ids: list[int]) -> np.ndarray:
        """The recurrent output h_t (len(ids), units) after each token of ids, read as the model reads
        them, after [END]; row i is the state that predicts the word after ids[i]."""
        return self.read(ids).states[1:]

    def next_distributions(self, ids: list[int], last: int) -> np.ndarray:
        """p(next | [END] + ids[:i + 1]) after each of the last `last` tokens, (last, V): one compiled call for
        the states, then the output layer in numpy (a few rows), so the graph costs one pass, not `last`."""
        states = self.hidden_states(ids)[-last:].astype(np.float64)  # (last, units)
        logits = self._logits(states).numpy().astype(np.float64)  # (last, V); padding masked by the model's layer
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        probabilities[:, PADDING_INDEX] = 0.0
        return probabilities / probabilities.sum(axis=1, keepdims=True)

    def review_surprisals(self, reviews: list[list[int]]) -> list[np.ndarray]:
        """Surprisal of every target of `ids + [END]` for many reviews, batched by length (right padding
        cannot change earlier steps of a left-to-right model)."""
        from rnndemo.serving import tensorflow_call

        reviews = [self._check(ids) for ids in reviews]
        order = list(np.argsort([len(ids) for ids in reviews], kind="stable"))
        result: list[np.ndarray] = [np.zeros(0)] * len(reviews)
        chunks, chunk = [], []
        for row in order:  # ascending length: a chunk's last review is its longest
            if chunk and (len(chunk) >= SCORING_CHUNK or (len(chunk) + 1) * (len(reviews[row]) + 1) > SCORING_TOKENS):
                chunks.append(chunk)
                chunk = []
            chunk.append(row)
        chunks += [chunk] if chunk else []
        for chunk in chunks:
            longest = len(reviews[chunk[-1]]) + 1
            inputs = np.zeros((len(chunk), longest), dtype=np.int32)
            targets = np.zeros((len(chunk), longest), dtype=np.int32)
            for line, row in enumerate(chunk):
                ids = reviews[row]
                inputs[line, : len(ids) + 1] = [self.end_index] + ids
                targets[line, : len(ids) + 1] = ids + [self.end_index]
            values = tensorflow_call(self._surprisal, inputs, targets)
            for line, row in enumerate(chunk):
                result[row] = values[line, : len(reviews[row]) + 1].astype(np.float64)
        return result

    def perplexity(self, reviews: list[list[int]]) -> tuple[float, int]:
        """exp(mean −ln p) over every predicted token (words, [UNK] and END); returns (perplexity, tokens)."""
        return self.context_limited_perplexity(reviews, None)

    def context_limited_perplexity(self, reviews: list[list[int]], context: int | None) -> tuple[float, int]:
        """Perplexity when each prediction may see only the last `context` tokens of `[END] + ids` before it
        (None = the whole review). A window starts from the zero state; predictions with fewer than
        `context` tokens before them see their whole (short) history, exactly as with context None.
        """
        from rnndemo.serving import tensorflow_call

        full = self.review_surprisals(reviews)
        if context is not None and context < 1:
            raise ValueError("context must be at least 1 or None")
        if context is None:
            values = np.concatenate(full) if full else np.zeros(0)
            return (float(np.exp(values.mean())) if len(values) else math.nan), int(len(values))
        total, count = 0.0, 0
        windows, targets = [], []
        for ids, values in zip(reviews, full):
            sequence = (
                [self.end_index] + [int(index) for index in ids] + [self.end_index]
            )  # inputs then the last target
            # Target t (0-based) is sequence[t + 1] with history sequence[:t + 1]; short histories are exact already.
            short = min(context, len(values))
            total += float(values[:short].sum())
            count += short
            for target in range(context, len(values)):
                windows.append(sequence[target + 1 - context : target + 1])
                targets.append(sequence[target + 1])
        windows_array = np.asarray(windows, dtype=np.int32).reshape(-1, context)
        targets_array = np.asarray(targets, dtype=np.int64)
        zeros = self._zero_state(SCORING_CHUNK * 8)
        for start in range(0, len(windows_array), SCORING_CHUNK * 8):
            chunk = windows_array[start : start + SCORING_CHUNK * 8]
            probabilities, _, _ = tensorflow_call(self._next, chunk, zeros[: len(chunk)], zeros[: len(chunk)])
            chosen = probabilities[np.arange(len(chunk)), targets_array[start : start + len(chunk)]].astype(np.float64)
            total += float(-np.log(np.maximum(chosen, 1e-300)).sum())
            count += len(chunk)
        return (float(np.exp(total / count)) if count else math.nan), count


READINGS_KEPT = 16  # texts whose reading each language model keeps (≤ 2 MB each at the 2,000-token cut)


@dataclass(frozen=True)
class Reading:
    """A text read once by a language model (read-only arrays)."""

    states: np.ndarray  # (1 + tokens, units): the output after [END] and after each token
    hidden: np.ndarray  # (1, units): the final recurrent state
    cell: np.ndarray  # (1, units): the LSTM's final cell state (for other cells, zeros)
    next_probabilities: np.ndarray  # (V,) float32: the softmax after the last token


@dataclass(frozen=True)
class GenerationStep:
    """One generated word: what was drawn, how likely the model found it, and what else could have come."""

    index: int  # the id drawn
    probability: float  # the unmodified model's p(word | text so far)
    chance: float  # its probability in the distribution it was drawn from (temperature, top-k, exclusions)
    alternatives: tuple[tuple[int, float], ...]  # the likeliest draws at this step, (id, chance), likeliest first


def sampling_distribution(
    distribution: np.ndarray, temperature: float = 1.0, top_k: int | None = None, excluded: tuple[int, ...] = ()
) -> np.ndarray:
    """What a word is drawn from: the model's distribution with the `excluded` ids masked (their logit set to
    −∞, as padding's is), scaled by 1/`temperature` in log space, cut to the `top_k` likeliest words that remain,
    and renormalised to sum to 1."""
    with np.errstate(divide="ignore"):
        scores = np.log(np.asarray(distribution, dtype=np.float64)) / temperature  # padding stays −∞
    scores[list(excluded)] = -np.inf
    if top_k is not None and top_k < int(np.isfinite(scores).sum()):
        cut = np.partition(scores, -top_k)[-top_k]
        scores = np.where(scores >= cut, scores, -np.inf)
    weights = np.exp(scores - scores.max())
    return weights / weights.sum()


def _normalised(probabilities: np.ndarray) -> np.ndarray:
    """float64 probabilities that sum to 1 (softmax in float32 is off by ~1e-7)."""
    values = np.asarray(probabilities, dtype=np.float64)
    values[PADDING_INDEX] = 0.0
    return values / values.sum()
