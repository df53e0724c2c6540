"""Cached loaders: models, GloVe, language models, inspections and uploads, shared by every visitor.

The loaders call `rnndemo.loading`, which loads TensorFlow and every model once per process under one lock
(the launcher, scripts/serve.py, does it before the server listens); every visitor shares what it loaded, and
nothing mutates it. Per-text results use `st.cache_data`. `compat.guard_server` keeps a visitor from clearing
those caches.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import numpy as np
import streamlit as st

from rnndemo.config import LIMITS, default_models_dir
from rnndemo.shared_cache import OwnedByteCache
from rnndemo.ui import compat


def server_ready() -> None:
    """Guard the server, make sure TensorFlow is imported under the load lock before any page runs, and keep
    Streamlit from clearing Keras after every run (compat.stop_streamlit_clearing_keras).

    Under the launcher the first two are done before the first visitor; under a bare `streamlit run app.py` or
    AppTest the first run does them, and sessions that arrive together wait on one lock. The third was done only by
    the pages that load the classifiers or the language models: a server whose visitors opened the Time series page
    alone paid Keras's clear_session, a full gc.collect(), after each of their reruns (47 % of the script thread's
    samples over 20 step moves, py-spy on the server).
    """
    from rnndemo import loading

    compat.guard_server()
    loading.import_tensorflow()
    compat.stop_streamlit_clearing_keras()


def load_models():
    """The verified models bundle of the configured models folder, or the error message if it cannot load."""
    return _load_models(str(default_models_dir()))


def _loading_spinner(key: tuple[str, ...], message: str):
    """A spinner while `key` loads for the first time in this process (the launcher loads before serving)."""
    from rnndemo import loading

    return nullcontext() if loading.is_loaded(key) else st.spinner(message)


def _load_models(models_dir: str):
    from rnndemo import loading

    with _loading_spinner(("models", models_dir), "Loading the cached models (once per server)…"):
        bundle = loading.models(models_dir)
    compat.stop_streamlit_clearing_keras()
    return bundle


def load_glove():
    from rnndemo import loading

    models_dir = str(default_models_dir())
    with _loading_spinner(("glove", models_dir), "Loading GloVe 6B-50d (400,000 words, once per server)…"):
        return loading.glove(models_dir)


def load_language_models():
    """The verified language models of the configured models folder, or the error message if none can load."""
    return _load_language_models(str(default_models_dir()))


def _load_language_models(models_dir: str):
    from rnndemo import loading

    with _loading_spinner(("language_models", models_dir), "Loading the language models (once per server)…"):
        loaded = loading.language_models(models_dir)
    compat.stop_streamlit_clearing_keras()
    return loaded


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def curated_verdicts(models_dir: str, sentence: str) -> dict:
    """Every model's verdict on one of the app's own sentences (the minimal pairs): the same for every visitor,
    so a class computes it once instead of on each of its reruns (12 model calls per Compare rerun)."""
    return _load_models(models_dir).classify(sentence)


def generated_words(
    models_dir: str,
    name: str,
    ids: tuple[int, ...],
    count: int,
    temperature: float,
    top_k: int | None,
    seed: int,
    exclude_unknown: bool = True,
) -> list:
    """A model's sampled continuation, next_word.GeneratedWord each (pure for given settings, so reruns and
    "next step" reuse it)."""
    # The ids as one bytes value: Streamlit's cache hashes a tuple element by element, 4 % of the page's CPU.
    packed = np.asarray(ids, dtype=np.int64).tobytes()
    return _generated_words(models_dir, name, packed, count, temperature, top_k, seed, exclude_unknown)


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def _generated_words(
    models_dir: str,
    name: str,
    packed_ids: bytes,
    count: int,
    temperature: float,
    top_k: int | None,
    seed: int,
    exclude_unknown: bool,
) -> list:
    from rnndemo.next_word import continuation

    loaded = _load_language_models(models_dir)
    ids = np.frombuffer(packed_ids, dtype=np.int64).tolist()
    return continuation(
        loaded.models[name], ids, loaded.vocabulary.words, count, temperature, top_k, seed, exclude_unknown
    )


def _load_inspector(models_dir: str, name: str):
    from rnndemo import loading

    with _loading_spinner(("inspector", models_dir, name), "Preparing the inspection functions…"):
        return loading.inspector(models_dir, name)


@st.cache_data(max_entries=24, ttl=3600, show_spinner=False)
def inspect_text(models_dir: str, name: str, text: str):
    """States, gates and trajectory of one text (pure: cached per text for every visitor,
    so a class opening the same shared link computes it once)."""
    return _load_inspector(models_dir, name).inspect(text)


@st.cache_data(max_entries=24, ttl=3600, show_spinner=False)
def occlusion_importance(models_dir: str, name: str, text: str):
    """p(text) − p(text without token t) for every token (cached like inspect_text). The slowest part
    of the Inside page, so the page draws the sections before it first."""
    inspector = _load_inspector(models_dir, name)
    # The ids from the classifier itself: inspect_text's cached value is a copy of every state and gate.
    return inspector.importance(inspector.classifier.encode(text)[1])[1]


@st.cache_resource(show_spinner=False)
def forecast_page_data(series: str, models_dir: str | None = None):
    """The Time series page's data of one series (forecast_serving.PageData: the series, its metrics and the
    precomputed test-period forecasts, verified; no TensorFlow), or the reason it cannot load, as text.
    Read-only and shared by every visitor."""
    from rnndemo import forecast_serving, models

    try:
        return forecast_serving.load_page_data(Path(models_dir or default_models_dir()), series)
    except models.ModelFileError as error:
        return str(error)


@st.cache_resource(show_spinner=False)
def cached_word_statistics(models_dir: str):
    """The train split's word counts of a models folder, verified (rnndemo.word_statistics); None when the folder
    has none; the reason as text when they cannot be used. Read-only and shared, like the models."""
    from rnndemo import models, word_statistics

    bundle = _load_models(models_dir)
    try:
        return word_statistics.load(Path(models_dir), bundle.manifest, bundle.vocabulary)
    except models.ModelFileError as error:
        return str(error)


# One uploaded file is parsed and scored once: the page reruns on every widget change, and the largest
# allowed file costs ~23 s of CPU per scoring. Keyed by the file's sha256 (the bytes themselves are not
# hashed again); bounded by bytes, with a share per visitor, so no visitor's uploads push out another's
# (rnndemo/shared_cache.py). Shared by every session: a class uploading one file scores it once.
_UPLOADS = OwnedByteCache(
    max_bytes=LIMITS.batch_cache_megabytes * 1024 * 1024,
    max_bytes_per_owner=LIMITS.batch_cache_megabytes_per_visitor * 1024 * 1024,
    ttl_seconds=LIMITS.batch_cache_minutes * 60,
)


def parsed_upload(raw: bytes, digest: str, file_name: str):
    """The uploaded file as a table (rnndemo.batch.ParsedUpload); raises UploadError for a bad file."""
    from rnndemo.batch import parse_upload

    key = ("parsed", digest, file_name)
    with nullcontext() if _UPLOADS.contains(key) else st.spinner("Reading the file…"):
        return _UPLOADS.get_or_compute(key, compat.session_id(), lambda: parse_upload(raw, file_name))


def upload_probabilities(raw: bytes, digest: str, file_name: str, text_column: str, models_dir: str) -> dict:
    """Every model's probabilities for one column of the uploaded file, computed once per file and column."""
    from rnndemo.evaluation import bundle_probabilities

    def score() -> dict:
        texts = parsed_upload(raw, digest, file_name).frame[text_column].astype(str).tolist()
        return bundle_probabilities(_load_models(models_dir), texts)

    key = ("probabilities", digest, file_name, text_column, models_dir)
    spinner = "Every model is reading the reviews (once per file and column)…"
    with nullcontext() if _UPLOADS.contains(key) else st.spinner(spinner):
        return _UPLOADS.get_or_compute(key, compat.session_id(), score)


def race_jobs():
    """The race queue of this server process, shared by every session (rnndemo.race_jobs; created once)."""
    from rnndemo.race_jobs import shared_jobs

    return shared_jobs()
