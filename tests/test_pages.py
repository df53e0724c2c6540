"""Every page under AppTest: default, empty, long and hostile texts; shared state across pages."""

import json
import re
import urllib.parse

import pytest

from rnndemo.text import DEFAULT_TEXT

from .apptest_support import PAGES, all_text, go, new_app, open_page

HOSTILE = (
    '<script>window.__xss=1</script><img src=x onerror="window.__xss=1"> '
    "**bold** $x^2$ [link](javascript:alert(1)) great film"
)
TEXTS = {"default": DEFAULT_TEXT, "empty": "", "long": "a wonderful, moving film. " * 3000, "hostile": HOSTILE}
page = open_page


@pytest.mark.slow
@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("kind", list(TEXTS))
def test_every_page_runs_with_every_kind_of_text(path, kind):
    """A visitor with any text can open any page without an exception."""
    app = page(path, TEXTS[kind])
    assert not app.exception, [e.value for e in app.exception]


def test_home_shows_verdicts_and_status():
    """A visitor on the home page sees each model's verdict and held-out accuracy."""
    app = page("pages/home.py")
    labels = [metric.label for metric in app.metric]
    assert {"SimpleRNN", "LSTM"} <= set(labels)
    # The lesson's review is labelled positive, so each verdict carries its mark: right or wrong.
    verdicts = [metric.value for metric in app.metric if metric.value.split()[0] in ("positive", "negative")]
    assert verdicts and all(value in ("positive ✓", "negative ✗") for value in verdicts), verdicts


@pytest.mark.slow
def test_empty_text_gets_a_message():
    """An empty text is met with a clear message, not a crash."""
    for path in ("pages/home.py", "pages/compare.py", "pages/inside.py", "pages/tokens.py"):
        app = page(path, "   ")
        assert not app.exception
        assert "no words" in all_text(app).lower() or "no tokens" in all_text(app).lower(), path


@pytest.mark.slow
def test_long_text_says_what_was_cut():
    """A very long review says how many tokens the model did not read."""
    app = page("pages/compare.py", TEXTS["long"])
    assert "tokens were cut" in all_text(app)


@pytest.mark.slow
def test_hostile_text_is_never_rendered_as_markup():
    """Pasted HTML/Markdown/LaTeX is shown as text, escaped in the token highlights."""
    app = page("pages/inside.py", HOSTILE)
    assert not app.exception
    own = ("copy-link", "rnndemoHistoryRule")  # the app's own scripts: Copy link and the history rule (ui.compat)
    bodies = [str(element.proto.body) for element in app.get("html")]
    html_blocks = [body for body in bodies if not any(mark in body for mark in own)]
    assert html_blocks, "the importance highlights were not drawn"
    for block in html_blocks:
        assert "<script" not in block and "<img" not in block
    # Model pages clean the text, so the hostile tags never reach a token;
    # the tokens page shows raw text in code blocks.
    tokens_page = page("pages/tokens.py", HOSTILE)
    assert any(HOSTILE[:40] in str(code.value) for code in tokens_page.code)


@pytest.mark.slow
def test_text_follows_the_visitor_across_pages():
    """The text typed on one page is the text on the next page."""
    app = page("pages/tokens.py")
    app.text_area(key="tokens_text_area").input("An utterly dreadful waste of time").run()
    assert app.session_state["review_text"] == "An utterly dreadful waste of time"
    go(app, "pages/compare.py")
    assert app.text_area(key="compare_text_area").value == "An utterly dreadful waste of time"
    go(app, "pages/tokens.py")
    assert app.text_area(key="tokens_text_area").value == "An utterly dreadful waste of time"


def test_query_parameter_prefills_and_is_bounded():
    """A teacher's ?text= link pre-fills the text, cut to the documented length."""
    app = new_app(query={"text": "x" * 6000})
    app.run()
    assert not app.exception
    assert len(app.session_state["review_text"]) == 5000


@pytest.mark.slow
def test_sample_picker_loads_a_held_out_review():
    """The sample picker puts a real held-out review into the shared text."""
    from rnndemo import data

    app = page("pages/compare.py")
    app.selectbox(key="compare_sample_kind").select("negative IMDB review").run()
    app.button(key="compare_sample_button").click().run()
    assert app.session_state["review_text"] in set(data.load_splits().test["text"])


@pytest.mark.slow
def test_embeddings_unknown_word_suggests_spellings():
    """An unknown query word gets a message with close spellings."""
    app = page("pages/embeddings.py")
    app.text_input(key="embeddings_query").input("moviee").run()
    assert not app.exception
    assert "Did you mean" in all_text(app)


