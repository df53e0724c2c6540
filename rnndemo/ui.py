"""The thin Streamlit layer: cached loaders, session state and widgets shared by every page.

This is the only module of the library that imports streamlit. The loaders call `rnndemo.loading`,
which loads TensorFlow and every model once per process under one lock (the launcher, scripts/serve.py,
does it before the server listens); every visitor shares what it loaded, and nothing mutates it.
Per-text results use `st.cache_data`. `guard_server` keeps a visitor from clearing those caches.

Session state, one design:

- The text. `review_text` holds the one shared review, as plain session state. Each page's
  review box is a widget of that page (`<page>_text_area`): it is filled from the shared text
  before it is drawn, and its on_change callback writes a submitted text back. (Streamlit
  forgets a widget's value on a page that does not draw it, so the widget cannot be the store.)
- Page options. `PAGE_OPTIONS` is the registry, per page, of the widget keys whose values
  survive page switches. A page draws such a widget with `**ui.option(key)`, which refuses
  keys that are not registered. Options in `URL_OPTIONS` are also bound to the URL
  (`bind="query-params"`, the key is the parameter's name) because they matter for a shared view.
- Actions are never state. Buttons, download buttons, uploaders and forms are not in the
  registry and nothing writes their keys. What an action changes elsewhere (load a sample,
  send a review to the other pages, apply a preset) happens in its on_click callback,
  which runs before the rerun that draws the widgets.
- The URL follows the text. `sync_text_with_url` runs in app.py before every page: a
  `?text=` that differs from what this session last wrote (a shared link, a reload, Back or
  Forward) becomes the text; otherwise the text, cut to its first 5,000 characters, is
  written to `?text=`. The default text has no parameter, so a bare URL means the lesson's review.
- The Inside page's stepper position is no widget either: the plain session key `inside_step`, carried by
  `?step=` (counted from 1) through `url_parameter_to_adopt` and `write_url_parameter`, which follow the
  text's rule (adopt what this session did not write; else write). The "why it said that" cards link to it.
- Presenter mode follows the same design: `present` is plain session state, `?present=1` carries it
  (kept in step by `sync_presenter_with_url`, as the text), and the sidebar toggle drawn by app.py on
  every page is filled from it and writes back in its on_change. A bound toggle would not do: the
  URL would have to say `?present=true`, and `?present=1` is the link teachers are given.
"""

from __future__ import annotations

import html
import re
import sys
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from rnndemo.config import LIMITS, default_models_dir
from rnndemo.data import BAIT_EXCERPT, LESSON_SAMPLE_NAMES
from rnndemo.shared_cache import OwnedByteCache
from rnndemo.text import DEFAULT_TEXT

TEXT_KEY = "review_text"  # the one text that follows the visitor across pages
URL_TEXT_KEY = "text"  # its query parameter
URL_CUT_KEY = "text_cut"  # present when ?text= holds only the start of a longer text
_TEXT_CUT_NOTICE = "text_cut_notice"  # what was cut from the text the visitor submitted, if anything
_URL_TEXT_WRITTEN = "url_text_written"  # what this session last put into ?text= (None: no parameter)
PRESENT_KEY = "present"  # presenter mode, for the session; also the query parameter's name
PRESENTER_TOGGLE = "presenter_toggle"  # its sidebar toggle, drawn by app.py on every page
_URL_PRESENT_WRITTEN = "url_present_written"  # what this session last put into ?present=
PRESENTER_SCALE = 1.25  # type and chart fonts on a projector
# State that is no widget but belongs in a link: the Inside page's stepper position, counted from 1 (absent: 1).
STEP_PARAMETER = "step"
_URL_PARAMETERS_WRITTEN = "url_parameters_written"  # such a parameter -> what this session last put into the URL
# Widgets of the frame (app.py), drawn on every page; they are not any one page's options.
FRAME_WIDGETS = frozenset({PRESENTER_TOGGLE})

