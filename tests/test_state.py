"""Session state, URL and every control of every page, under AppTest.

The sweep is driven from each page's own widget tree: a widget added tomorrow is exercised
(and must be registered or be an action) without anyone adding it here.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from rnndemo import plots, ui
from rnndemo.config import LIMITS
from rnndemo.text import DEFAULT_TEXT

from .apptest_support import PAGE_TITLES, PAGES, all_text, go, open_page, titles

WIDGET_KINDS = (
    "checkbox",
    "toggle",
    "radio",
    "selectbox",
    "multiselect",
    "number_input",
    "slider",
    "select_slider",
    "text_input",
    "text_area",
    "button",
    "date_input",
    "color_picker",
    "time_input",
    "chat_input",
)
SAMPLE_TEXT = "A dull, lifeless film. The acting is wooden and the plot makes no sense."
# What the sweep counted per page; printed by the summary test for the issue note.
SWEEP_COUNTS: dict[str, int] = {}


def widgets(app) -> list:
    return [widget for kind in WIDGET_KINDS for widget in app.get(kind)]


def actions_for(widget) -> list[tuple]:
    """Every distinct thing a visitor can do with this widget."""
    kind = widget.type
    if kind in ("checkbox", "toggle"):
        return [("set", True), ("set", False)]
    if kind in ("radio", "selectbox", "select_slider"):
        return [("set", option) for option in widget.options]
    if kind == "multiselect":
        return [("set", [option]) for option in widget.options[:3]]
    if kind == "number_input":
        return [("increment",), ("decrement",)]
    if kind == "slider":
        return [("set", widget.min), ("set", widget.max)]
    if kind == "text_input":
        return [("input", "bad"), ("input", "")]
    if kind == "text_area":
        return [("input", SAMPLE_TEXT)]
    if kind == "button":
        return [("click",)]
    return [("unknown",)]


def perform(widget, action: tuple) -> None:
    verb = action[0]
    if verb == "set":
        value = action[1]
        if widget.type in ("radio", "selectbox") and not isinstance(value, str):
            value = widget.options[list(widget.options).index(value)] if value in widget.options else value
        widget.set_value(value)
    elif verb == "increment":
        widget.increment()
    elif verb == "decrement":
        widget.decrement()
    elif verb == "input":
        widget.input(action[1])
    elif verb == "click":
        widget.click()
    else:
        raise AssertionError(f"the sweep does not know how to use a {widget.type}")


def sweep(path: str, limit: int = 250) -> int:
    """Use every option of every widget on `path` at least once; returns how many interactions ran."""
    app = open_page(path)
    done: set[tuple] = set()
    count = 0
    while count < limit:
        pending = [
            (widget, action)
            for widget in widgets(app)
            for action in actions_for(widget)
            if (widget.key, repr(action)) not in done and not getattr(widget, "disabled", False)  # as in a browser
        ]
        if not pending:
            break
        widget, action = pending[0]
        assert widget.key, f"{path}: a {widget.type} without a key cannot be registered or swept"
        done.add((widget.key, repr(action)))
        perform(widget, action)
        app.run()
        count += 1
        assert not app.exception, (path, widget.key, action, [e.value for e in app.exception])
        assert ui.TEXT_KEY in app.session_state
        # Still on the page it means (an action must never navigate away by accident).
        assert PAGE_TITLES[path] in titles(app), (path, widget.key, action)
    assert count < limit, f"{path}: the sweep did not converge"
    return count


@pytest.mark.slow
@pytest.mark.parametrize("path", PAGES)
def test_every_control_on_every_page_works(path):
    """A visitor who uses every option of every control on a page never sees an error."""
    SWEEP_COUNTS[path] = sweep(path)
    assert SWEEP_COUNTS[path] >= 1 or path == "pages/batch.py"


@pytest.mark.parametrize("path", PAGES)
def test_every_widget_is_registered_or_an_action(path):
    """What persists is explicit: each widget is the review box, an action, or a registered option of its page."""
    app = open_page(path)
    page = path.split("/")[-1].removesuffix(".py")
    for widget in widgets(app):
        if widget.type == "button" or widget.key.endswith("_text_area") or widget.key in ui.FRAME_WIDGETS:
            continue
        assert widget.key in ui.PAGE_OPTIONS[page] or widget.key in ui.TRANSIENT_OPTIONS, (page, widget.key)


def test_option_refuses_unregistered_keys():
    """A page cannot persist a widget by accident: only registered keys get persist_state."""
    with pytest.raises(KeyError, match="not a registered page option"):
        ui.option("cards_use")
    assert ui.option("tokens_order") == {"key": "tokens_order", "persist_state": "session", "bind": "query-params"}
    assert ui.option("compare_show_running_predictions")["bind"] is None
    assert ui.URL_OPTIONS <= {key for keys in ui.PAGE_OPTIONS.values() for key in keys}


@pytest.mark.slow
def test_model_cards_views_and_use_this_review_reach_the_other_pages():
    """A visitor on Model cards picks 'confidently wrong', another model, a review, and sends it to the other pages."""
    app = open_page("pages/model_cards.py")
    app.radio(key="cards_browse").set_value("confidently wrong (p > 0.9 for the wrong class)").run()
    app.selectbox(key="cards_error_model").set_value("lstm").run()
    assert not app.exception
    app.number_input(key="cards_pick").set_value(2).run()
    shown = app.dataframe[-1].value
    app.button(key="cards_use").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.session_state["review_text"] == shown["text"].iloc[1]
    assert "shared text now" in all_text(app)
    go(app, "pages/compare.py")
    assert app.text_area(key="compare_text_area").value == shown["text"].iloc[1]
    # The picker names what the box holds: a held-out IMDB review with its label, not the lesson's example.
    assert app.selectbox(key="compare_sample_kind").value == f"{shown['label'].iloc[1]} IMDB review"
    assert app.query_params["text"] == shown["text"].iloc[1][: LIMITS.max_url_text_characters]


def test_sentiment_preset_fills_the_words_and_the_map():
    """The preset button puts the sentiment words into 'More words', and the PCA map shows them."""
    app = open_page("pages/embeddings.py")
    app.button(key="embeddings_preset").click().run()
    assert not app.exception
    assert app.text_input(key="embeddings_extra").value.split()[:3] == ["good", "great", "excellent"]
    figure = json.loads(app.get("plotly_chart")[-1].proto.spec)
    plotted = {text for trace in figure["data"] for text in (trace.get("text") or [])}
    assert {"awful", "terrible", "superb"} <= plotted


def test_trained_index_table_shows_row_one_for_unknown_words(bundle):
    """In a trained embedding, index 1 (OOV) has the model's own row 1, not an empty vector."""
    app = open_page("pages/embeddings.py", "a zzzqqxv film")
    lstm_source = next(option for option in app.selectbox(key="embeddings_table_source").options if "LSTM" in option)
    app.selectbox(key="embeddings_table_source").set_value(lstm_source).run()
    index_table = app.dataframe[1].value
    row = index_table[index_table["vocabulary index"] == 1].iloc[0]
    expected = bundle.classifiers["lstm"].model.get_layer("embedding").get_weights()[0][1]
    assert row["words of this text"] == "zzzqqxv"
    np.testing.assert_allclose(row[[f"d{d}" for d in range(50)]].to_numpy(dtype=float), expected, rtol=1e-6)


