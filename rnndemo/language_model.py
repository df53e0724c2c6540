"""Word-level language models: a SimpleRNN and an LSTM that predict the next word of a review.

They read the same tokens as the classifiers. The LM vocabulary is the first N entries of
the classifier vocabulary (0 = padding, 1 = [UNK], then words by train-split frequency)
plus an end-of-review token "</review>" at index N, so an index means the same word in
both. A review is read as `[END] + ids` and predicts `ids + [END]`; padding (id 0) is never
predicted: its logit is masked inside the model, so its probability is exactly 0.

The output layer is tied to the input embedding (logits = E·Dense(h) + b): one
`TiedEmbedding` layer holds E and is called twice, to embed ids and to score every word.
That keeps each saved file small (a 10,001 × 50 matrix is 2 MB) and, started from GloVe,
learns far faster than a separate softmax. The layers and the builder are in `rnndemo.language_model_layers`
(which imports Keras), training in `rnndemo.language_model_training`. This module holds the vocabulary and the
reading and generation: `LanguageModel` serves a trained model through `tf.function`s with fixed input
signatures and is read-only after construction. Importing it does not import Keras.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnndemo.registry import LANGUAGE_LAYERS
from rnndemo.vocab import END_TOKEN, OOV_INDEX, PADDING_INDEX, Vocabulary

DEFAULT_LM_VOCABULARY_SIZE = 10_000
SCORING_CHUNK = 64  # rows per compiled call when scoring many reviews or windows
SCORING_TOKENS = 16_384  # padded tokens per scoring call: bounds the (rows, time, V) log-probabilities to ~650 MB


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


class LanguageModel:
    """A trained LM with compiled serving functions; read-only after construction, safe to share between threads."""

    def __init__(self, name: str, keras_model: Any, vocabulary: LanguageModelVocabulary | None, warm: bool = True):
        import keras
        import tensorflow as tf

        self.name = name
        self.model = keras_model
        self.vocabulary = vocabulary
        from rnndemo.language_model_layers import model_shape

        shape = model_shape(keras_model)
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
        # The output layer on a few states: called eagerly it was 13 % of the Language model page's CPU (py-spy).
        self._head = tf.function(self._logits, input_signature=[state], autograph=False)
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
            tensorflow_call(self._head, zeros)

    # --- compiled pieces (run on TensorFlow worker threads)

    def _run(self, ids, hidden, cell):
        """States for every step and the final state, starting from (hidden, cell)."""
        embedded = self._embedding(ids)
        initial = [hidden, cell] if LANGUAGE_LAYERS[self.kind] == "LSTM" else [hidden]
        outputs = self._stateful(embedded, initial_state=initial)
        sequence, final = outputs[0], list(outputs[1:])
        return sequence, final[0], (final[1] if LANGUAGE_LAYERS[self.kind] == "LSTM" else cell)

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

    def generate(self, ids: list[int], words: int, **sampling: Any) -> list[tuple[int, float]]:
        """Sample up to `words` ids after [END] + ids; each with the probability the unmodified model gave it.

        `sampling` takes `generate_steps`'s keywords (temperature, top_k, seed, stop_at_end, exclude_unknown), so
        both draw the same words; that method also says what else could have been drawn at each step."""
        return [(step.index, step.probability) for step in self.generate_steps(ids, words, **sampling)]

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
        the states, then one for the output layer on those few rows, so the graph costs one pass, not `last`."""
        from rnndemo.serving import tensorflow_call

        states = self.hidden_states(ids)[-last:].astype(np.float32)  # (last, units)
        logits = tensorflow_call(self._head, states).astype(
            np.float64
        )  # (last, V); padding masked by the model's layer
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