PAGE_OPTIONS: dict[str, tuple[str, ...]] = {
    "home": ("home_sample_kind",),
    "tokens": (
        "tokens_sample_kind",
        "tokens_lowercase",
        "tokens_line_breaks",
        "tokens_punctuation",
        "tokens_whitespace",
        "tokens_order",
        "tokens_padding",
    ),
    "embeddings": (
        "embeddings_sample_kind",
        "embeddings_table_source",
        "embeddings_query",
        "embeddings_metric",
        "embeddings_k",
        "embeddings_map_source",
        "embeddings_dimensions",
        "embeddings_extra",
        "embeddings_a",
        "embeddings_b",
        "embeddings_c",
        "embeddings_analogy_source",
    ),
    "compare": (
        "compare_sample_kind",
        "compare_show_running_predictions",
        "compare_show_baseline_terms",
        "compare_show_order_test",
        "compare_pair",
        "compare_swap_first",
        "compare_swap_second",
    ),
    "inside": (
        "inside_sample_kind",
        "inside_model",
        "inside_units",
        "inside_measure_words",
        "inside_step_projector",
        "inside_step_colour_model",
        "inside_step_colour_unit",
    ),
    "model_cards": ("cards_browse", "cards_error_model", "cards_pick"),
    "batch": (),
    "language_model": (
        "lm_sample_kind",
        "lm_k",
        "lm_temperature",
        "lm_top_k",
        "lm_seed",
        "lm_words",
        "lm_exclude_unknown",
        "lm_surprise_model",
    ),
    "race": ("race_task", "race_lag", "race_units", "race_seconds", "race_cells", "race_axis"),
    # The horizon, W, models and origin depend on the series, so each series keeps its own; the LSTM stepper's
    # position (1..W) depends on W too.
    "time_series": (
        "ts_series",
        "ts_horizon_co2",
        "ts_horizon_sunspots",
        "ts_models_co2",
        "ts_models_sunspots",
        "ts_origin_co2",
        "ts_origin_sunspots",
        "ts_window_co2",
        "ts_window_sunspots",
        "ts_step_co2_26",
        "ts_step_co2_52",
        "ts_step_sunspots_11",
        "ts_step_sunspots_22",
    ),
}
# The options a shared link carries (each is its own query parameter, named by its key).
URL_OPTIONS = frozenset(
    {
        "tokens_lowercase",
        "tokens_line_breaks",
        "tokens_punctuation",
        "tokens_whitespace",
        "tokens_order",
        "tokens_padding",
        "embeddings_table_source",
        "embeddings_query",
        "embeddings_metric",
        "embeddings_k",
        "embeddings_map_source",
        "embeddings_dimensions",
        "embeddings_extra",
        "embeddings_a",
        "embeddings_b",
        "embeddings_c",
        "embeddings_analogy_source",
        "inside_model",
        "inside_units",
        "inside_measure_words",
        "inside_step_colour_model",
        "inside_step_colour_unit",
        "cards_browse",
        "cards_error_model",
        "lm_k",
        "lm_temperature",
        "lm_top_k",
        "lm_seed",
        "lm_words",
        "lm_exclude_unknown",
        "lm_surprise_model",
        "race_task",
        "race_lag",
    }
)
# What the Copy-link hint calls each option a link keeps (tests/test_state.py: every URL option has a name),
# and the state that is no widget but is in the link too (the stepper's token, ?step=).
URL_OPTION_NAMES = {
    "tokens_lowercase": "lowercase",
    "tokens_line_breaks": "the <br /> switch",
    "tokens_punctuation": "remove punctuation",
    "tokens_whitespace": "collapse whitespace",
    "tokens_order": "the index order",
    "tokens_padding": "padding",
    "embeddings_table_source": "Vectors from",
    "embeddings_query": "the neighbour word",
    "embeddings_metric": "the metric",
    "embeddings_k": "k",
    "embeddings_map_source": "the map's space",
    "embeddings_dimensions": "its dimensions",
    "embeddings_extra": "More words (the preset's too)",
    "embeddings_a": "the analogy's a",
    "embeddings_b": "b",
    "embeddings_c": "c",
    "embeddings_analogy_source": "the analogy's space",
    "inside_model": "the models",
    "inside_units": "the units in each heatmap",
    "inside_measure_words": "whether long texts measure which words mattered",
    "inside_step_colour_model": "the colouring unit's model",
    "inside_step_colour_unit": "its unit",
    "cards_browse": "the review list",
    "cards_error_model": "its model",
    "lm_k": "how many next words",
    "lm_temperature": "temperature",
    "lm_top_k": "top k",
    "lm_seed": "seed",
    "lm_words": "words to generate",
    "lm_exclude_unknown": "the [UNK] switch",
    "lm_surprise_model": "the colouring's model",
    "race_task": "the task",
    "race_lag": "the lag T",
}
LINKED_STATE_NAMES = {"inside": ("the stepper's token",)}
_REGISTERED = frozenset(key for keys in PAGE_OPTIONS.values() for key in keys)
# Widgets whose value is not kept on its own: choices that belong to one uploaded file (which itself does not
# survive a page switch), and the stepper's slider, which is set every run from the plain session key "inside_step".
TRANSIENT_OPTIONS = frozenset({"batch_text_column", "batch_label_column", "inside_step_slider"})


def option(key: str) -> dict:
    """Widget keyword arguments for a registered page option: its key, kept for the session,
    bound to the URL if shared."""
    if key not in _REGISTERED:
        raise KeyError(f"{key!r} is not a registered page option; add it to ui.PAGE_OPTIONS")
    return {"key": key, "persist_state": "session", "bind": "query-params" if key in URL_OPTIONS else None}


def leave_legacy_router() -> None:
    """Hand a fresh server's first run over to app.py's navigation (call first on every page).

    Until st.navigation has run once in a process, a `pages/` folder beside app.py makes
    Streamlit serve a deep link such as /inside by running pages/inside.py alone: no page
    config, no frame, file-name navigation. Page hashes come from url_path, and every page file has
    a url_path equal to its file stem (pages/home.py: its hidden twin /home, beside "index" and
    "walkthrough"), so after leaving that mode a rerun resolves to the same page through app.py.
    Covered by tests/test_browser.py::test_first_requests_to_every_page_at_once_get_the_frame.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def init_session() -> None:
    """Shared session defaults and the text's place in the URL (called by app.py before every page)."""
    st.session_state.setdefault(TEXT_KEY, DEFAULT_TEXT)
    st.session_state.setdefault(_URL_TEXT_WRITTEN, None)
    st.session_state.setdefault(PRESENT_KEY, False)
    st.session_state.setdefault(_URL_PRESENT_WRITTEN, None)
    sync_text_with_url()
    sync_presenter_with_url()


def _url_value(text: str) -> str | None:
    """What ?text= holds for a text: nothing for the lesson's default, else its first 5,000 characters."""
    return None if text == DEFAULT_TEXT else text[: LIMITS.max_url_text_characters]


