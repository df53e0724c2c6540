"""Why did `fit` take ~47 s per LSTM epoch when a `train_on_batch` loop took 12-21 s? (issue 13)

    python -m benchmarks.training_loop [--reviews 4000] [--kind lstm] [--json]

One process, the same model shape, the same length-bucketed batches, one epoch each, side by side:

- `fit`: `model.fit` over the old `keras.utils.PyDataset` of batches, with the progress callback;
- `fit, no callback`: the same without the per-batch callback;
- `fit, fixed width`: the same batches, every one padded to the full 400 steps (what bucketing avoids);
- `fit + validation`: `fit` with the 2,500 validation reviews scored after the epoch (as training did);
- `train_on_batch`: a plain loop over the same batches (what `rnndemo.training` does now);
- `--threads 1` repeats the run with TensorFlow limited to one thread (the app's serving setting).

Each variant starts from freshly built weights; the first epoch includes tracing, so a second epoch
is timed too.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from rnndemo import models
from rnndemo.config import TRAINING
from rnndemo.progress import TrainingEvent
from rnndemo.training import prepare_data
from rnndemo.training_loop import length_batches


def _sequence(batches):
    import keras

    class Sequence(keras.utils.PyDataset):
        def __len__(self):
            return len(batches)

        def __getitem__(self, index):
            return batches[index]

    return Sequence()


def _progress():
    import keras

    class Progress(keras.callbacks.Callback):  # what the old training reported: logs every 50 batches
        def on_train_batch_end(self, batch, logs=None):
            if batch % 50 == 0:
                TrainingEvent("batch", "x", "", metrics={key: float(value) for key, value in (logs or {}).items()})

    return Progress()


def _model(kind: str, vocabulary_size: int):
    import keras

    keras.utils.set_random_seed(TRAINING.seed)
    architecture = models.ModelArchitecture(kind, vocabulary_size, TRAINING.embedding_dim, 64, dropout=0.2)
    model = models.build_model(architecture)
    model.compile(optimizer=keras.optimizers.Adam(1e-3, clipnorm=1.0), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def measure(reviews: int, kind: str) -> list[dict]:
    prepared = prepare_data(TRAINING.__class__(train_limit=reviews), lambda event: None)
    ids, labels = prepared.ids["train"], prepared.labels["train"]
    bucketed = length_batches(ids, labels, 64, 400, np.random.default_rng(0))
    fixed = length_batches(ids, labels, 64, 400, np.random.default_rng(0))
    fixed = [(np.pad(x, ((0, 0), (400 - x.shape[1], 0))), y) for x, y in fixed]
    tokens = sum(min(len(row), 400) for row in ids)
    rows = []

    def run(name, epoch):
        model = _model(kind, len(prepared.vocabulary))
        seconds = []
        for _ in range(2):
            started = time.perf_counter()
            epoch(model)
            seconds.append(time.perf_counter() - started)
        rows.append({"variant": name, "first_epoch_s": round(seconds[0], 1), "second_epoch_s": round(seconds[1], 1)})
        print(f"{name:<22} first epoch {seconds[0]:6.1f} s   second {seconds[1]:6.1f} s", flush=True)

    def train_on_batch(model):
        for x, y in bucketed:
            model.train_on_batch(x, y)

    print(f"{kind}, {reviews} reviews, {len(bucketed)} batches, {tokens:,} tokens", flush=True)
    run("train_on_batch", train_on_batch)
    run("fit", lambda model: model.fit(_sequence(bucketed), epochs=1, verbose=0, callbacks=[_progress()]))
    run("fit, no callback", lambda model: model.fit(_sequence(bucketed), epochs=1, verbose=0))
    run("fit, fixed width", lambda model: model.fit(_sequence(fixed), epochs=1, verbose=0))
    validation = length_batches(prepared.ids["validation"], prepared.labels["validation"], 64, 400, None)
    run(
        "fit + validation",
        lambda model: model.fit(
            _sequence(bucketed), validation_data=_sequence(validation), epochs=1, verbose=0, callbacks=[_progress()]
        ),
    )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.training_loop", description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=4000)
    parser.add_argument("--kind", default="lstm")
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow threads (0: its default, all cores)")
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args(argv)
    if arguments.threads:
        from rnndemo.serving import configure_tensorflow_for_serving

        configure_tensorflow_for_serving(arguments.threads)
    rows = measure(arguments.reviews, arguments.kind)
    if arguments.json:
        print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
