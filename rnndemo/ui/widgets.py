"""Widgets shared by every page: the review box, the presenter toggle, tables, charts, safe text and messages."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from rnndemo.config import LIMITS
from rnndemo.data import lesson_sample_name, sample_label
from rnndemo.ui.compat import HISTORY_RULE_KEY, keep_options_out_of_history
from rnndemo.ui.loaders import load_language_models, load_models
from rnndemo.ui.state import (
    PAGE_OF_PREFIX,
    PRESENT_KEY,
    PRESENTER_SCALE,
    PRESENTER_TOGGLE,
    SAMPLE_KINDS,
    TEXT_CUT_NOTICE,
    current_text,
    link_keeps,
    load_sample,
    option,
    picker_label_for,
    presenting,
    submit_text,
    true_label,
)


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
[data-testid="stColumn"] [data-testid="stMetricValue"] {{ font-size: min(1.8rem, 18cqi); }}
</style>
"""


# On a phone (≤ 480 px) Plotly's toolbar covered the top of every chart, its title among them (measured in
# Chromium at 390×844): it is hidden there. Dragging still zooms, a double tap resets, and the full-screen
# button of Streamlit's own element toolbar stays. The diagrams of a row of steps (the unfolded RNN, the
# unrolled language model, its next-word bars side by side) overprinted their words in a phone's 358 px: there
# they keep the width their words need and scroll sideways.
# Metrics side by side (six verdicts, six accuracies) ran into each other at 1280 px with the sidebar open:
# "negative ✗" needs about 5 times its type size, and a sixth of the page is ~125 px. Their values are sized
# to their column (cqi: a hundredth of it), at most Streamlit's 2.25rem (1.8rem presenting), and their labels
# wrap instead of ending in "…", as do page links (the why-card's ran off a phone's screen).
# The containers' keys, and the width each diagram needs: 12 steps of the unfolded RNN ran "happened" into
# "across" at 760 px; the language model's 8 steps at 760 px held four letters of a word (plots.fitted_word).
_WIDE_CHART_WIDTHS = {"inside_unfolded_scroll": 1000, "lm_graph_scroll": 1000, "lm_next_bars_scroll": 760}
KEEP_IN_VIEW_KEY = "rnndemo_keep_in_view"  # the hidden container of keep_in_view_on_click's script
_HIDDEN_SCRIPT_KEYS = (HISTORY_RULE_KEY, KEEP_IN_VIEW_KEY)
_READABLE_CSS = (
    """
<style data-rnndemo="readable">
"""
    + ", ".join(f'[data-testid="stLayoutWrapper"]:has(> .st-key-{key}), .st-key-{key}' for key in _HIDDEN_SCRIPT_KEYS)
    + """ { display: none; }
[data-testid="stColumn"] { container-type: inline-size; }
[data-testid="stColumn"] [data-testid="stMetricValue"] { font-size: min(2.25rem, 18cqi); }
[data-testid="stMetricLabel"] * { white-space: normal !important; text-overflow: clip !important; }
[data-testid^="stPageLink"] * { white-space: normal !important; }
@media (max-width: 480px) {
  .js-plotly-plot .modebar-container { display: none !important; }
"""
    + "\n".join(
        f"  .st-key-{key} {{ overflow-x: auto; }} .st-key-{key} > * {{ min-width: {width}px; }}"
        for key, width in _WIDE_CHART_WIDTHS.items()
    )
    + """
}
</style>
"""
)


def presenter_frame() -> None:
    """The sidebar's presenter-mode toggle, and presenter mode's styles when it is on (called by app.py)."""
    st.session_state[PRESENTER_TOGGLE] = presenting()  # filled from the session, as the review boxes are
    (st if presenting() else st.sidebar).toggle(
        "Presenter mode",
        key=PRESENTER_TOGGLE,
        on_change=_toggle_presenter,
        help="Larger type and charts, the sidebar folded away, every verdict at the top. Link: add ?present=1.",
    )
    st.html(_READABLE_CSS)
    keep_options_out_of_history()
    if presenting():
        st.html(_PRESENTER_CSS)