def _is_history_navigation() -> bool:
    """True when this run answers the browser's Back or Forward button."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    context = get_script_run_ctx()
    return bool(getattr(context, "is_history_navigation", False))


def _adopt_url_text(in_url: str | None) -> None:
    set_text(DEFAULT_TEXT if in_url is None else in_url[: LIMITS.max_url_text_characters])
    name_text_in_pickers(current_text())  # a link's text was not loaded by a picker: say what it is
    cut = in_url is not None and (
        len(in_url) > LIMITS.max_url_text_characters or st.query_params.get(URL_CUT_KEY) == "1"
    )
    st.session_state["url_text_notice"] = (
        f"This link holds only the first {LIMITS.max_url_text_characters:,} characters of a longer review, "
        "so the verdicts here are for that start, not for the whole review."
        if cut
        else ""
    )


def sync_text_with_url() -> None:
    """Adopt a ?text= this session did not write (shared link, reload, Back/Forward); else write the text into it.

    A missing parameter means the lesson's text only on Back/Forward: a page switch drops every
    parameter that no widget is bound to, so there it means nothing and the text is written again.
    """
    in_url = st.query_params.get(URL_TEXT_KEY)
    written = st.session_state[_URL_TEXT_WRITTEN]
    if in_url is not None and in_url != written:
        _adopt_url_text(in_url)
    elif in_url is None and written is not None and _is_history_navigation():
        _adopt_url_text(None)
    wanted = _url_value(current_text())
    if wanted != in_url:
        if wanted is None:
            del st.query_params[URL_TEXT_KEY]
        else:
            st.query_params[URL_TEXT_KEY] = wanted
    # A link that holds only the start of a longer text says so to whoever opens it.
    cut = len(current_text()) > LIMITS.max_url_text_characters
    if cut != (URL_CUT_KEY in st.query_params):
        if cut:
            st.query_params[URL_CUT_KEY] = "1"
        else:
            del st.query_params[URL_CUT_KEY]
    st.session_state[_URL_TEXT_WRITTEN] = wanted


def presenting() -> bool:
    """True in presenter mode (larger type and charts, sidebar collapsed, verdicts at the top)."""
    return bool(st.session_state.get(PRESENT_KEY, False))


def sync_presenter_with_url() -> None:
    """Adopt a ?present= this session did not write (a link, a reload, Back/Forward); else write the mode into it.

    Any value but 0/false/no/off turns it on, so `?present=1` and `?present=true` both work; it is written as 1.
    """
    in_url = st.query_params.get(PRESENT_KEY)
    written = st.session_state[_URL_PRESENT_WRITTEN]
    if in_url is not None and in_url != written:
        st.session_state[PRESENT_KEY] = in_url.strip().lower() not in ("0", "false", "no", "off")
    elif in_url is None and written is not None and _is_history_navigation():
        st.session_state[PRESENT_KEY] = False
    wanted = "1" if presenting() else None
    if wanted != in_url:
        if wanted is None:
            del st.query_params[PRESENT_KEY]
        else:
            st.query_params[PRESENT_KEY] = wanted
    st.session_state[_URL_PRESENT_WRITTEN] = wanted


def url_parameter_to_adopt(name: str) -> tuple[bool, str | None]:
    """(True, value) when ?name= holds a value this session did not write there (a shared link, a reload, a
    link of another page, Back/Forward); a missing parameter counts only on Back/Forward, since a page switch
    drops unbound parameters. Else (False, None). Pairs with write_url_parameter, as the text's sync does."""
    in_url = st.query_params.get(name)
    written = st.session_state.setdefault(_URL_PARAMETERS_WRITTEN, {}).get(name)
    if in_url is not None and in_url != written:
        return True, in_url
    if in_url is None and written is not None and _is_history_navigation():
        return True, None
    return False, None


def write_url_parameter(name: str, value: str | None) -> None:
    """Put `value` into ?name= (None takes it out) and remember it as what this session wrote."""
    if st.query_params.get(name) != value:
        if value is None:
            del st.query_params[name]
        else:
            st.query_params[name] = value
    st.session_state.setdefault(_URL_PARAMETERS_WRITTEN, {})[name] = value


def navigation_position() -> str:
    """Where st.navigation draws the page links: a bar at the top in presenter mode (the sidebar is hidden)."""
    return "top" if presenting() else "sidebar"


def _toggle_presenter() -> None:
    st.session_state[PRESENT_KEY] = bool(st.session_state[PRESENTER_TOGGLE])


# Streamlit sizes type and spacing in rem, so a larger root font scales the page evenly; the top
# padding, sized for the toolbar, is cut so that the verdicts fit above the fold of a 720-pixel projector.
# The sidebar is hidden outright: st.set_page_config's initial_sidebar_state did not fold it on a fresh load
# (measured in Chromium at 1280×720), and with it open the verdicts were cut to "positiv…". The pages are
# then reached from the top navigation bar (app.py), and the toggle moves to the top of the page.
# Six verdicts share a row since the DFN and the CNN came: at Streamlit's 2.25rem, "negative ✗" needed
# 193 px of a 163-pixel column (Chromium, 1280×720), so the verdicts' type is 1.8rem here.
_PRESENTER_CSS = f"""
<style data-rnndemo="presenter">
html {{ font-size: {16 * PRESENTER_SCALE:g}px; }}
[data-testid="stMainBlockContainer"] {{ padding-top: 4.5rem; padding-bottom: 3rem; }}
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"] {{ display: none; }}
[data-testid="stMetricValue"] {{ font-size: 1.8rem; }}
</style>
"""


def presenter_frame() -> None:
    """The sidebar's presenter-mode toggle, and presenter mode's styles when it is on (called by app.py)."""
    st.session_state[PRESENTER_TOGGLE] = presenting()  # filled from the session, as the review boxes are
    (st if presenting() else st.sidebar).toggle(
        "Presenter mode",
        key=PRESENTER_TOGGLE,
        on_change=_toggle_presenter,
        help="Larger type and charts, the sidebar folded away, every verdict at the top. Link: add ?present=1.",
    )
    if presenting():
        st.html(_PRESENTER_CSS)


# The Streamlit version whose private API `guard_server` patches; another version is not patched (it warns).
GUARDED_STREAMLIT = "1.67."