def test_a_shared_link_sets_text_and_options():
    """A link with ?text= and the neighbour word opens with both."""
    app = open_page("pages/embeddings.py", query={"text": "A tender film", "embeddings_query": "bad"})
    assert app.session_state["review_text"] == "A tender film"
    assert app.text_input(key="embeddings_query").value == "bad"


@pytest.mark.slow
def test_a_link_restores_every_option_a_visitor_set_on_embeddings_and_the_language_model():
    """Reloading (or opening a shared link to) Embeddings keeps "Vectors from", the preset's words and the analogy
    words and space; the Language model keeps the colouring, the number of next words and the [UNK] switch."""
    sentiment_preset = "good great excellent wonderful superb bad awful terrible horrible worst boring brilliant"
    lstm = "LSTM trained embedding (20,000 words)"
    embeddings = {
        "embeddings_table_source": lstm,
        "embeddings_extra": sentiment_preset,
        "embeddings_a": "paris",
        "embeddings_b": "france",
        "embeddings_c": "italy",
        "embeddings_analogy_source": "LSTM · trained",  # the URL holds what the select shows
    }
    app = open_page("pages/embeddings.py", query=embeddings)
    assert not app.exception
    assert app.selectbox(key="embeddings_table_source").value == lstm
    assert app.selectbox(key="embeddings_analogy_source").value == lstm
    for key in ("embeddings_extra", "embeddings_a", "embeddings_b", "embeddings_c"):
        assert app.text_input(key=key).value == embeddings[key], key
    assert "paris − france + italy" in all_text(app)
    from rnndemo.registry import LANGUAGE_DISPLAY_NAMES

    shown = LANGUAGE_DISPLAY_NAMES["lstm"]  # a select's URL value is what it shows
    language_model = {"lm_k": "12", "lm_surprise_model": shown, "lm_exclude_unknown": "false"}
    app = open_page("pages/language_model.py", query=language_model)
    assert not app.exception
    assert app.slider(key="lm_k").value == 12 and app.selectbox(key="lm_surprise_model").value == "lstm"
    assert app.toggle(key="lm_exclude_unknown").value is False