# A click on a button inside the container scrolls the container's top to just under Streamlit's header, where it
# fits the screen: Previous and Next at the bottom of a 720-px projector left the projector panel's charts below the
# fold (they started at ~900 px, Chromium). Not where the columns stack (a phone): the panel is taller than the
# screen there, and the visitor's own scrolling is left alone. A constant script with the container's key.
_KEEP_IN_VIEW_HTML = """
<script>
window.rnndemoKeepInView = window.rnndemoKeepInView || new Set();
if (!window.rnndemoKeepInView.has(KEY)) {
  window.rnndemoKeepInView.add(KEY);
  document.addEventListener("click", (event) => {
    const panel = event.target.closest(".st-key-" + KEY);
    if (!panel || !event.target.closest("button") || window.innerWidth < 640) return;
    const header = document.querySelector("[data-testid='stHeader']");
    const top = header ? header.getBoundingClientRect().bottom : 0;
    const main = document.querySelector("[data-testid='stMain']");
    if (main) main.scrollBy(0, panel.getBoundingClientRect().top - top);
  });
}
</script>
"""


def keep_in_view_on_click(container_key: str) -> None:
    """Draw the script above (hidden) for the container with key `container_key`."""
    with st.container(key=KEEP_IN_VIEW_KEY):
        st.html(_KEEP_IN_VIEW_HTML.replace("KEY", json.dumps(container_key)), unsafe_allow_javascript=True)


def plotly_chart(figure, **keywords) -> None:
    """st.plotly_chart of a figure with readable text (plots.readable; the plots modules build it in), its fonts
    (and height) scaled up in presenter mode."""
    from rnndemo import plots

    plots.make_readable(figure)  # only a figure no plots helper built: the others have it, at no extra cost
    st.plotly_chart(plots.scale_fonts(figure, PRESENTER_SCALE) if presenting() else figure, **keywords)


# The Time series page shares its charts per view (series, W, horizon, origin, step; each ~0.1 MB as a figure): room
# for a class spread over many views, with every page's charts of shared data kept.
@st.cache_resource(show_spinner=False, max_entries=128)
def _shared_figure(cache_key: Hashable, presenting_now: bool, _build: Callable[[], Any]):
    from rnndemo import plots

    figure = plots.make_readable(_build())
    return plots.scale_fonts(figure, PRESENTER_SCALE) if presenting_now else figure


def shared_chart(build: Callable[[], Any], *, cache_key: Hashable, key: str) -> None:
    """ui.plotly_chart of a figure that depends on nothing but `cache_key` (say, a verified file's sha256): built
    once per server process and presenter mode, and shared by every session.

    Streamlit only reads the figure (it serialises a copy), and nothing here changes it after it is built: the
    Inside page rebuilt its two memory charts, whose data is a file, on every rerun of every visitor, 29 % of that
    page's CPU per rerun (py-spy over 20 AppTest reruns of a 200-token review)."""
    st.plotly_chart(_shared_figure(cache_key, presenting(), build), key=key)


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