def _ignore_clear_cache_request(self) -> None:
    """Stands in for AppSession._handle_clear_cache_request: a visitor may not clear every visitor's caches."""
    print("rnndemo: ignored a clear_cache request from a browser", file=sys.stderr, flush=True)


def guard_server() -> bool:
    """Patch Streamlit's session so no browser can clear the server's caches, and none is told server details.

    - Any websocket client may send the `clear_cache` BackMsg, without UI or token. It cleared every
      visitor's caches and made the server reload its models (~4.3 s of CPU each time).
    - Every new session was told the app's absolute path, the Streamlit and Python versions, the OS and
      an installation id. The frontend needs none of them to run the app.

    Idempotent; the launcher calls it before the server starts, app.py on every run. Returns whether the
    guards are on (False, with a warning, on a Streamlit version whose private API was not checked).
    """
    from streamlit.runtime import app_session

    session = app_session.AppSession
    if getattr(session, "_rnndemo_guarded", False):
        return True
    if not st.__version__.startswith(GUARDED_STREAMLIT) or not hasattr(session, "_handle_clear_cache_request"):
        print(
            f"rnndemo: warning: Streamlit {st.__version__} is not guarded (checked: {GUARDED_STREAMLIT}x)",
            file=sys.stderr,
            flush=True,
        )
        return False
    create_new_session_message = session._create_new_session_message

    def without_server_details(self, *arguments, **keywords):
        message = create_new_session_message(self, *arguments, **keywords)
        message.new_session.main_script_path = Path(message.new_session.main_script_path).name
        initialize = message.new_session.initialize
        initialize.user_info.Clear()  # the installation ids
        initialize.environment_info.Clear()  # Streamlit and Python versions, the OS
        return message

    session._handle_clear_cache_request = _ignore_clear_cache_request
    session._create_new_session_message = without_server_details
    session._rnndemo_guarded = True
    return True


def server_ready() -> None:
    """Guard the server and make sure TensorFlow is imported under the load lock before any page runs.

    Under the launcher both are done before the first visitor; under a bare `streamlit run app.py` or
    AppTest the first run does them, and sessions that arrive together wait on one lock.
    """
    from rnndemo import loading

    guard_server()
    loading.import_tensorflow()


def plotly_chart(figure, **keywords) -> None:
    """st.plotly_chart, with fonts (and height) scaled up in presenter mode."""
    from rnndemo.plots import scale_fonts

    st.plotly_chart(scale_fonts(figure, PRESENTER_SCALE) if presenting() else figure, **keywords)


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
    _stop_streamlit_clearing_keras()
    return loaded


def language_models_or_stop():
    """The language models; if none could be loaded, a clear message and the page stops."""
    loaded = load_language_models()
    if isinstance(loaded, str) or not loaded.models:
        st.error("The language models could not be loaded.")
        st.text(loaded if isinstance(loaded, str) else "\n".join(loaded.errors.values()))
        st.stop()
    for name, message in loaded.errors.items():
        st.warning(f"Language model {literal(name, 40)} is unavailable; the others keep working.")
        st.text(message)
    return loaded


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def curated_verdicts(models_dir: str, sentence: str) -> dict:
    """Every model's verdict on one of the app's own sentences (the minimal pairs): the same for every visitor,
    so a class computes it once instead of on each of its reruns (12 model calls per Compare rerun)."""
    return _load_models(models_dir).classify(sentence)


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
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
    from rnndemo.next_word import continuation

    loaded = _load_language_models(models_dir)
    words = loaded.vocabulary.words
    return continuation(loaded.models[name], list(ids), words, count, temperature, top_k, seed, exclude_unknown)


def append_word(word: str) -> None:
    """Button callback: add `word` to the end of the shared text (the next-word suggestions)."""
    text = current_text().rstrip()
    set_text(f"{text} {word}" if text else word)
    mark_own_text()


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


def bundle_or_stop():
    """The bundle; if none could be loaded, a clear first-run message and the page stops.

    Messages about files are shown with st.text (never parsed as Markdown) and name files, not server paths.
    """
    bundle = load_models()
    if isinstance(bundle, str):
        st.error("The cached models could not be loaded.")
        st.text(bundle)
        st.stop()
    for name, message in bundle.errors.items():
        st.warning(f"Model {literal(name, 40)} is unavailable; the other models keep working.")
        st.text(message)
    return bundle


LESSON_SAMPLE = "lesson"  # a sample of docs/TEACHING.md, one fixed text (rnndemo.data.lesson_samples)
SAMPLE_KINDS = {
    **dict.fromkeys(LESSON_SAMPLE_NAMES, LESSON_SAMPLE),
    "positive IMDB review": "positive",  # a random draw of the test split (data.sample_reviews)
    "negative IMDB review": "negative",
    "random IMDB review": "random",
    "Rotten Tomatoes sentence": "rotten_tomatoes",
    "your own text": "",  # what the picker says once the text was edited; nothing to load
}
OWN_TEXT = "your own text"
LESSON_EXAMPLE = BAIT_EXCERPT  # the lesson's worked example, rnndemo.text.DEFAULT_TEXT
_SAMPLE_PICKERS = tuple(key for keys in PAGE_OPTIONS.values() for key in keys if key.endswith("_sample_kind"))
# The page of each review box's key prefix ("lm" is the language model's), read off its sample picker.
_PAGE_OF_PREFIX = {
    key.removesuffix("_sample_kind"): page
    for page, keys in PAGE_OPTIONS.items()
    for key in keys
    if key in _SAMPLE_PICKERS
}


def set_text(text: str) -> None:
    """Make `text` the shared review (call from callbacks, which run before the widgets are drawn).

    The session keeps at most what the app reads: the last 100,000 characters. A 24 MB paste kept
    whole cost the server 24 MB per session although no page read past that cut.
    """
    from rnndemo.serving import prepare_text

    kept, notice = prepare_text(text)
    st.session_state[TEXT_KEY] = kept
    st.session_state[_TEXT_CUT_NOTICE] = notice
    st.session_state["url_text_notice"] = ""  # a notice about a cut link is about the text it came with