@pytest.mark.slow
def test_the_copy_link_hint_says_exactly_what_a_link_keeps():
    """Under every review box: the page's options bound to the URL, each by name, and nothing else."""
    assert set(ui.URL_OPTION_NAMES) == ui.URL_OPTIONS
    for key in ui.URL_OPTIONS:
        assert ui.option(key)["bind"] == "query-params", key
    for page, path in (("embeddings", "pages/embeddings.py"), ("inside", "pages/inside.py"), ("home", "pages/home.py")):
        hint = ui.link_keeps(page)
        assert hint in all_text(open_page(path)), page
        named = [name for key, name in ui.URL_OPTION_NAMES.items() if key in ui.PAGE_OPTIONS[page]]
        assert all(name in hint for name in named) and ("options" in hint) == bool(named or page == "inside")
    assert "the stepper's token" in ui.link_keeps("inside") and "the [UNK] switch" in ui.link_keeps("language_model")


def test_the_url_follows_the_text_and_stays_short():
    """Submitting a text writes it to ?text= (its first 5,000 characters); the lesson's text has no parameter."""
    app = open_page("pages/tokens.py")
    assert "text" not in app.query_params
    app.text_area(key="tokens_text_area").input("An utterly dreadful waste of time").run()
    assert app.query_params["text"] == "An utterly dreadful waste of time"
    long_text = "word " * 2000
    app.text_area(key="tokens_text_area").input(long_text).run()
    assert app.query_params["text"] == long_text[:5000] and app.query_params["text_cut"] == "1"
    assert "the link holds only its first 5,000" in all_text(app)
    recipient = open_page("pages/compare.py", query={"text": long_text[:5000], "text_cut": "1"})
    assert "only the first 5,000 characters of a longer review" in all_text(recipient)
    go(app, "pages/home.py")  # a page switch keeps the text and its parameter
    assert app.session_state["review_text"] == long_text
    app.selectbox(key="home_sample_kind").set_value(ui.LESSON_EXAMPLE).run()  # picking it loads it
    assert app.session_state["review_text"] == DEFAULT_TEXT and "text" not in app.query_params


@pytest.mark.slow
def test_every_review_box_has_a_copy_link_control():
    """Each page with the review box offers Copy link (the browser test checks what it copies)."""
    for path in ("pages/home.py", "pages/tokens.py", "pages/embeddings.py", "pages/compare.py", "pages/inside.py"):
        app = open_page(path)
        assert any('data-rnndemo="copy-link"' in str(block.proto.body) for block in app.get("html")), path