@pytest.mark.slow
def test_options_survive_page_switches():
    """Cleaning options and the neighbour settings are still set after visiting other pages."""
    app = page("pages/tokens.py")
    app.checkbox(key="tokens_lowercase").uncheck().run()
    app.radio(key="tokens_order").set_value("frequency in this text").run()
    go(app, "pages/embeddings.py")
    app.slider(key="embeddings_k").set_value(17).run()
    go(app, "pages/compare.py")
    go(app, "pages/tokens.py")
    assert app.checkbox(key="tokens_lowercase").value is False
    assert app.radio(key="tokens_order").value == "frequency in this text"
    go(app, "pages/embeddings.py")
    assert app.slider(key="embeddings_k").value == 17
    assert not app.exception


def _app_with_models_dir(monkeypatch, folder, path="pages/compare.py"):
    monkeypatch.setenv("RNNDEMO_MODELS_DIR", str(folder))
    return open_page(path)


@pytest.mark.slow
def test_missing_models_folder_gives_a_first_run_message(monkeypatch, tmp_path):
    """With no trained models the app explains how to build them instead of crashing."""
    app = _app_with_models_dir(monkeypatch, tmp_path / "no-models")
    assert not app.exception
    assert "could not be loaded" in " ".join(str(e.value) for e in app.error)
    assert "python -m rnndemo train" in all_text(app)


@pytest.mark.slow
def test_tampered_model_is_named_and_the_others_keep_working(monkeypatch, tmp_path):
    """A corrupted rnn.keras is refused by name; the other models still answer; the text is kept."""
    from .conftest import tampered_copy

    copy = tampered_copy(tmp_path, "rnn.keras")
    monkeypatch.setenv("RNNDEMO_MODELS_DIR", str(copy))
    app = open_page("pages/compare.py", "A tender, funny and moving film.")
    assert not app.exception
    assert "rnn" in " ".join(str(w.value) for w in app.warning)
    assert "rnn.keras" in all_text(app) and "python -m rnndemo train" in all_text(app)
    assert str(copy) not in all_text(app)  # file names, never server paths
    # LSTM, GRU, DFN, CNN and baseline; the SimpleRNN is refused
    assert [m.label for m in app.metric].count("verdict") == 5
    assert app.session_state["review_text"] == "A tender, funny and moving film."


def test_inside_page_draws_every_view():
    """The inside page draws the unfolded graph, the stepper's running prediction and state windows, three
    hidden-state maps, the LSTM's three gates and cell state, the GRU's two gates, the importance bars and the
    memory curves."""
    app = page("pages/inside.py")
    assert not app.exception
    # The default text is longer than explain.OCCLUSION_AUTOMATIC_TOKENS: importance waits for the toggle.
    assert len(app.get("plotly_chart")) == 1 + 1 + 3 + 3 + 4 + 2 + 2
    app.toggle(key="inside_measure_words").set_value(True).run()
    assert not app.exception
    charts = [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]
    titles = [str(chart["layout"].get("title", {}).get("text", "")) for chart in charts]
    for title in ("forget gate", "input gate", "output gate", "cell state cₜ (16 of 256 units)", "update gate"):
        assert title in titles, (title, titles)
    assert "reset gate" in titles
    # unfolded, stepper (running prediction, h_t window ×3), h_t ×3, LSTM, GRU, importance ×3, memory
    assert len(charts) == 1 + 1 + 3 + 3 + 4 + 2 + 3 + 2
    highlights = [block for block in app.get("html") if "line-height" in str(block.proto.body)]  # not the styles
    assert len(highlights) == 1 + 3  # the stepper's current token in context, one importance row per model


def test_streamlit_does_not_clear_keras_between_reruns():
    """Streamlit's per-rerun keras.backend.clear_session() is neutralised once the models load,
    so TensorFlow keeps its compiled kernels between visitors' reruns."""
    import keras

    from rnndemo.ui import compat

    app = page("pages/compare.py")
    app.text_area(key="compare_text_area").input("A second review, to force another rerun.").run()
    assert not app.exception
    assert keras.backend.clear_session is compat._ignore_clear_session