def _load_sample(key_prefix: str) -> None:
    """Picker and button callback: put the chosen sample into the shared text (a lesson sample, or a new draw
    of held-out reviews of the chosen kind), and every page's picker names it."""
    from rnndemo.data import lesson_samples, sample_reviews

    chosen = st.session_state[f"{key_prefix}_sample_kind"]
    source = SAMPLE_KINDS[chosen]
    if source == "":  # "your own text": the button is disabled; nothing to load
        return
    if source == LESSON_SAMPLE:
        set_text(lesson_samples()[chosen])
    else:
        st.session_state["sample_counter"] = st.session_state.get("sample_counter", 0) + 1
        set_text(sample_reviews(source, 1, seed=st.session_state["sample_counter"])[0])
    for key in _SAMPLE_PICKERS:
        st.session_state[key] = chosen


def _submit_text(box: str) -> None:
    """The review box's on_change: what the visitor submitted becomes the shared text."""
    set_text(st.session_state[box] or "")
    st.session_state[box] = current_text()  # the box, too, keeps only what the app reads
    mark_own_text()


def picker_label_for(text: str) -> str:
    """What a sample picker says for a text it did not load: a lesson sample by name; a held-out review
    by its kind (an IMDB test review by its label, a Rotten Tomatoes sentence); else "your own text"."""
    from rnndemo.data import IMDB_TEST_SOURCE, ROTTEN_TOMATOES_SOURCE, lesson_sample_name

    lesson = lesson_sample_name(text)
    if lesson is not None:
        return lesson
    truth = true_label(text)
    if truth is not None and truth.source == IMDB_TEST_SOURCE:
        return f"{truth.name} IMDB review"
    if truth is not None and truth.source == ROTTEN_TOMATOES_SOURCE:
        return "Rotten Tomatoes sentence"
    return OWN_TEXT


def use_review(text: str) -> None:
    """Button callback: make `text` the shared review, and every page's sample picker name it."""
    set_text(text)
    name_text_in_pickers(text)


def name_text_in_pickers(text: str) -> None:
    """Every page's sample picker names `text`, which no picker loaded (see picker_label_for)."""
    label = picker_label_for(text)
    for key in _SAMPLE_PICKERS:
        st.session_state[key] = label


def mark_own_text() -> None:
    """Every page's sample picker says "your own text" (call from callbacks that edit the text)."""
    for key in _SAMPLE_PICKERS:
        st.session_state[key] = OWN_TEXT


def current_text() -> str:
    """The shared review as typed (None from an emptied box counts as empty)."""
    return st.session_state.get(TEXT_KEY) or ""


def text_input(key_prefix: str, label: str = "Your movie review", height: int = 160) -> str:
    """The shared review box, with a sample picker and a share link; returns the bounded text."""
    from rnndemo.serving import prepare_text

    picker, button = st.columns([3, 1])
    # A fresh session's picker names the text in the box (the lesson's example, or a link's text), not option 0.
    st.session_state.setdefault(f"{key_prefix}_sample_kind", picker_label_for(current_text()))
    picked = picker.selectbox(
        "Or pick a sample: the lesson's, or a real held-out review",
        list(SAMPLE_KINDS),
        **option(f"{key_prefix}_sample_kind"),
        on_change=_load_sample,  # picking loads it: one action; the button draws another review of the kind
        args=(key_prefix,),
    )
    button.button(
        "Load sample",
        key=f"{key_prefix}_sample_button",
        width="stretch",
        on_click=_load_sample,
        args=(key_prefix,),
        disabled=SAMPLE_KINDS.get(picked) == "",
    )
    box = f"{key_prefix}_text_area"
    # Fill this page's box from the shared text (see the module docstring).
    if st.session_state.get(box) != current_text():
        st.session_state[box] = current_text()
    # No max_chars: the browser would silently refuse a longer paste; prepare_text cuts it and says so.
    st.text_area(label, value=None, key=box, height=height, on_change=_submit_text, args=(box,))
    label_caption(current_text())
    share_control(_PAGE_OF_PREFIX.get(key_prefix, ""))
    if st.session_state.get("url_text_notice"):
        st.info(st.session_state["url_text_notice"])
    text, notice = prepare_text(current_text())
    notice = notice or st.session_state.get(_TEXT_CUT_NOTICE, "")
    if notice:
        st.info(notice.capitalize() + ".")
    return text


def true_label(text: str):
    """The text's true label (a data.TrueLabel) when it is the lesson's example or a dataset review, else None."""
    from rnndemo.data import true_label as lookup

    return lookup(text)


def training_note(text: str, truth) -> str:
    """A sentence for a text that is a training review, or its start, when its label does not already say so."""
    from rnndemo.data import training_source

    if truth is not None and truth.trained_on:
        return " The models may have learned this very review in training, so their verdict on it proves little."
    source = training_source(text)
    if source is None:
        return ""
    if source.whole:
        return " It is a review of the IMDB training split (but for line breaks): the models were trained on it."
    return (
        f" It is the start, the first {len(text):,} characters, of a review in the IMDB training split: the models "
        "were trained on the whole review."
    )


def label_caption(text: str) -> None:
    """Under the review box: the text's true label, when it has one, and whether the models were trained on it."""
    truth = true_label(text)
    note = training_note(text, truth)
    # Always one element here: a caption that comes and goes shifts the widgets after it, and Streamlit
    # then stopped writing their bound values into the URL (tests/test_browser.py, the copy-link test).
    if truth is None:
        st.caption(f"True label: none known (not the lesson's example or a dataset review).{note}")
        return
    st.caption(f"True label: **{truth.name}** (labelled {truth.source}).{note}")