def test_a_link_longer_than_the_limit_says_it_was_cut():
    """A ?text= over 5,000 characters is cut, and the page says so."""
    app = open_page("pages/compare.py", query={"text": "good " * 1500})
    assert len(app.session_state["review_text"]) == LIMITS.max_url_text_characters
    assert "only the first 5,000 characters of a longer review" in all_text(app)
    app.text_area(key="compare_text_area").input("A new review of my own").run()
    assert "only the first 5,000 characters" not in all_text(app)  # the notice went with that text


def test_batch_rows_without_words_get_no_prediction(bundle):
    """Empty rows are not scored (no invented p = 0.5, which the baseline did not even give)."""
    from rnndemo.evaluation import bundle_probabilities

    probabilities = bundle_probabilities(bundle, ["A wonderful film", "", "  !!! "])
    for name, values in probabilities.items():
        assert np.isfinite(values[0]) and np.isnan(values[1]) and np.isnan(values[2]), name


def test_compare_caption_says_what_each_model_reads_and_latency_is_a_median():
    """The running-prediction caption says what is computed; the latency caption is a median over calls."""
    app = open_page("pages/compare.py", SAMPLE_TEXT)
    app.run()
    text = all_text(app)
    # Each model's readout, read from the model: the SimpleRNN averages its states, the LSTM and GRU do not.
    assert "for the LSTM and GRU, to the state hₜ, p = σ(w·hₜ + b)" in text
    assert "for the SimpleRNN, to the mean of the states h₁ … hₜ" in text
    assert "median" in text and "over your last 2 calls" in text


@pytest.mark.slow
def test_memory_experiment_is_verified_like_every_artifact(tmp_path, monkeypatch):
    """memory_experiment.json has its sha256 in the manifest; a rewritten file is refused by name on the page."""
    import shutil

    from rnndemo import models

    from .conftest import MODELS_DIR

    manifest = json.loads((MODELS_DIR / models.MANIFEST_FILE).read_text())
    assert manifest["files"][models.MEMORY_FILE] == models.sha256_file(MODELS_DIR / models.MEMORY_FILE)
    copy = tmp_path / "models"
    shutil.copytree(MODELS_DIR, copy)
    planted = json.loads((copy / models.MEMORY_FILE).read_text()) | {"design": "![x](http://127.0.0.1:9/x.png)"}
    (copy / models.MEMORY_FILE).write_text(json.dumps(planted))
    monkeypatch.setenv("RNNDEMO_MODELS_DIR", str(copy))
    app = open_page("pages/inside.py")
    assert not app.exception
    assert "memory_experiment.json" in all_text(app) and "does not match its sha256" in all_text(app)
    assert "127.0.0.1:9" not in all_text(app)


def test_train_staging_and_backup_folders_are_ignored_by_git():
    """The dot-prefixed folders that `train` writes beside models/ never show up as untracked files."""
    import subprocess
    import tempfile
    from pathlib import Path

    from .conftest import PROJECT_ROOT

    staging = Path(tempfile.mkdtemp(prefix=".models.tmp-", dir=PROJECT_ROOT))  # as training.train_all names it
    try:
        for name in (staging.name, ".models.old-4242"):  # as training.swap_in names its backup
            result = subprocess.run(["git", "check-ignore", "-q", f"{name}/model.keras"], cwd=PROJECT_ROOT)
            assert result.returncode == 0, name
    finally:
        staging.rmdir()


def presenter_css_injected(app) -> bool:
    return any('data-rnndemo="presenter"' in str(block.proto.body) for block in app.get("html"))


