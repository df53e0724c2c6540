"""Inside the RNN: hidden states, LSTM and GRU gates, LSTM cell states, and word importance.

Hidden states come from the model itself (a weight-sharing copy of its recurrent
layer with `return_sequences=True`). The LSTM's cell states come from stepping
the layer's own cell; the LSTM's and GRU's gates are computed from that cell's
weights, and the tests recompute every value in numpy from the layer weights.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from rnndemo.models import readout_of
from rnndemo.serving import tensorflow_call
from rnndemo.text import CleaningOptions
from rnndemo.vocab import PADDING_INDEX

GATE_NAMES = ("input", "forget", "cell_candidate", "output")  # Keras LSTM kernel order: i, f, c, o
GRU_GATE_NAMES = ("update", "reset", "candidate")  # Keras GRU kernel order: z, r, h
GATES_BY_LAYER = {"LSTM": GATE_NAMES, "GRU": GRU_GATE_NAMES}
# Probabilities are clipped to [ε, 1 − ε] before the logit. A float32 sigmoid rounds to exactly 1.0 for
# logits above about 17 (its spacing just below 1 is 6e-8), where the logit would be infinite; within 1e-6
# of 0 or 1 only a handful of float32 values remain, so differences there are rounding, not the model.
# Both ends saturate alike at ±13.8 log-odds.
PROBABILITY_CLIP = 1e-6
# The gate splits (`tf.split(..., axis=-1)`) carry `# pragma: no mutate`, each on a line of its own with nothing else
# to mutate: the split tensors are 2-D, so axis -1 and the mutant's +1 are one axis (the pragma also spares the split
# count, whose change would fail every inspection test at once).
OCCLUSION_ROW_BUCKET = 16  # occlusion's growing rows are computed in multiples of this (see _occlusion_runner)
# The slow occlusion reference runs its copies in blocks holding at most this many gate values at once
# (401 copies × 400 steps × 4·256 gate values would be 650 MB for the LSTM(256)).
OCCLUSION_BLOCK_VALUES = 16_000_000
# The layers of the classifiers training.py builds; a model with others is occluded by the reference path.
KNOWN_LAYERS = {"token_ids", "embedding", "spatial_dropout", "recurrent", "readout", "output_dropout", "classifier"}


@dataclass(frozen=True)
class Inspection:
    """What one model computed at every token it read."""

    model: str
    tokens: list[str]  # tokens seen, in order
    ids: list[int]
    hidden: np.ndarray  # (time, units): h_t
    trajectory: np.ndarray  # (time,): probability after each token
    cell: np.ndarray | None  # (time, units): c_t, LSTM only
    gates: dict[str, np.ndarray] | None  # each (time, units): the LSTM's i, f, g, o or the GRU's z, r, h̃
    cut_tokens: int
    seconds: float
    readout: str = "last"  # what the classifier reads: the last state, or the mean of the states

    def to_json(self) -> dict:
        payload = {
            "model": self.model,
            "tokens": self.tokens,
            "ids": self.ids,
            "cut_tokens": self.cut_tokens,
            "readout": self.readout,
            "hidden": _six_decimals(self.hidden),
            "trajectory": _six_decimals(self.trajectory),
        }
        if self.cell is not None:
            payload["cell"] = _six_decimals(self.cell)
        if self.gates is not None:
            payload["gates"] = {name: _six_decimals(values) for name, values in self.gates.items()}
        return payload


def _six_decimals(values: np.ndarray) -> list:
    # Rounded in float64: a float32 rounded to 6 decimals is still the nearest float32, which JSON then prints
    # in 17 digits (0.123457 became 0.12345699965953827).
    return np.round(np.asarray(values, dtype=np.float64), 6).tolist()


def _lstm_tracer(classifier):
    """A compiled function: ids (time,) -> (h, c, gates) per step, stepping the LSTM's own cell."""
    import tensorflow as tf

    embedding = classifier.model.get_layer("embedding")
    cell = classifier.sequence_model.get_layer("recurrent_sequence").cell
    units = cell.units

    @tf.function(input_signature=[tf.TensorSpec(shape=(None,), dtype=tf.int32)])
    def trace(ids):
        inputs = embedding(ids[None, :])[0][:, None, :]  # (time, 1, embedding_dim)

        def step(carry, x_t):
            h, c = carry[0], carry[1]
            z = tf.matmul(x_t, cell.kernel) + tf.matmul(h, cell.recurrent_kernel) + cell.bias  # (1, 4 * units)
            z_i, z_f, z_c, z_o = tf.split(z, 4, axis=-1)  # pragma: no mutate
            gates = tf.stack([tf.sigmoid(z_i), tf.sigmoid(z_f), tf.tanh(z_c), tf.sigmoid(z_o)])  # (4, 1, units)
            h_new, (_, c_new) = cell(x_t, [h, c], training=False)
            return h_new, c_new, gates

        initial = (tf.zeros((1, units)), tf.zeros((1, units)), tf.zeros((4, 1, units)))
        h, c, gates = tf.scan(step, inputs, initializer=initial)
        return h[:, 0, :], c[:, 0, :], gates[:, :, 0, :]  # (time, units), (time, units), (time, 4, units)

    return trace