def verdict_mark(verdict: str, truth) -> str:
    """A check or a cross to put after a verdict ("positive"/"negative") when the true label is known; else ""."""
    if truth is None:
        return ""
    return " ✓" if verdict == truth.name else " ✗"


def label_callout(*, predictions: dict, truth, baseline=None, review: str = "") -> None:
    """For a labelled text: its label, and what each model did and why, read off its own running prediction
    (the baseline, which has none, by its strongest TF-IDF terms)."""
    from rnndemo.evaluation import describe_verdict, verdict_story
    from rnndemo.registry import display_name

    if truth is None or not predictions:
        return
    lines, right = [], 0
    for name, prediction in predictions.items():
        stepped = bool(prediction.trajectory)
        story = verdict_story(
            truth.label,
            prediction.probability_positive,
            prediction.trajectory if stepped else None,
            prediction.tokens if stepped else None,
        )
        sentence = describe_verdict(story, quote=lambda token: literal(token, 40))
        if name == "baseline" and baseline is not None:
            terms = baseline.contributions(review, top=3)
            sentence += " Its strongest terms: " + ", ".join(f"{literal(t, 40)} ({v:+.2f})" for t, v in terms) + "."
        lines.append(f"- **{display_name(name)}** {'✓' if story.correct else '✗'} {sentence}")
        right += story.correct
    caution = " It is a training review, so this is no test of the models." * truth.trained_on
    header = (
        f"This review is labelled **{truth.name}** {truth.source}: {right} of {len(lines)} models got it right."
        + caution
    )
    (st.success if right == len(lines) else st.warning)(header + "\n\n" + "\n".join(lines))


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
def _word_statistics(models_dir: str):
    """The train split's word counts of a models folder, verified (rnndemo.word_statistics); None when the folder
    has none; the reason as text when they cannot be used. Read-only and shared, like the models."""
    from rnndemo import models, word_statistics

    bundle = _load_models(models_dir)
    try:
        return word_statistics.load(Path(models_dir), bundle.manifest, bundle.vocabulary)
    except models.ModelFileError as error:
        return str(error)


# Up to this many tokens the cards are drawn at once; a longer review's cards wait for a click. Reading the text
# again without each word costs the LSTM(256) 0.16 s at 144 tokens and 1.18 s at 408 (docs/PERFORMANCE.md),
# and in a class most dataset reviews have a wrong or uncertain model, so every submit paid it.
WHY_CARDS_AT_ONCE_TOKENS = 200


def _remember_cards_asked(asked: str, digest: str) -> None:
    st.session_state[asked] = digest


def _cards_wanted(review: str, predictions: dict, reasons: dict, key: str) -> bool:
    """Whether to draw the cards now: a short review always; a long one once the visitor asks (kept per text)."""
    import hashlib

    from rnndemo.registry import display_name

    tokens = max(len(predictions[name].trajectory) for name in reasons)
    asked = f"{key}_why_asked"
    digest = hashlib.sha256(review.encode("utf-8", "surrogatepass")).hexdigest()
    if tokens <= WHY_CARDS_AT_ONCE_TOKENS or st.session_state.get(asked) == digest:
        return True
    names = ", ".join(display_name(name) for name in reasons)
    # A callback, not the button's return value: the press must survive a rerun that the page's URL sync may
    # start before the button is drawn again.
    st.button(
        f"Why did the {names} say that?",
        key=f"{key}_why_button",
        icon=":material/help:",
        on_click=_remember_cards_asked,
        args=(asked, digest),
    )
    st.caption(
        f"Explaining means reading this {tokens}-token review again without each word, once per model "
        "(about a second for the LSTM): press the button to see it."
    )
    return False


def why_cards(*, bundle, review: str, predictions: dict, truth, key: str) -> None:
    """A "why it said that" card for each recurrent model whose verdict is wrong or uncertain (rnndemo.explain):
    its last crossing of 0.5, the words whose removal flips it with their training counts, its gates, and a link
    to the Inside page's stepper at that token."""
    from rnndemo import explain
    from rnndemo.inspect import log_odds_importance
    from rnndemo.registry import RECURRENT_NAMES, display_name

    models_dir = str(bundle.models_dir)
    reasons = {
        name: explain.card_reason(prediction.probability_positive, None if truth is None else truth.label)
        for name, prediction in predictions.items()
        # The baseline has no running prediction to explain; the DFN and the CNN no states or gates.
        if prediction.trajectory and name in RECURRENT_NAMES and name in bundle.classifiers
    }
    reasons = {name: reason for name, reason in reasons.items() if reason is not None}
    if not reasons or not _cards_wanted(review, predictions, reasons, key):
        return
    statistics = _word_statistics(models_dir)
    for name, reason in reasons.items():
        with st.spinner(f"Reading the text again without each word, for the {display_name(name)}…"):
            inspection = inspect_text(models_dir, name, review)  # cached per text; the Inside page reuses it
            importance = occlusion_importance(models_dir, name, review)
        effects = log_odds_importance(inspection.trajectory[-1], importance)
        counts = statistics if not isinstance(statistics, str) else None
        card = explain.why_card(
            reason=reason,
            trajectory=inspection.trajectory,
            tokens=inspection.tokens,
            effects=effects,
            statistics=counts,
            gates=inspection.gates,
        )
        verdict = "positive" if card.positive else "negative"
        low, high = explain.UNCERTAIN
        against = f", labelled {truth.name}" if reason == "wrong" else f", uncertain: within {low:g}–{high:g}"
        with st.container(border=True, key=f"{key}_why_{name}"):
            st.markdown(f"**Why the {display_name(name)} said {verdict}** (p = {card.probability:.3f}{against})")
            for sentence in explain.card_sentences(card, inspection.tokens, counts, quote=literal):
                st.markdown(f"- {sentence}")
            if isinstance(statistics, str):
                st.caption("The training counts are unavailable:")
                st.text(statistics)
            st.page_link(
                "pages/inside.py",
                label=f"Step through the {display_name(name)} on Inside the RNN, from token {card.step + 1}",
                icon=":material/arrow_forward:",
                query_params=view_parameters() | {STEP_PARAMETER: str(card.step + 1)},
            )