def test_presenter_mode_from_the_url_survives_a_page_switch_and_the_toggle_turns_it_off():
    """?present=1 turns presenter mode on (styles injected, charts scaled); it stays on, in the URL too,
    on the next page; the sidebar toggle turns it off and takes it out of the URL."""
    app = open_page("pages/compare.py", query={"present": "1"})
    assert not app.exception
    assert app.session_state[ui.PRESENT_KEY] is True and app.toggle(key=ui.PRESENTER_TOGGLE).value is True
    assert presenter_css_injected(app)
    chart = json.loads(app.get("plotly_chart")[0].proto.spec)["layout"]
    # Issue 22: 14 px text, and at least 18 px presenting (14 × 1.25, rounded up to whole pixels).
    assert chart["font"]["size"] == math.ceil(plots.READABLE_FONT_SIZES["text"] * ui.PRESENTER_SCALE) >= 18
    go(app, "pages/home.py")
    assert app.session_state[ui.PRESENT_KEY] is True and app.query_params[ui.PRESENT_KEY] == "1"
    assert presenter_css_injected(app)
    app.toggle(key=ui.PRESENTER_TOGGLE).set_value(False).run()
    assert app.session_state[ui.PRESENT_KEY] is False and ui.PRESENT_KEY not in app.query_params
    assert not presenter_css_injected(app)
    go(app, "pages/compare.py")
    assert not presenter_css_injected(app)
    chart = json.loads(app.get("plotly_chart")[0].proto.spec)["layout"]
    assert chart["font"]["size"] == plots.READABLE_FONT_SIZES["text"]  # the readable size, not scaled
    app.toggle(key=ui.PRESENTER_TOGGLE).set_value(True).run()
    assert app.query_params[ui.PRESENT_KEY] == "1" and presenter_css_injected(app)


@pytest.mark.slow
def test_presenter_mode_is_off_by_default_and_for_present_0():
    for query in (None, {"present": "0"}):
        app = open_page("pages/tokens.py", query=query)
        assert app.session_state[ui.PRESENT_KEY] is False and not presenter_css_injected(app)
        assert ui.PRESENT_KEY not in app.query_params


@pytest.mark.slow
def test_a_loaded_sample_shows_its_true_label_and_each_verdict_is_marked(bundle):
    """Load a negative review: the box says its label, each verdict carries ✓ or ✗ by the models' own
    predictions, and the callout tells each model's story."""
    from rnndemo.data import true_label

    app = open_page("pages/compare.py")
    app.selectbox(key="compare_sample_kind").set_value("negative IMDB review").run()
    app.button(key="compare_sample_button").click().run()
    text = app.session_state["review_text"]
    assert true_label(text).label == 0
    assert "True label: **negative**" in all_text(app)
    predictions = bundle.classify(text)
    expected = [
        prediction.label + (" ✓" if prediction.label == "negative" else " ✗") for prediction in predictions.values()
    ]
    assert [metric.value for metric in app.metric] == expected
    right = sum(prediction.label == "negative" for prediction in predictions.values())
    assert f"labelled **negative** in the IMDB test split: {right} of {len(predictions)} models" in all_text(app)


@pytest.mark.slow
def test_the_sample_picker_names_the_text_in_the_box_on_first_load():
    """A fresh session shows the lesson's example and its picker says so; a shared link's text is "your own text"."""
    app = open_page("pages/compare.py")
    assert app.session_state["review_text"] == DEFAULT_TEXT
    assert app.selectbox(key="compare_sample_kind").value == ui.LESSON_EXAMPLE
    go(app, "pages/home.py")
    assert app.selectbox(key="home_sample_kind").value == ui.LESSON_EXAMPLE
    linked = open_page("pages/compare.py", query={"text": SAMPLE_TEXT})
    assert linked.session_state["review_text"] == SAMPLE_TEXT
    assert linked.selectbox(key="compare_sample_kind").value == ui.OWN_TEXT
    # A link to a held-out review names its kind and label.
    from rnndemo import data

    test = data.load_splits().test
    short = test[test["text"].str.len() < LIMITS.max_url_text_characters]  # a longer one is cut in the link
    negative = short.query("label == 0")["text"].iloc[3]
    assert open_page("pages/compare.py", query={"text": negative}).selectbox(key="compare_sample_kind").value == (
        "negative IMDB review"
    )
    sentence = data.load_splits().rotten_tomatoes["text"].iloc[5]
    assert open_page("pages/home.py", query={"text": sentence}).selectbox(key="home_sample_kind").value == (
        "Rotten Tomatoes sentence"
    )