def test_compare_tables_are_drawn_only_when_asked_and_match_the_models(bundle):
    """The running-prediction and baseline tables appear when their toggles are on, hold the models' own
    numbers, and the toggles stay on across a page switch."""
    from rnndemo.models import DISPLAY_NAMES

    text = "A tender, funny and moving film, though the ending drags."
    app = page("pages/compare.py", text)
    assert not app.dataframe
    app.toggle(key="compare_show_running_predictions").set_value(True).run()
    app.toggle(key="compare_show_baseline_terms").set_value(True).run()
    assert not app.exception
    running, terms = app.dataframe[0].value, app.dataframe[1].value
    predictions = bundle.classify(text)
    assert list(running["token"]) == predictions["lstm"].tokens
    for name in ("rnn", "lstm", "gru"):
        assert running[f"p(positive) {DISPLAY_NAMES[name]}"].tolist() == pytest.approx(
            predictions[name].trajectory, abs=1e-4
        )
    assert list(terms.columns) == ["term", "contribution to the logit"] and len(terms) > 0
    # Shown with one number of decimals per column and "–" for a missing value; the data keep full precision.
    shown = json.loads(app.dataframe[0].proto.columns)
    assert {shown[column]["type_config"]["format"] for column in running.columns if column.startswith("p(")} == {"%.4f"}
    assert app.dataframe[0].proto.placeholder == "–"
    go(app, "pages/tokens.py")
    go(app, "pages/compare.py")
    assert app.toggle(key="compare_show_running_predictions").value is True
    assert len(app.dataframe) == 2


@pytest.mark.slow
def test_model_card_and_language_model_tables_read_as_numbers_without_none():
    """Summary and perplexity tables: no "None" cell, thousands separators, the held-out scores first."""
    cards = open_page("pages/model_cards.py")
    assert not cards.exception
    language = open_page("pages/language_model.py")
    tables = [frame.value for frame in cards.dataframe] + [frame.value for frame in language.dataframe]
    summary = next(table for table in tables if "test AUC" in table.columns)
    assert list(summary.columns[:3]) == ["model", "test accuracy", "test AUC"]
    assert all(len(str(start)) <= 30 for start in summary["started from"])
    perplexity = [table for table in tables if "test perplexity" in table.columns]
    assert len(perplexity) == 2
    for table in [summary, *perplexity]:
        cells = [str(cell) for cell in table.to_numpy().ravel()]
        assert "None" not in cells and "nan" not in cells
    for table in perplexity:  # counts stay whole numbers with separators even where another row has none
        for column in ("test tokens", "training tokens", "parameters"):
            assert all(re.fullmatch(r"\d{1,3}(,\d{3})*|–", str(cell)) for cell in table[column]), table[column]
        assert any(re.fullmatch(r"\d{1,3}(,\d{3})+", str(cell)) for cell in table["training tokens"])


@pytest.mark.slow
def test_the_session_keeps_only_what_the_app_reads():
    """A 300,000-character paste is kept as its last 100,000 characters (the box too), and the page says so."""
    app = page("pages/compare.py")
    pasted = "a fine film. " * 23_077  # 300,001 characters
    app.text_area(key="compare_text_area").input(pasted).run()
    assert not app.exception
    assert app.session_state["review_text"] == pasted[-100_000:]
    assert app.text_area(key="compare_text_area").value == pasted[-100_000:]
    assert "The text had 300,001 characters; only the last 100,000 were kept." in all_text(app)


def expected_cards(bundle, text: str, label: int | None) -> dict[str, list[str]]:
    """The "why it said that" card of each recurrent model that needs one, as rnndemo computes it."""
    from rnndemo import explain, ui, word_statistics
    from rnndemo.inspect import Inspector, log_odds_importance

    from .conftest import MODELS_DIR

    statistics = word_statistics.load(MODELS_DIR, bundle.manifest, bundle.vocabulary)
    cards = {}
    for name in ("rnn", "lstm", "gru"):
        inspector = Inspector(bundle.classifiers[name])
        inspection = inspector.inspect(text)
        reason = explain.card_reason(float(inspection.trajectory[-1]), label)
        if reason is None:
            continue
        card = explain.why_card(
            reason=reason,
            trajectory=inspection.trajectory,
            tokens=inspection.tokens,
            effects=log_odds_importance(inspection.trajectory[-1], inspector.importance(inspection.ids)[1]),
            statistics=statistics,
            gates=inspection.gates,
        )
        cards[name] = (card, explain.card_sentences(card, inspection.tokens, statistics, quote=ui.literal))
    return cards


def links_to_the_stepper(app) -> list[str]:
    return [link.proto.query_string for link in app.get("page_link") if "step=" in link.proto.query_string]


