"""Session state, one design, and its place in the URL.

- The text. `review_text` holds the one shared review, as plain session state. Each page's
  review box is a widget of that page (`<page>_text_area`): it is filled from the shared text
  before it is drawn, and its on_change callback writes a submitted text back. (Streamlit
  forgets a widget's value on a page that does not draw it, so the widget cannot be the store.)
- Page options. `PAGE_OPTION_LINKS` is the registry, per page, of the widget keys whose values
  survive page switches (`PAGE_OPTIONS`). A page draws such a widget with `**ui.option(key)`, which
  refuses keys that are not registered. Options it names for a link (`URL_OPTIONS`) are also bound to
  the URL (`bind="query-params"`, the key is the parameter's name) because they matter for a shared view.
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
- History: the page and the text are browser history entries; an option change (bound or written here, the
  stepper's ?step= and presenter mode too) replaces the current entry (ui.compat.keep_options_out_of_history).
- Presenter mode follows the same design: `present` is plain session state, `?present=1` carries it
  (kept in step by `sync_presenter_with_url`, as the text), and the sidebar toggle drawn by app.py on
  every page is filled from it and writes back in its on_change. A bound toggle would not do: the
  URL would have to say `?present=true`, and `?present=1` is the link teachers are given.
"""

from __future__ import annotations

import streamlit as st

from rnndemo.config import LIMITS
from rnndemo.data import BAIT_EXCERPT, LESSON_SAMPLE_NAMES
from rnndemo.text import DEFAULT_TEXT
from rnndemo.ui import compat

TEXT_KEY = "review_text"  # the one text that follows the visitor across pages
URL_TEXT_KEY = "text"  # its query parameter
URL_CUT_KEY = "text_cut"  # present when ?text= holds only the start of a longer text
TEXT_CUT_NOTICE = "text_cut_notice"  # what was cut from the text the visitor submitted, if anything
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

# Per page, each option whose value survives page switches, and what the Copy-link hint calls it when a shared
# link carries it (each such option is its own query parameter, named by its key); None: the link leaves it out.
# One table, so an option cannot be linked without a name, or named without being registered.
PAGE_OPTION_LINKS: dict[str, dict[str, str | None]] = {
    "home": {
        "home_sample_kind": None,
    },
    "tokens": {
        "tokens_sample_kind": None,
        "tokens_lowercase": "lowercase",
        "tokens_line_breaks": "the <br /> switch",
        "tokens_punctuation": "remove punctuation",
        "tokens_whitespace": "collapse whitespace",
        "tokens_order": "the index order",
        "tokens_padding": "padding",
    },
    "embeddings": {
        "embeddings_sample_kind": None,
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
    },
    "compare": {
        "compare_sample_kind": None,
        "compare_show_running_predictions": None,
        "compare_show_baseline_terms": None,
        "compare_show_order_test": None,
        "compare_pair": None,
        "compare_swap_first": None,
        "compare_swap_second": None,
    },
    "inside": {
        "inside_sample_kind": None,
        "inside_model": "the models",
        "inside_units": "the units in each heatmap",
        "inside_measure_words": "whether long texts measure which words mattered",
        "inside_step_projector": None,
        "inside_step_colour_model": "the colouring unit's model",
        "inside_step_colour_unit": "its unit",
    },
    "model_cards": {
        "cards_browse": "the review list",
        "cards_error_model": "its model",
        "cards_pick": None,
    },
    "batch": {},
    "language_model": {
        "lm_sample_kind": None,
        "lm_k": "how many next words",
        "lm_temperature": "temperature",
        "lm_top_k": "top k",
        "lm_seed": "seed",
        "lm_words": "words to generate",
        "lm_exclude_unknown": "the [UNK] switch",
        "lm_surprise_model": "the colouring's model",
    },
    "race": {
        "race_task": "the task",
        "race_lag": "the lag T",
        "race_units": None,
        "race_seconds": None,
        "race_cells": None,
        "race_axis": None,
    },
    # The horizon, W, models and origin depend on the series, so each series keeps its own; the LSTM stepper's
    # position (1..W) depends on W too.
    "time_series": {
        "ts_series": None,
        "ts_horizon_co2": None,
        "ts_horizon_sunspots": None,
        "ts_models_co2": None,
        "ts_models_sunspots": None,
        "ts_origin_co2": None,
        "ts_origin_sunspots": None,
        "ts_window_co2": None,
        "ts_window_sunspots": None,
        "ts_step_co2_26": None,
        "ts_step_co2_52": None,
        "ts_step_sunspots_11": None,
        "ts_step_sunspots_22": None,
    },
}
PAGE_OPTIONS: dict[str, tuple[str, ...]] = {page: tuple(options) for page, options in PAGE_OPTION_LINKS.items()}