@pytest.mark.slow
def test_every_lesson_sample_loads_when_picked_and_every_picker_names_it():
    """A teacher picks each of the lesson's samples (the slide's excerpt, the full Bait review, the three contrasts,
    the negation pair): picking loads it, every page's picker names it, and the box says which are training text."""
    from rnndemo import data

    app = open_page("pages/compare.py")
    assert f"the first {len(DEFAULT_TEXT)} characters, of a review in the IMDB training split" in all_text(app)
    for name in data.LESSON_SAMPLE_NAMES:
        app.selectbox(key="compare_sample_kind").set_value(name).run()
        assert not app.exception, name
        assert app.session_state["review_text"] == data.lesson_samples()[name], name
        assert app.selectbox(key="compare_sample_kind").value == name
        text = all_text(app)
        trained = name in (data.BAIT_EXCERPT, data.BAIT_FULL)
        assert ("IMDB training split" in text) == trained, name
        if name == data.BAIT_FULL:
            assert "labelled in the IMDB training split). The models may have learned this very review" in text
    go(app, "pages/home.py")
    assert app.selectbox(key="home_sample_kind").value == data.LESSON_SAMPLE_NAMES[-1]
    contrast = data.CONTRASTS[1]
    linked = open_page("pages/home.py", query={"text": data.lesson_samples()[contrast.name]})
    assert linked.selectbox(key="home_sample_kind").value == contrast.name


def test_editing_the_text_sets_every_sample_picker_to_your_own_text():
    app = open_page("pages/compare.py")
    assert app.selectbox(key="compare_sample_kind").value == ui.LESSON_EXAMPLE
    assert "True label: **positive** (labelled by the lesson)" in all_text(app)  # the worked example
    assert "labelled **positive** by the lesson" in all_text(app)
    app.text_area(key="compare_text_area").input(SAMPLE_TEXT).run()
    assert app.selectbox(key="compare_sample_kind").value == ui.OWN_TEXT
    assert app.button(key="compare_sample_button").disabled
    assert "True label: none known" in all_text(app) and "labelled **" not in all_text(app)
    go(app, "pages/home.py")
    assert app.selectbox(key="home_sample_kind").value == ui.OWN_TEXT
    app.selectbox(key="home_sample_kind").set_value("positive IMDB review").run()
    assert not app.button(key="home_sample_button").disabled
    app.button(key="home_sample_button").click().run()
    assert app.selectbox(key="home_sample_kind").value == "positive IMDB review"
    assert "True label: **positive**" in all_text(app)


@pytest.fixture
def state_duplication_warnings(monkeypatch, caplog):
    """Streamlit's "created with a default value but also had its value set via the Session State API"
    warnings (logged once per process, so the flag is reset for the test)."""
    import logging

    from streamlit.elements.lib import policies

    monkeypatch.setattr(policies, "_shown_default_value_warning", False)
    caplog.set_level(logging.WARNING, logger="streamlit.elements.lib.policies")
    return lambda: [record.getMessage() for record in caplog.records if "Session State API" in record.getMessage()]


@pytest.mark.slow
def test_widgets_set_by_callbacks_have_no_competing_default(state_duplication_warnings):
    """Buttons that set another widget (next step, back to 1 word, the sentiment preset, a shorter review list,
    a picker marked "your own text") leave Streamlit nothing to warn about, before and after a page switch."""
    app = open_page("pages/language_model.py")
    app.button(key="lm_generate_step").click().run()
    go(app, "pages/home.py")
    go(app, "pages/language_model.py")
    app.button(key="lm_generate_reset").click().run()
    assert app.slider(key="lm_words").value == 1
    go(app, "pages/embeddings.py")
    app.button(key="embeddings_preset").click().run()
    app.text_area(key="embeddings_text_area").input(SAMPLE_TEXT).run()
    go(app, "pages/model_cards.py")
    app.number_input(key="cards_pick").set_value(3).run()
    app.radio(key="cards_browse").set_value(app.radio(key="cards_browse").options[1]).run()
    assert not app.exception
    assert state_duplication_warnings() == []