def _gru_tracer(classifier):
    """A compiled function: ids (time,) -> (h, gates) per step, stepping the GRU's own cell.

    Keras's default GRU (reset_after=True): z = σ(x W_z + b_z + h U_z + b'_z), r likewise,
    h̃ = tanh(x W_h + b_h + r ⊙ (h U_h + b'_h)), and h_t = z ⊙ h_{t−1} + (1 − z) ⊙ h̃.
    """
    import tensorflow as tf

    embedding = classifier.model.get_layer("embedding")
    cell = classifier.sequence_model.get_layer("recurrent_sequence").cell
    units = cell.units
    if not cell.reset_after:
        raise ValueError("only the default GRU (reset_after=True) is inspected")

    @tf.function(input_signature=[tf.TensorSpec(shape=(None,), dtype=tf.int32)])
    def trace(ids):
        inputs = embedding(ids[None, :])[0][:, None, :]  # (time, 1, embedding_dim)

        def step(carry, x_t):
            h = carry[0]
            projected = tf.matmul(x_t, cell.kernel) + cell.bias[0]
            x_z, x_r, x_h = tf.split(projected, 3, axis=-1)  # pragma: no mutate
            recurrent = tf.matmul(h, cell.recurrent_kernel) + cell.bias[1]
            h_z, h_r, h_h = tf.split(recurrent, 3, axis=-1)  # pragma: no mutate
            update, reset = tf.sigmoid(x_z + h_z), tf.sigmoid(x_r + h_r)
            gates = tf.stack([update, reset, tf.tanh(x_h + reset * h_h)])  # (3, 1, units)
            h_new, _ = cell(x_t, [h], training=False)
            return h_new, gates

        h, gates = tf.scan(step, inputs, initializer=(tf.zeros((1, units)), tf.zeros((3, 1, units))))
        return h[:, 0, :], gates[:, :, 0, :]  # (time, units), (time, 3, units)

    return trace