# What the Copy-link hint calls each option a link keeps (tests/test_state.py: every URL option has a name), in
# the pages' order; and the options a shared link carries.
URL_OPTION_NAMES: dict[str, str] = {
    key: name for options in PAGE_OPTION_LINKS.values() for key, name in options.items() if name is not None
}
URL_OPTIONS = frozenset(URL_OPTION_NAMES)


# And the state that is no widget but is in the link too (the stepper's token, ?step=).
LINKED_STATE_NAMES = {
    "inside": ("the stepper's token",),
    # Every Time series option, each in its own parameter named by its key, written by the page (not bound: the page
    # reads a link's value itself and says when it cannot show it; rnndemo.links).
    "time_series": (
        "the series",
        "the horizon h",
        "the window W",
        "the models shown",
        "the forecast origin",
        "the LSTM stepper's step",
    ),
}
_REGISTERED = frozenset(key for keys in PAGE_OPTIONS.values() for key in keys)


# Widgets whose value is not kept on its own: choices that belong to one uploaded file (which itself does not
# survive a page switch), and the stepper's slider, which is set every run from the plain session key "inside_step".
TRANSIENT_OPTIONS = frozenset({"batch_text_column", "batch_label_column", "inside_step_slider"})


def option(key: str) -> dict:
    """Widget keyword arguments for a registered page option: its key, kept for the session,
    bound to the URL if shared."""
    if key not in _REGISTERED:
        raise KeyError(f"{key!r} is not a registered page option; add it to ui.PAGE_OPTION_LINKS")
    return {"key": key, "persist_state": "session", "bind": "query-params" if key in URL_OPTIONS else None}


def init_session() -> None:
    """Shared session defaults and the text's place in the URL (called by app.py before every page)."""
    st.session_state[compat.FRAMED_KEY] = True
    st.session_state.setdefault(TEXT_KEY, DEFAULT_TEXT)
    st.session_state.setdefault(_URL_TEXT_WRITTEN, None)
    st.session_state.setdefault(PRESENT_KEY, False)
    st.session_state.setdefault(_URL_PRESENT_WRITTEN, None)
    sync_text_with_url()
    sync_presenter_with_url()


def _url_value(text: str) -> str | None:
    """What ?text= holds for a text: nothing for the lesson's default, else its first 5,000 characters."""
    return None if text == DEFAULT_TEXT else text[: LIMITS.max_url_text_characters]


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
    elif in_url is None and written is not None and compat.is_history_navigation():
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
    elif in_url is None and written is not None and compat.is_history_navigation():
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
    if in_url is None and written is not None and compat.is_history_navigation():
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


def append_word(word: str) -> None:
    """Button callback: add `word` to the end of the shared text (the next-word suggestions)."""
    text = current_text().rstrip()
    set_text(f"{text} {word}" if text else word)
    mark_own_text()


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
PAGE_OF_PREFIX = {
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
    st.session_state[TEXT_CUT_NOTICE] = notice
    st.session_state["url_text_notice"] = ""  # a notice about a cut link is about the text it came with


def load_sample(key_prefix: str) -> None:
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


def submit_text(box: str) -> None:
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


def true_label(text: str):
    """The text's true label (a data.TrueLabel) when it is the lesson's example or a dataset review, else None."""
    from rnndemo.data import true_label as lookup

    return lookup(text)


def view_parameters() -> dict[str, str]:
    """The text's and presenter mode's query parameters, for a link that opens this view elsewhere (a new tab
    starts a new session, which has only the link)."""
    return {key: st.query_params[key] for key in (URL_TEXT_KEY, URL_CUT_KEY, PRESENT_KEY) if key in st.query_params}


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