@pytest.mark.slow
def test_the_walkthrough_explains_each_wrong_or_uncertain_verdict_and_links_to_the_stepper(bundle):
    """On the lesson's review the Walkthrough has a card for the uncertain SimpleRNN and the wrong LSTM and GRU,
    with the library's sentences, and each card links to the Inside page's stepper at its last crossing."""
    from rnndemo import data

    app = page("pages/home.py")
    assert not app.exception
    text = all_text(app)
    cards = expected_cards(bundle, DEFAULT_TEXT, 1)
    assert set(cards) == {"rnn", "lstm", "gru"}
    for name, (_card, sentences) in cards.items():
        for sentence in sentences:
            assert f"- {sentence}" in text, (name, sentence)
    assert "**Why the LSTM said negative** (p = 0.222, labelled positive)" in text
    assert "` favor ` (token 89, -2.70 log-odds; in 199 training reviews, 34% of them positive)" in text
    assert links_to_the_stepper(app) == [f"step={card.step + 1}" for card, _ in cards.values()]
    # On Compare, for the sarcasm contrast (labelled negative), the three recurrent models are wrong and each gets a
    # card; the CNN, right, and the DFN, wrong, are not recurrent and get none.
    compare = page("pages/compare.py", data.lesson_samples()[data.CONTRASTS[1].name])
    assert not compare.exception
    review = compare.session_state["review_text"]
    cards = expected_cards(bundle, review, 0)
    wrong = {name for name, p in bundle.classify(review).items() if p.label != "negative" and name != "baseline"}
    assert set(cards) == {"rnn", "lstm", "gru"} == wrong - {"dfn"}
    shown = all_text(compare)
    assert all(f"- {sentence}" in shown for _, sentences in cards.values() for sentence in sentences)
    links = [urllib.parse.parse_qs(link) for link in links_to_the_stepper(compare)]
    assert [link["step"] for link in links] == [[str(card.step + 1)] for card, _ in cards.values()]
    # The link carries the text too, so that it opens the same view in a new tab (a new session).
    assert all(link["text"] == [compare.session_state["review_text"]] for link in links)


@pytest.mark.slow
def test_a_long_reviews_cards_wait_for_a_click_and_stay_for_that_text(bundle):
    """Past ui.WHY_CARDS_AT_ONCE_TOKENS tokens the cards cost about a second each: a button asks first; once pressed,
    the library's cards are shown and stay on later reruns of the same text; a new long text asks again."""
    from rnndemo import data, ui

    splits = data.load_splits().test.reset_index(drop=True)
    reviews = [(text, int(label)) for text, label in zip(splits.text, splits.label)]
    long_wrong = [
        (text, label)
        for text, label in reviews
        if ui.WHY_CARDS_AT_ONCE_TOKENS < len(bundle.classifiers["lstm"].encode(text)[1]) <= 260
        and (bundle.classify(text)["lstm"].probability_positive >= 0.5) != bool(label)
    ][:2]
    assert len(long_wrong) == 2
    (text, label), (other, _) = long_wrong
    app = page("pages/compare.py", text)
    assert not app.exception
    assert "Why the" not in all_text(app)
    assert "press the button to see it" in all_text(app)
    app.button(key="compare_why_button").click().run()
    cards = expected_cards(bundle, text, label)
    shown = all_text(app)
    assert "lstm" in cards
    assert all(f"- {sentence}" in shown for _, sentences in cards.values() for sentence in sentences)
    app.run()  # another rerun of the same text keeps them
    assert all(f"- {sentence}" in all_text(app) for _, sentences in cards.values() for sentence in sentences)
    app.text_area(key="compare_text_area").input(other).run()
    assert "press the button to see it" in all_text(app) and "Why the LSTM said" not in all_text(app)


def test_tokens_marks_the_out_of_vocabulary_words_it_counts(bundle):
    """Numbered by the model's vocabulary, the lesson's review has its out-of-vocabulary tokens counted, marked in
    red in the text (hover: index 1) and listed, and they are exactly the tokens the vocabulary maps to index 1."""
    from rnndemo.text import tokenize

    app = page("pages/tokens.py")
    app.radio(key="tokens_order").set_value("the model's vocabulary").run()
    assert not app.exception
    tokens = tokenize(DEFAULT_TEXT)
    unknown = [position for position, index in enumerate(bundle.vocabulary.encode_tokens(tokens)) if index == 1]
    assert unknown  # the lesson's review has some
    assert [metric.value for metric in app.metric] == [f"{len(unknown)} of {len(tokens)}"]
    (marked,) = [str(block.proto.body) for block in app.get("html") if "(out of vocabulary)" in str(block.proto.body)]
    red_span = r'title="([^"]*): index 1 \(out of vocabulary\)" style="background:rgba\(214,39,40,0\.75\)'
    red = re.findall(red_span, marked)
    assert red == [tokens[position] for position in unknown]
    listed = ", ".join(f"` {tokens[position]} ` (token {position + 1})" for position in unknown)
    assert f"Red: out of vocabulary, read by the model as index 1: {listed}." in all_text(app)
    hostile = page("pages/tokens.py", "<b>zzqx</b> film")
    hostile.radio(key="tokens_order").set_value("the model's vocabulary").run()
    (marked,) = [str(b.proto.body) for b in hostile.get("html") if "(out of vocabulary)" in str(b.proto.body)]
    assert "<b>" not in marked and ">zzqx</span>" in marked  # visitor text, escaped