def _occlusion_runner(classifier):
    """A compiled function: ids (time,) -> (time + 1,) probabilities: row 0 the text's, row t + 1 the text's
    without token t. Every removal shares the text's prefix, which is read once.

    The text without token t has the text's own state before step t; from there it reads the rest.
    So one loop over the text keeps a growing matrix of states: at step t every row started so far
    reads token t (one matmul for all of them, with the token's input projection computed once), and
    the row for "without token t" joins with the text's state from before the step. That is n²/2
    recurrent steps instead of the n² of running every occluded copy from the start, and no input
    matmul per row. The cell equations are Keras's own (checked against the model's outputs in the tests).
    Returns None for a cell whose activations are not the defaults these equations assume.
    """
    import keras
    import tensorflow as tf

    model = classifier.model
    layer = model.get_layer("recurrent")
    cell, kind = layer.cell, type(layer).__name__
    activations = [keras.activations.serialize(cell.activation)]
    if kind in ("LSTM", "GRU"):
        activations.append(keras.activations.serialize(cell.recurrent_activation))
    if activations != ["tanh", "sigmoid"][: len(activations)] or not cell.use_bias:
        return None
    if kind == "GRU" and not cell.reset_after:
        return None
    # The loop reads tokens forwards, from a zero state, with nothing between the recurrent layer (and its
    # readout) and the classifier but dropout: anything else takes the reference path instead.
    if layer.go_backwards or layer.stateful or {each.name for each in model.layers} - KNOWN_LAYERS:
        return None
    embedding, classifier_layer, units = model.get_layer("embedding"), model.get_layer("classifier"), cell.units
    mean = readout_of(model) == "mean"

    def simple_step(projected, h, c):
        return tf.tanh(projected + tf.matmul(h, cell.recurrent_kernel)), c

    def lstm_step(projected, h, c):
        z = projected + tf.matmul(h, cell.recurrent_kernel)
        z_i, z_f, z_c, z_o = tf.split(z, 4, axis=-1)  # pragma: no mutate
        c = tf.sigmoid(z_f) * c + tf.sigmoid(z_i) * tf.tanh(z_c)
        return tf.sigmoid(z_o) * tf.tanh(c), c

    def gru_step(projected, h, c):
        x_z, x_r, x_h = tf.split(projected, 3, axis=-1)  # pragma: no mutate
        recurrent = tf.matmul(h, cell.recurrent_kernel) + cell.bias[1]
        h_z, h_r, h_h = tf.split(recurrent, 3, axis=-1)  # pragma: no mutate
        update, reset = tf.sigmoid(x_z + h_z), tf.sigmoid(x_r + h_r)
        return update * h + (1.0 - update) * tf.tanh(x_h + reset * h_h), c

    step_of = {"SimpleRNN": simple_step, "LSTM": lstm_step, "GRU": gru_step}.get(kind)
    if step_of is None:
        return None
    input_bias = cell.bias[0] if kind == "GRU" else cell.bias

    @tf.function(input_signature=[tf.TensorSpec(shape=(None,), dtype=tf.int32)], autograph=False)
    def run(ids):
        real = tf.not_equal(ids, PADDING_INDEX)  # padding is skipped, as the embedding's mask makes the model skip it
        projected = tf.matmul(embedding(ids[None, :])[0], cell.kernel) + input_bias  # (time, gates · units)
        length = tf.shape(ids)[0]
        rows = (length + OCCLUSION_ROW_BUCKET) // OCCLUSION_ROW_BUCKET * OCCLUSION_ROW_BUCKET  # ≥ length + 1 rows
        start = tf.zeros((rows, units))

        def step(t, h, c, total):
            # Rows 0..t have started. Only they read token t, rounded up to whole buckets of rows: the
            # recurrent matmul then takes a few shapes, not a new one each step (oneDNN keeps a kernel per
            # shape, and 400 new shapes per model evicted the other models' kernels: 400-token occlusion
            # measured 116 ms instead of 30 ms for the SimpleRNN when the models took turns).
            active = tf.minimum(rows, (t + OCCLUSION_ROW_BUCKET) // OCCLUSION_ROW_BUCKET * OCCLUSION_ROW_BUCKET)

            def read():
                new_h, new_c = step_of(projected[t][None, :], h[:active], c[:active])
                return (
                    tf.concat([new_h, h[active:]], 0),
                    tf.concat([new_c, c[active:]], 0),
                    tf.concat([total[:active] + new_h, total[active:]], 0),
                )

            new_h, new_c, new_total = tf.cond(real[t], read, lambda: (h, c, total))
            # Row t + 1, "without token t", starts now from the text's own values before step t (row 0).
            joining = tf.reshape(t + 1, (1, 1))
            return (
                t + 1,
                tf.tensor_scatter_nd_update(new_h, joining, h[:1]),
                tf.tensor_scatter_nd_update(new_c, joining, c[:1]),
                tf.tensor_scatter_nd_update(new_total, joining, total[:1]),
            )

        states = tf.TensorShape([None, units])
        _, h, _, total = tf.while_loop(
            lambda t, *_: t < length,
            step,
            (tf.constant(0), start, start, start),
            shape_invariants=(tf.TensorShape([]), states, states, states),
        )
        h, total = h[: length + 1], total[: length + 1]
        readout = h
        if mean:  # the mean of the real tokens' states; a row with none left reads the zero vector, as the model does
            count = tf.reduce_sum(tf.cast(real, tf.float32))
            counts = tf.concat([[count], count - tf.cast(real, tf.float32)], 0)[:, None]
            readout = total / tf.maximum(counts, 1.0)
        return classifier_layer(readout)[:, 0]

    return run


def occlusion_block_rows(length: int, units: int) -> int:
    """Rows of occluded copies per block of the slow reference: as many as keep the gate values of a block (rows ×
    `length` steps × 4·`units`) within OCCLUSION_BLOCK_VALUES, and at least one."""
    return max(1, OCCLUSION_BLOCK_VALUES // (length * 4 * units))


def log_odds(probabilities) -> np.ndarray:
    """logit(p) = ln(p / (1 − p)), with p clipped to [PROBABILITY_CLIP, 1 − PROBABILITY_CLIP]."""
    clipped = np.clip(np.asarray(probabilities, dtype=np.float64), PROBABILITY_CLIP, 1 - PROBABILITY_CLIP)
    return np.log(clipped) - np.log1p(-clipped)


def log_odds_importance(probability: float, importance: np.ndarray) -> np.ndarray:
    """Occlusion in log-odds, logit(p(text)) − logit(p(text without token t)), from `Inspector.importance`'s
    p(text) and p(text) − p(without t). One unit for every model: a change of +1 multiplies the odds of
    "positive" by e, whatever the model's confidence, where the same Δp means more near 0.5 than near 0 or 1."""
    without = float(probability) - np.asarray(importance, dtype=np.float64)
    return log_odds(probability) - log_odds(without)


class Inspector:
    """Compiled inspection functions for one classifier; build once, share freely."""

    def __init__(self, classifier):
        import tensorflow as tf

        self.classifier = classifier
        self.layer = type(classifier.model.get_layer("recurrent")).__name__  # from the loaded model itself
        self._trace = {"LSTM": _lstm_tracer, "GRU": _gru_tracer}.get(self.layer, lambda _: None)(classifier)
        self._occlusion = _occlusion_runner(classifier)
        # Traced and run once now, under one thread, so concurrent first requests never race a trace. Any ids and
        # dtype warm the same trace (the input signature converts them): those mutants are the same program.
        for compiled in (self._trace, self._occlusion):
            if compiled is not None:
                tensorflow_call(compiled, tf.constant([2, 3], dtype=tf.int32))  # pragma: no mutate

    def inspect(self, text: str, options: CleaningOptions = CleaningOptions()) -> Inspection:
        started = time.perf_counter()
        tokens, ids, cut = self.classifier.encode(text, options)
        # No dtype here: run_steps and the traces' input signatures convert the ids to int32 themselves.
        probabilities, states = self.classifier.run_steps(np.asarray([ids]))
        cell = gates = None
        if self.layer == "LSTM":
            _, cell, gate_values = tensorflow_call(self._trace, ids)
        elif self.layer == "GRU":
            _, gate_values = tensorflow_call(self._trace, ids)
        if self._trace is not None:
            names = GATES_BY_LAYER[self.layer]
            gates = {name: gate_values[:, position, :] for position, name in enumerate(names)}
        return Inspection(
            self.classifier.name,
            tokens,
            ids,
            states[0],
            probabilities[0],
            cell,
            gates,
            cut,
            time.perf_counter() - started,
            readout_of(self.classifier.model),
        )

    def importance(self, ids: list[int]) -> tuple[float, np.ndarray]:
        """Occlusion: p(text) − p(text without token t), for every t, in one compiled call.

        Removing a token means the model never reads it, exactly as if the word were absent
        (the same as setting its id to 0, which the embedding masks; the tests compare the two).
        Padding (id 0) is already skipped and so always gets exactly 0.
        """
        ids = np.asarray(ids)  # the runner's input signature and the reference's model convert it to int32
        if self._occlusion is None:
            probabilities = self._occlusion_by_rows(ids)
        else:
            probabilities = tensorflow_call(self._occlusion, ids)
        probabilities = probabilities.astype(np.float64)  # pragma: no mutate (astype(None) is float64 too)
        importance = probabilities[0] - probabilities[1:]
        importance[ids == PADDING_INDEX] = 0.0
        return float(probabilities[0]), importance

    def _occlusion_by_rows(self, ids: np.ndarray) -> np.ndarray:
        """The slow reference: every occluded copy run from the start (rows of ids with one set to 0), in blocks
        of `occlusion_block_rows` rows."""
        length = len(ids)
        batch = np.tile(ids, (length + 1, 1))  # row 0 is the text itself
        batch[np.arange(1, length + 1), np.arange(length)] = 0
        rows = occlusion_block_rows(length, int(self.classifier.model.get_layer("recurrent").units))
        return np.concatenate(
            [self.classifier.predict_ids_exact(batch[start : start + rows]) for start in range(0, length + 1, rows)]
        )

    def log_odds_importance(self, ids: list[int]) -> tuple[float, np.ndarray]:
        """Occlusion in log-odds: logit(p(text)) and logit(p(text)) − logit(p(text without token t)) for every t."""
        probability, importance = self.importance(ids)
        return float(log_odds(probability)), log_odds_importance(probability, importance)
