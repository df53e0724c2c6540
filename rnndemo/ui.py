"""The thin Streamlit layer: cached loaders and widgets shared by every page.

This is the only module of the library that imports streamlit. Loaders use
`st.cache_resource`, whose values every visitor shares: they are built once
(Streamlit holds a lock per cached function, so a cold-start stampede loads once)
and never mutated afterwards. Per-text results use `st.cache_data`.
"""

from __future__ import annotations

import html
import io
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from rnndemo.config import LIMITS, default_models_dir
from rnndemo.text import DEFAULT_TEXT

TEXT_KEY = "review_text"  # the one text that follows the visitor across pages
OPTIONS_KEY = "cleaning_options"


def init_session() -> None:
    """Shared session defaults; the ?text= link pre-fills the text once per session."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        # A `pages/` folder puts Streamlit in its legacy multipage mode until app.py's
        # st.navigation runs; a first visit straight to /inside would skip app.py (no wide
        # layout, file-name navigation). Leave that mode once per process and rerun through app.py.
        PagesManager.uses_pages_directory = False
        st.rerun()
    if TEXT_KEY not in st.session_state:
        st.session_state[TEXT_KEY] = DEFAULT_TEXT
    keep_page_options()
    if not st.session_state.get("query_text_applied", False):
        st.session_state["query_text_applied"] = True
        shared = st.query_params.get("text")
        if shared:
            st.session_state[TEXT_KEY] = shared[: LIMITS.max_url_text_characters]
            if len(shared) > LIMITS.max_url_text_characters:
                st.session_state["query_text_notice"] = f"The shared link's text was cut to {LIMITS.max_url_text_characters:,} characters."


def load_models():
    """The verified models bundle of the configured models folder, or the error message if it cannot load."""
    return _load_models(str(default_models_dir()))


@st.cache_resource(show_spinner="Loading the cached models (once per server)…")
def _load_models(models_dir: str):
    from rnndemo.models import ModelFileError
    from rnndemo.serving import load_bundle

    # One line per real load: the stampede test counts these in the server's log.
    print("rnndemo: loading models", file=sys.stderr, flush=True)
    try:
        bundle = load_bundle(Path(models_dir))
    except ModelFileError as error:
        return str(error)
    _freeze_long_lived_objects()
    _stop_streamlit_clearing_keras()
    return bundle


def _ignore_clear_session(*arguments, **keywords) -> None:
    """Stands in for keras.backend.clear_session inside the app server (see below)."""


def _stop_streamlit_clearing_keras() -> None:
    """Keep TensorFlow's kernel cache across reruns.

    After every script run Streamlit calls `keras.backend.clear_session()`
    (ScriptRunner._clean_problem_modules). That empties TensorFlow's kernel cache, so the
    first call of each model in the next rerun re-instantiates and re-optimises its graph:
    60–90 ms instead of 1–10 ms, measured in the served app with py-spy. It also resets
    Keras global state while other sessions' threads may be using the shared models.
    The served models never need it, so in the app process it becomes a no-op.
    """
    import keras

    keras.backend.clear_session = _ignore_clear_session


_OPTION_PREFIXES = ("tokens_", "embeddings_", "cards_", "inside_", "compare_", "home_", "batch_")
_NOT_SETTABLE = ("button", "upload", "download", "text_area", "_table", "_errors", "_results", "_summary")


def keep_page_options() -> None:
    """Keep every page's options (checkboxes, radios, sliders, inputs) across page switches.

    Streamlit drops a widget's state on runs where the widget is not drawn; assigning a
    key to itself marks it as the visitor's state, so it survives the visit to another page.
    """
    for key in list(st.session_state.keys()):
        if key.startswith(_OPTION_PREFIXES) and not any(part in key for part in _NOT_SETTABLE):
            st.session_state[key] = st.session_state[key]


def _freeze_long_lived_objects() -> None:
    """Move everything allocated so far (TensorFlow, the models, GloVe's lookup) out of the GC's reach.

    These objects live as long as the process; without this every full collection walks
    them again (~175 ms measured here), holding the GIL while sessions wait.
    """
    import gc

    gc.collect()
    gc.freeze()


@st.cache_resource(show_spinner="Loading GloVe 6B-50d (400,000 words, once per server)…")
def load_glove():
    from rnndemo.embeddings import load_glove as load

    print("rnndemo: loading GloVe", file=sys.stderr, flush=True)
    glove = load()
    _freeze_long_lived_objects()
    return glove


@st.cache_resource(show_spinner="Preparing the inspection functions…")
def _load_inspector(models_dir: str, name: str):
    from rnndemo.inspect import Inspector

    return Inspector(_load_models(models_dir).classifiers[name])


@st.cache_data(max_entries=500, show_spinner=False)
def inspect_text(models_dir: str, name: str, text: str):
    """States, gates and occlusion importance of one text (pure: cached per text for every visitor,
    so a class opening the same shared link computes it once)."""
    inspector = _load_inspector(models_dir, name)
    inspection = inspector.inspect(text)
    return inspection, inspector.importance(inspection.ids)[1]


def bundle_or_stop():
    """The bundle; if none could be loaded, a clear first-run message and the page stops."""
    bundle = load_models()
    if isinstance(bundle, str):
        st.error(f"The cached models could not be loaded. {bundle}")
        st.stop()
    for name, message in bundle.errors.items():
        st.warning(f"Model '{name}' is unavailable: {message}. The other models keep working.")
    return bundle


SAMPLE_KINDS = {"positive IMDB review": "positive", "negative IMDB review": "negative", "random IMDB review": "random",
                "Rotten Tomatoes sentence": "rotten_tomatoes", "the Bait review (lesson default)": None}


def _load_sample(key_prefix: str) -> None:
    """Button callback (runs before the rerun): put a held-out sample into the shared text."""
    from rnndemo.data import sample_reviews

    source = SAMPLE_KINDS[st.session_state[f"{key_prefix}_sample_kind"]]
    st.session_state["sample_counter"] = st.session_state.get("sample_counter", 0) + 1
    text = DEFAULT_TEXT if source is None else sample_reviews(source, 1, seed=st.session_state["sample_counter"])[0]
    st.session_state[TEXT_KEY] = text
    st.session_state[f"{key_prefix}_text_area"] = text


def text_input(key_prefix: str, label: str = "Your movie review", height: int = 160) -> str:
    """A text area bound to the shared session text, with a sample picker; returns the bounded text."""
    from rnndemo.serving import prepare_text

    widget_key = f"{key_prefix}_text_area"
    # Streamlit forgets a widget's state on pages where it is not drawn, so the shared text is copied back in.
    if st.session_state.get(widget_key) != st.session_state[TEXT_KEY]:
        st.session_state[widget_key] = st.session_state[TEXT_KEY]

    def on_change() -> None:
        st.session_state[TEXT_KEY] = st.session_state[widget_key]

    picker, button = st.columns([3, 1])
    picker.selectbox("Or pick a real held-out review", list(SAMPLE_KINDS), key=f"{key_prefix}_sample_kind")
    button.button("Load sample", key=f"{key_prefix}_sample_button", width="stretch", on_click=_load_sample, args=(key_prefix,))
    st.text_area(label, key=widget_key, height=height, on_change=on_change, max_chars=LIMITS.max_text_characters)
    if st.session_state.get("query_text_notice"):
        st.info(st.session_state["query_text_notice"])
    text, notice = prepare_text(st.session_state[TEXT_KEY])
    if notice:
        st.info(notice.capitalize() + ".")
    return text


def highlighted_tokens(tokens: list[str], scores: np.ndarray | None = None, scale: float | None = None) -> str:
    """Tokens as escaped HTML spans, green for positive scores and red for negative."""
    scale = scale or (float(np.max(np.abs(scores))) if scores is not None and len(scores) and np.max(np.abs(scores)) > 0 else 1.0)
    spans = []
    for position, token in enumerate(tokens):
        score = 0.0 if scores is None else float(scores[position])
        alpha = min(1.0, abs(score) / scale) * 0.75
        color = f"rgba(44,160,44,{alpha:.2f})" if score > 0 else f"rgba(214,39,40,{alpha:.2f})"
        title = html.escape(f"{token}: {score:+.4f}", quote=True)
        spans.append(f'<span title="{title}" style="background:{color};padding:1px 3px;margin:1px;border-radius:3px;'
                     f'display:inline-block">{html.escape(token)}</span>')
    return '<div style="line-height:1.9">' + "".join(spans) + "</div>"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>$~&=:\"'^])")


def md_escape(text: str, limit: int = 300) -> str:
    """A visitor's string made inert for Streamlit Markdown: no emphasis, links, HTML or LaTeX."""
    text = str(text)
    text = text if len(text) <= limit else text[:limit] + "…"
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def show_html(markup: str) -> None:
    """Render markup that this app built (every visitor string in it is escaped)."""
    st.html(markup)


def csv_download(frame: pd.DataFrame, file_name: str, key: str, label: str = "Download CSV") -> None:
    """A download button for a table; cells that a spreadsheet would run as formulas are neutralised."""
    from rnndemo.batch import csv_safe

    buffer = io.StringIO()
    csv_safe(frame).to_csv(buffer, index=False)
    st.download_button(label, buffer.getvalue().encode("utf-8"), file_name=file_name, mime="text/csv", key=key)


def status_strip(bundle) -> None:
    """Which cached models are loaded, with their held-out accuracy."""
    from rnndemo.models import DISPLAY_NAMES

    columns = st.columns(3)
    for column, name in zip(columns, ("rnn", "lstm", "baseline")):
        entry = bundle.manifest.get("models", {}).get(name) or (bundle.manifest.get("baseline") if name == "baseline" else None)
        if name in bundle.names() and entry:
            column.metric(f"{DISPLAY_NAMES[name]} · test accuracy", f"{entry['test_accuracy']:.1%}", help="held-out IMDB test accuracy (2,500 reviews never used for training or early stopping)")
        else:
            column.metric(DISPLAY_NAMES[name], "unavailable")