def view_parameters() -> dict[str, str]:
    """The text's and presenter mode's query parameters, for a link that opens this view elsewhere (a new tab
    starts a new session, which has only the link)."""
    return {key: st.query_params[key] for key in (URL_TEXT_KEY, URL_CUT_KEY, PRESENT_KEY) if key in st.query_params}


def truncation_notice(sequence_length: int, cut_tokens: int) -> None:
    """Say that the start of a long review was cut, in the one sentence the CLI and batch use too."""
    from rnndemo.vocab import truncation_note

    note = truncation_note(sequence_length, cut_tokens)
    st.info(note[0].upper() + note[1:] + ".")


# The browser's own address is the link: app.py keeps ?text= in step with the text, and the
# browser writes every bound option into it as it changes (also from fragments, which the
# server-side page would not redraw). So the control copies location.href. It is a constant
# script of this app with no visitor data in it; the input is the fallback where the
# clipboard API is missing (plain http on another host) and for copying by hand.
_COPY_LINK_HTML = """
<div style="display:flex;gap:.5rem;align-items:center">
<button type="button" data-rnndemo="copy-link" style="padding:.25rem .75rem;border-radius:.5rem;border:1px solid
rgba(128,128,128,.4);background:transparent;cursor:pointer;color:inherit;font:inherit">Copy link</button>
<input data-rnndemo="link" readonly aria-label="Link to this view"
placeholder="copies the address of this view (what it keeps is said below)"
style="flex:1;min-width:0;font-size:.8rem;border:none;background:transparent;color:inherit">
</div>
<script>
if (!window.rnndemoCopyLink) {
  window.rnndemoCopyLink = true;  // one listener for every page and rerun
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-rnndemo='copy-link']");
    if (!button) return;
    const box = button.parentElement.querySelector("input[data-rnndemo='link']");
    box.value = window.location.href;
    box.select();
    const done = () => { button.textContent = "Link copied"; };
    const fallback = () => { document.execCommand("copy"); done(); };
    if (navigator.clipboard) { navigator.clipboard.writeText(box.value).then(done, fallback); } else { fallback(); }
  });
}
</script>
"""


def link_keeps(page: str) -> str:
    """What a copied link of `page` keeps, exactly: the page, the text, presenter mode, and the page's options that
    are bound to the URL (URL_OPTIONS, in the page's order) or carried by it (LINKED_STATE_NAMES)."""
    kept = [URL_OPTION_NAMES[key] for key in PAGE_OPTIONS.get(page, ()) if key in URL_OPTIONS]
    kept += LINKED_STATE_NAMES.get(page, ())
    options = f"; and these options: {', '.join(kept)}" if kept else ""
    return (
        f"The copied link keeps this page, the text (its first {LIMITS.max_url_text_characters:,} "
        f"characters) and presenter mode{options}. Other choices last only for your visit."
    )


def share_control(page: str = "") -> None:
    """A "Copy link" button for what is on screen, what the link keeps, and a note when the link cannot hold the
    whole text."""
    st.html(_COPY_LINK_HTML, unsafe_allow_javascript=True)
    st.caption(link_keeps(page))
    if len(current_text()) > LIMITS.max_url_text_characters:
        st.caption(
            f"The text has {len(current_text()):,} characters; the link holds only its first "
            f"{LIMITS.max_url_text_characters:,}."
        )


def highlighted_tokens(
    tokens: list[str],
    scores: np.ndarray | None = None,
    scale: float | None = None,
    marked: int | None = None,
    unit: str = "",
    titles: list[str] | None = None,
) -> str:
    """Tokens as escaped HTML spans, green for positive scores and red for negative, saturating at ±`scale`
    (default: the largest |score|); the token at position `marked` is outlined (the stepper's current token).
    Each token's hover says its score, or its entry of `titles` when given."""
    scale = scale or (
        float(np.max(np.abs(scores))) if scores is not None and len(scores) and np.max(np.abs(scores)) > 0 else 1.0
    )
    spans = []
    for position, token in enumerate(tokens):
        score = 0.0 if scores is None else float(scores[position])
        alpha = min(1.0, abs(score) / scale) * 0.75
        color = f"rgba(44,160,44,{alpha:.2f})" if score > 0 else f"rgba(214,39,40,{alpha:.2f})"
        title = token if scores is None else f"{token}: {score:+.4f}{unit}"
        title = html.escape(title if titles is None else f"{token}: {titles[position]}", quote=True)
        outline = "outline:2px solid #1f77b4;font-weight:bold;" if position == marked else ""
        current = ' data-rnndemo="current-token"' if position == marked else ""
        spans.append(
            f'<span title="{title}"{current} style="background:{color};{outline}padding:1px 3px;margin:1px;'
            f'border-radius:3px;display:inline-block">{html.escape(token)}</span>'
        )
    return '<div style="line-height:1.9">' + "".join(spans) + "</div>"


