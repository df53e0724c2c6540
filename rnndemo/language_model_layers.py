"""The language models' Keras layers and builder, defined at module level: importing this module imports Keras.

`TiedEmbedding` holds one matrix E (V × d) used twice, to embed ids and to score every word
(logits = E·Dense(h) + b); `MaskPadding` masks the padding logit of an untied output layer. Both are registered
with Keras (package "rnndemo") when this module is imported, once per process, so a saved language model loads
with `keras.saving.load_model(..., custom_objects=custom_layers())`. `rnndemo.language_model` serves a trained
model and does not import Keras until it is used.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import layers, ops

from rnndemo.registry import LANGUAGE_LAYERS
from rnndemo.vocab import PADDING_INDEX

KINDS = LANGUAGE_LAYERS  # name -> the Keras class of its recurrent layer, from the registry
MASKED_LOGIT = -1e9  # exp(-1e9 - max) underflows to exactly 0 in float32


def mask_padding(logits):
    # Adds MASKED_LOGIT at index 0 only; the other logits are untouched.
    vocabulary_size = ops.shape(logits)[-1]
    padding = ops.cast(ops.equal(ops.arange(vocabulary_size), PADDING_INDEX), logits.dtype)
    return logits + padding * MASKED_LOGIT


@keras.saving.register_keras_serializable(package="rnndemo")
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


@keras.saving.register_keras_serializable(package="rnndemo")
class MaskPadding(keras.layers.Layer):
    """Masks the padding logit of an untied output layer."""

    def call(self, logits):
        return mask_padding(logits)


def custom_layers() -> dict[str, Any]:
    """The custom layers by name (registered with Keras when this module was imported). Pass them to
    `keras.saving.load_model` of a language model file."""
    return {"TiedEmbedding": TiedEmbedding, "MaskPadding": MaskPadding}


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


def model_shape(model: Any) -> dict:
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
