"""The language-model page under AppTest: every section is drawn from the real models, clicks act on the text."""

import numpy as np
import pytest

from .apptest_support import all_text, open_page

PAGE = "pages/language_model.py"


@pytest.mark.slow
def test_every_section_is_drawn_for_the_default_review():
    """A visitor opens the page and sees the graph, the next-word bars, generation, surprise, memory and the table."""
    app = open_page(PAGE)
    assert not app.exception
    subheaders = [str(header.value) for header in app.subheader]
    for title in (
        "The graph",
        "Next word as you type",
        "Generation",
        "Surprise",
        "memory of a language model",
        "Held-out perplexity",
    ):
        assert any(title in header for header in subheaders), (title, subheaders)
    heldout = next(frame.value for frame in app.dataframe if "test perplexity" in frame.value.columns)
    assert {"SimpleRNN language model", "LSTM language model", "Kneser–Ney trigram"} <= set(heldout["model"])
    assert len([metric for metric in app.metric if "perplexity" in metric.label]) == 3


@pytest.mark.slow
def test_clicking_a_suggested_word_appends_it(language_models):
    """The first suggestion of the LSTM is the model's most probable next word, and clicking it appends it."""
    text = "this was one of the best"
    app = open_page(PAGE, text=text)
    ids = language_models.vocabulary.encode_tokens(text.split())
    expected = language_models.vocabulary.words[int(np.argmax(language_models.models["lstm"].next_distribution(ids)))]
    button = app.button(key="lm_next_lstm_0")
    assert button.label.startswith(f"{expected} · ")
    button.click().run()
    assert not app.exception and app.session_state["review_text"] == f"{text} {expected}"


def test_next_step_adds_one_word_and_keeps_the_earlier_ones():
    """Generation step by step: "next step" continues the same words by one (same seed and settings)."""
    app = open_page(PAGE, text="the acting was")
    tables = generated_tables(app)  # one per model, in the page's order (AppTest does not report their keys)
    assert tables
    app.button(key="lm_generate_step").click().run()
    assert not app.exception and app.slider(key="lm_words").value == 11
    for table, longer in zip(tables, generated_tables(app)):
        if len(table) == 10:  # the model did not end the review early
            assert len(longer) == 11 and list(longer["word"][:10]) == list(table["word"])


def test_a_text_without_words_gets_a_message():
    app = open_page(PAGE, text="?!? ...")
    assert not app.exception and "no words once cleaned" in all_text(app)


def test_hostile_text_is_shown_as_text():
    """Visitor text reaches the surprise colouring escaped: tags arrive as text, never as markup."""
    app = open_page(PAGE, text='<img src=x onerror="alert(1)"> great <b>film</b>')
    assert not app.exception
    surprise = [str(block.proto.body) for block in app.get("html") if "line-height:1.9" in block.proto.body]
    assert len(surprise) == 1 and ">onerror</span>" in surprise[0] and ">film</span>" in surprise[0]
    assert "<img" not in surprise[0] and "<b>" not in surprise[0]


def test_suggestions_that_are_not_words_cannot_be_appended():
    """[UNK] ("some word outside the vocabulary") and the end of the review are shown but not clickable:
    appending "[UNK]" would type a word that the text cleaner then reads as "unk"."""
    from rnndemo.vocab import OOV_TOKEN

    app = open_page(PAGE, text="This movie was one of the")
    suggestions = [button for button in app.button if button.key and button.key.startswith("lm_next_")]
    not_words = [button for button in suggestions if button.label.split(" · ")[0] in (OOV_TOKEN, "</review>")]
    assert not_words, [button.label for button in suggestions]  # this text makes [UNK] a top-5 suggestion
    assert all(button.disabled for button in not_words)
    assert not any(button.disabled for button in suggestions if button not in not_words)


def generated_tables(app) -> list:
    return [frame.value for frame in app.dataframe if "likeliest draws here" in frame.value.columns]


def test_generation_excludes_unknown_by_default_notes_repeats_and_shows_the_alternatives(language_models):
    """Generation never writes [UNK] unless the visitor turns the switch off; under each model a computed note says
    which words repeat; each step lists the likeliest draws; the surprise colouring has a legend in nats and bits."""
    from rnndemo.next_word import continuation, repetition_note
    from rnndemo.vocab import OOV_TOKEN

    text = "This movie was one of the"
    app = open_page(PAGE, text=text)
    assert not app.exception and app.toggle(key="lm_exclude_unknown").value is True
    ids = language_models.vocabulary.encode_tokens(text.lower().split())
    words = language_models.vocabulary.words
    tables = generated_tables(app)
    assert len(tables) == len(language_models.neural_models())
    shown = all_text(app)
    for table, model in zip(tables, language_models.neural_models().values()):
        expected = continuation(model, ids, words, 10, 1.0, 40, 0, exclude_unknown=True)
        assert list(table["word"]) == [item.word for item in expected] and OOV_TOKEN not in list(table["word"])
        assert list(table["chance of this draw"]) == pytest.approx([item.chance for item in expected])
        first = " · ".join(f"{word} {chance:.1%}" for word, chance in expected[0].alternatives)
        assert table["likeliest draws here"].iloc[0] == first
        note = repetition_note(
            [item.word for item in expected if item.word != "</review>"], quote=lambda word: f"` {word} `"
        )
        assert note in shown
    legend = [str(block.proto.body) for block in app.get("html") if "surprise-legend" in str(block.proto.body)]
    assert len(legend) == 1 and "0 nats" in legend[0] and "≥ 12 nats" in legend[0] and "17.3 bits" in legend[0]
    assert "in nats (1 nat = 1/ln 2 ≈ 1.44 bits)" in shown
    app.toggle(key="lm_exclude_unknown").set_value(False).run()
    assert not app.exception
    for table, model in zip(generated_tables(app), language_models.neural_models().values()):
        assert list(table["word"]) == [item.word for item in continuation(model, ids, words, 10, 1.0, 40, 0)]