def text_input(key_prefix: str, label: str = "Your movie review", height: int = 160) -> str:
    """The shared review box, with a sample picker and a share link; returns the bounded text."""
    from rnndemo.serving import prepare_text

    picker, button = st.columns([3, 1])
    # A fresh session's picker names the text in the box (the lesson's example, or a link's text), not option 0.
    st.session_state.setdefault(f"{key_prefix}_sample_kind", picker_label_for(current_text()))
    picked = picker.selectbox(
        "Or pick a sample: the lesson's, or a real held-out review",
        list(SAMPLE_KINDS),
        format_func=sample_label,  # short enough for a phone; label_caption names a lesson sample in full
        **option(f"{key_prefix}_sample_kind"),
        on_change=load_sample,  # picking loads it: one action; the button draws another review of the kind
        args=(key_prefix,),
    )
    button.button(
        "Load sample",
        key=f"{key_prefix}_sample_button",
        width="stretch",
        on_click=load_sample,
        args=(key_prefix,),
        disabled=SAMPLE_KINDS.get(picked) == "",
    )
    box = f"{key_prefix}_text_area"
    # Fill this page's box from the shared text (see the module docstring).
    if st.session_state.get(box) != current_text():
        st.session_state[box] = current_text()
    # No max_chars: the browser would silently refuse a longer paste; prepare_text cuts it and says so.
    st.text_area(label, value=None, key=box, height=height, on_change=submit_text, args=(box,))
    label_caption(current_text())
    share_control(PAGE_OF_PREFIX.get(key_prefix, ""))
    if st.session_state.get("url_text_notice"):
        st.info(st.session_state["url_text_notice"])
    text, notice = prepare_text(current_text())
    notice = notice or st.session_state.get(TEXT_CUT_NOTICE, "")
    if notice:
        st.info(notice.capitalize() + ".")
    return text


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
    # The picker shows a lesson sample by a short label (a phone cut the full name): here it is named in full.
    name = lesson_sample_name(text)
    sample = f"Sample: {name}. " if name else ""
    # Always one element here: a caption that comes and goes shifts the widgets after it, and Streamlit
    # then stopped writing their bound values into the URL (tests/test_browser.py, the copy-link test).
    if truth is None:
        st.caption(f"{sample}True label: none known (not the lesson's example or a dataset review).{note}")
        return
    st.caption(f"{sample}True label: **{truth.name}** (labelled {truth.source}).{note}")


def truncation_notice(sequence_length: int, cut_tokens: int) -> None:
    """Say that the start of a long review was cut, in the one sentence the CLI and batch use too."""
    from rnndemo.vocab import truncation_note

    note = truncation_note(sequence_length, cut_tokens)
    st.info(note[0].upper() + note[1:] + ".")


# The browser's own address is the link: app.py keeps ?text= in step with the text, and the
# browser writes every bound option into it as it changes (also from fragments, which the
# server-side page would not redraw). So the control copies location.href. It is a constant
# script of this app with no visitor data in it; the input is the fallback where the
# clipboard API is missing (plain http on another host) and for copying by hand, shown once the button was used.
# The hint beside the button is text that wraps: as the input's placeholder it was cut to "…what it keeps is s"
# on a phone (Chromium, 390×844).
_COPY_LINK_HTML = """
<div style="display:flex;flex-wrap:wrap;gap:.25rem .5rem;align-items:center">
<button type="button" data-rnndemo="copy-link" style="padding:.25rem .75rem;border-radius:.5rem;border:1px solid
rgba(128,128,128,.4);background:transparent;cursor:pointer;color:inherit;font:inherit">Copy link</button>
<span data-rnndemo="link-hint" style="flex:1 1 12rem;font-size:.8rem;opacity:.75">copies the address of this view
(what it keeps is said below)</span>
<input data-rnndemo="link" readonly aria-label="Link to this view" hidden
style="flex:1 1 100%;min-width:0;font-size:.8rem;border:none;background:transparent;color:inherit">
</div>
<script>
if (!window.rnndemoCopyLink) {
  window.rnndemoCopyLink = true;  // one listener for every page and rerun
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-rnndemo='copy-link']");
    if (!button) return;
    const box = button.parentElement.querySelector("input[data-rnndemo='link']");
    box.hidden = false;
    box.value = window.location.href;
    box.select();
    const done = () => { button.textContent = "Link copied"; };
    const fallback = () => { document.execCommand("copy"); done(); };
    if (navigator.clipboard) { navigator.clipboard.writeText(box.value).then(done, fallback); } else { fallback(); }
  });
}
</script>
"""


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