def literal(text: str, limit: int = 300) -> str:
    """Visitor- or file-derived text for a Markdown string, as a code span: shown as typed and never
    parsed (no emphasis, links, autolinks, images, HTML, LaTeX, emoji or icon shortcodes).

    A code span is the one Markdown construct whose content is not parsed; its fence is one
    backtick longer than any run of backticks inside. Whole messages go through st.text instead.
    """
    text = " ".join(str(text).split())
    if not text:
        return ""
    text = text if len(text) <= limit else text[:limit] + "…"
    # Streamlit rewrites ":material/name:" even inside code (to ":material_name:"); an invisible word
    # joiner after the colon keeps the text exactly as typed on screen.
    text = text.replace(":material/", ":\u2060material/")
    fence = "`" * (1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
    return f"{fence} {text} {fence}"


def unknown_word_warning(error) -> None:
    """An UnknownWordError as a warning in which the word and the suggestions are literal."""
    hint = f" Did you mean: {', '.join(literal(word, 60) for word in error.suggestions)}?" if error.suggestions else ""
    st.warning(f"{literal(error.word, 60)} has no vector in {error.source}.{hint}")


def show_html(markup: str) -> None:
    """Render markup that this app built (every visitor string in it is escaped)."""
    st.html(markup)


def dataframe(frame: pd.DataFrame, decimals: int = 4, **keywords) -> None:
    """st.dataframe with every float column shown to the same number of decimals (by default 0.03 sat next to
    0.0781 and 1 next to 0.99998) and "–" for a missing value (not "None"); the data, and so any download or
    copy, keep their full values."""
    floats = {
        column: st.column_config.NumberColumn(str(column), format=f"%.{decimals}f")
        for column in frame.columns
        if pd.api.types.is_float_dtype(frame[column])
    }
    keywords.setdefault("placeholder", "–")
    st.dataframe(frame, column_config=floats | keywords.pop("column_config", {}), **keywords)


def csv_download(frame: pd.DataFrame, file_name: str, key: str, label: str = "Download CSV") -> None:
    """A download button for a table, safe to open in a spreadsheet (see batch.csv_bytes)."""
    from rnndemo.batch import csv_bytes

    st.download_button(label, csv_bytes(frame), file_name=file_name, mime="text/csv", key=key)


def status_strip(bundle) -> None:
    """Which cached models are loaded, with their held-out accuracy."""
    from rnndemo.registry import CLASSIFIER_NAMES, DISPLAY_NAMES

    test_reviews = bundle.manifest.get("split", {}).get("test", 0)
    held_out = f"on the {test_reviews:,} IMDB test reviews, never used for training or early stopping"
    # The unit goes in one caption, not in every label: "TF-IDF + logistic regression · test accuracy" was cut.
    st.caption(f"Held-out test accuracy {held_out}:")
    columns = st.columns(len(CLASSIFIER_NAMES))
    for column, name in zip(columns, CLASSIFIER_NAMES):
        entry = bundle.manifest.get("models", {}).get(name) or (
            bundle.manifest.get("baseline") if name == "baseline" else None
        )
        if name in bundle.names() and entry:
            column.metric(DISPLAY_NAMES[name], f"{entry['test_accuracy']:.1%}", help=f"test accuracy {held_out}")
        else:
            column.metric(DISPLAY_NAMES[name], "unavailable")


def latency_caption(name: str, latency_ms: float, window: int = 25) -> str:
    """This call's latency and the median of this session's recent calls of the model (one call is noisy)."""
    history = st.session_state.setdefault("latency_history", {}).setdefault(name, [])
    history.append(latency_ms)
    del history[:-window]
    if len(history) == 1:  # a median of one call says nothing more
        return f"latency {latency_ms:.1f} ms"
    median = float(np.median(history))
    return f"latency {latency_ms:.1f} ms (median {median:.1f} ms over your last {len(history)} calls)"


# One uploaded file is parsed and scored once: the page reruns on every widget change, and the largest
# allowed file costs ~23 s of CPU per scoring. Keyed by the file's sha256 (the bytes themselves are not
# hashed again); bounded by bytes, with a share per visitor, so no visitor's uploads push out another's
# (rnndemo/shared_cache.py). Shared by every session: a class uploading one file scores it once.
_UPLOADS = OwnedByteCache(
    max_bytes=LIMITS.batch_cache_megabytes * 1024 * 1024,
    max_bytes_per_owner=LIMITS.batch_cache_megabytes_per_visitor * 1024 * 1024,
    ttl_seconds=LIMITS.batch_cache_minutes * 60,
)


def _session_owner() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    context = get_script_run_ctx()
    return context.session_id if context is not None else "no session"


def parsed_upload(raw: bytes, digest: str, file_name: str):
    """The uploaded file as a table (rnndemo.batch.ParsedUpload); raises UploadError for a bad file."""
    from rnndemo.batch import parse_upload

    key = ("parsed", digest, file_name)
    with nullcontext() if _UPLOADS.contains(key) else st.spinner("Reading the file…"):
        return _UPLOADS.get_or_compute(key, _session_owner(), lambda: parse_upload(raw, file_name))


def upload_probabilities(raw: bytes, digest: str, file_name: str, text_column: str, models_dir: str) -> dict:
    """Every model's probabilities for one column of the uploaded file, computed once per file and column."""
    from rnndemo.evaluation import bundle_probabilities

    def score() -> dict:
        texts = parsed_upload(raw, digest, file_name).frame[text_column].astype(str).tolist()
        return bundle_probabilities(_load_models(models_dir), texts)

    key = ("probabilities", digest, file_name, text_column, models_dir)
    spinner = "Every model is reading the reviews (once per file and column)…"
    with nullcontext() if _UPLOADS.contains(key) else st.spinner(spinner):
        return _UPLOADS.get_or_compute(key, _session_owner(), score)


def session_id() -> str:
    """This visitor's session id (a race job belongs to it)."""
    return _session_owner()


def race_jobs():
    """The race queue of this server process, shared by every session (rnndemo.race_jobs; created once)."""
    from rnndemo.race_jobs import shared_jobs

    return shared_jobs()
