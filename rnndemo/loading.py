"""What a server loads, once per process, under one lock: TensorFlow, the models, the language models, GloVe.

Importing TensorFlow on two threads at once deadlocks or leaves a half-imported module (every later
import then raises "Registering two gradient ..."). Four sessions opening four pages of a cold server
did exactly that, because each page's loader imported TensorFlow on its own session thread. So every
load here holds one process-wide lock, and the launcher (`scripts/serve.py`) calls `load_everything`
on its main thread before the server listens: a proxy's health check sees no server until it can serve.

A load's result, or the message of its failure, is kept for the life of the process. Nothing a
visitor does replaces it: a replaced model would leak, because `gc.freeze()` (below) moves loaded
objects out of the collector's reach, and a failed load retried on every view cost ~1.2 s of CPU each.
"""

from __future__ import annotations

import gc
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rnndemo.registry import RECURRENT_NAMES

# Reentrant: GloVe's loader asks for the models (their vocabulary ranks close spellings) inside its own load.
_LOCK = threading.RLock()
_LOADED: dict[tuple[str, ...], Any] = {}


def _announce(what: str) -> None:
    # One line per real load: the load tests count these in the server's log.
    print(f"rnndemo: loading {what}", file=sys.stderr, flush=True)


def import_tensorflow() -> None:
    """Import TensorFlow and Keras under the process's load lock (never on two threads at once)."""
    with _LOCK:
        import keras  # noqa: F401
        import tensorflow  # noqa: F401


def _freeze_long_lived_objects() -> None:
    """Move everything allocated so far (TensorFlow, the models, GloVe's lookup) out of the GC's reach.

    These objects live as long as the process; without this every full collection walks them again
    (~175 ms measured here), holding the interpreter lock while sessions wait. Safe only because a
    loaded value is never replaced (see the module docstring).
    """
    gc.collect()
    gc.freeze()


def load_once(key: tuple[str, ...], load: Callable[[], Any]) -> Any:
    """`load()`'s value for `key`, computed once per process under the load lock.

    A failure is kept as its message (a str): the pages show it, and nothing is retried per view.
    """
    if key in _LOADED:  # the common case: no lock once loaded
        return _LOADED[key]
    with _LOCK:
        if key not in _LOADED:
            import_tensorflow()
            try:
                value = load()
            except Exception as error:  # noqa: BLE001 — a damaged folder must not take the server down
                from rnndemo.models import ModelFileError

                if not isinstance(error, ModelFileError):
                    traceback.print_exc(file=sys.stderr)
                value = str(error) if isinstance(error, ModelFileError) else f"{type(error).__name__}: {error}"
            _freeze_long_lived_objects()
            _LOADED[key] = value
    return _LOADED[key]


def is_loaded(key: tuple[str, ...]) -> bool:
    return key in _LOADED


def models(models_dir: str) -> Any:
    """The verified classifier bundle of `models_dir` (rnndemo.serving.Bundle), or the message why not."""

    def load() -> Any:
        from rnndemo.serving import load_bundle

        _announce("models")
        return load_bundle(Path(models_dir))

    return load_once(("models", models_dir), load)


def language_models(models_dir: str) -> Any:
    """The verified language models of `models_dir`, or the message why none could load."""

    def load() -> Any:
        from rnndemo.next_word import load_language_models

        _announce("language models")
        return load_language_models(Path(models_dir))

    return load_once(("language_models", models_dir), load)


def glove(models_dir: str) -> Any:
    """GloVe 6B-50d, close spellings ranked by the reviews' word frequencies when the models loaded."""

    def load() -> Any:
        from rnndemo.embeddings import load_glove

        _announce("GloVe")
        bundle = models(models_dir)
        # Close spellings rank by the reviews' frequencies ("moive": movie before move, unlike in news).
        return load_glove(frequency_words=None if isinstance(bundle, str) else bundle.vocabulary.words)

    return load_once(("glove", models_dir), load)


def inspector(models_dir: str, name: str) -> Any:
    """The compiled inspection functions of one classifier (rnndemo.inspect.Inspector)."""

    def load() -> Any:
        from rnndemo.inspect import Inspector

        return Inspector(models(models_dir).classifiers[name])

    return load_once(("inspector", models_dir, name), load)


def preload_dataset() -> None:
    """The dataset's splits, the label of every known review and the lesson's samples (rnndemo.data).

    Each is computed once per process under its own lock, and the sample pickers of most pages ask for
    them: on a fresh server the first class's reruns all queued behind the one that read the dataset
    (the classroom benchmark's 30-session p95 on a fresh server, docs/PERFORMANCE.md).
    """
    from rnndemo import data

    data.lesson_samples()
    data.true_label("a text that is not the lesson's")  # any other text reads every label once


def load_everything(
    models_dir: str, after_step: Callable[[str], None] | None = None, compile_ahead: bool = True
) -> dict[str, float]:
    """Load TensorFlow, the models, the language models, GloVe and every inspector, and compile the per-review
    functions; seconds per step.

    The launcher calls this before the server listens, so the first visitor waits for nothing.
    `after_step(name)` runs after each step (benchmarks.load_memory reads the memory there).
    `compile_ahead=False` leaves each padded length to be compiled on its first review (about 0.5 s per model and
    length): the test suite's dozen servers each skip 10-17 s of compiling that their few reviews never need.
    """
    seconds = {}
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("tensorflow", import_tensorflow),
        ("models", lambda: models(models_dir)),
        ("language_models", lambda: language_models(models_dir)),
        ("glove", lambda: glove(models_dir)),
        ("dataset", preload_dataset),
    ]
    for name, step in steps:
        started = time.perf_counter()
        step()
        seconds[name] = time.perf_counter() - started
        if after_step is not None:
            after_step(name)
    bundle = models(models_dir)
    if not isinstance(bundle, str):
        started = time.perf_counter()
        for name in bundle.classifiers:
            if name in RECURRENT_NAMES:  # the DFN and the CNN have no states or gates to inspect
                inspector(models_dir, name)
        seconds["inspectors"] = time.perf_counter() - started
        if after_step is not None:
            after_step("inspectors")
        # One review's running prediction runs XLA-compiled (serving.Classifier.run_steps): every padded length now,
        # or the class's first reviews each wait ~0.5 s per model for theirs.
        if compile_ahead:
            started = time.perf_counter()
            bundle.compile_steps()
            seconds["review functions"] = time.perf_counter() - started
            if after_step is not None:
                after_step("review functions")
    return seconds
