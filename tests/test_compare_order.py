"""The DFN and the 1-D CNN on the pages (issue 24): the order test's sentence, the shuffle, reverse and swap row, the
minimal pairs, the Inside page's "not recurrent" note and their model cards."""

import pytest

from rnndemo import order_test
from rnndemo.registry import DISPLAY_NAMES

from .apptest_support import all_text, open_page


def _committed_order_test(bundle) -> dict:
    result = order_test.load_order_test(bundle.models_dir, bundle.manifest)
    if result is None:
        pytest.skip("no committed order test (python -m rnndemo order-test)")
    return result


@pytest.mark.slow
def test_compare_states_the_claim_computed_from_the_committed_order_test(bundle):
    """A teacher reads, on RNN vs LSTM vs GRU, what shuffling costs the LSTM and the DFN: the numbers of the file."""
    result = _committed_order_test(bundle)
    app = open_page("pages/compare.py")
    assert not app.exception, [e.value for e in app.exception]
    sentence = order_test.claim(result, DISPLAY_NAMES)
    assert sentence.startswith("On 2,500 held-out test reviews, shuffling the words costs the LSTM")
    assert sentence in all_text(app)


@pytest.mark.slow
def test_shuffle_and_reverse_show_each_models_new_verdict_beside_the_old(bundle):
    """A visitor presses Shuffle, then Reverse: every model's verdict on the reordered words appears beside its
    verdict on the text as written, with a sentence that says what changed; the DFN's p does not move."""
    text = "I expected to hate it but loved it"
    app = open_page("pages/compare.py", text)
    app.button(key="compare_reverse").click().run()
    assert not app.exception, [e.value for e in app.exception]
    table = app.dataframe[0].value
    assert list(table.columns) == ["model", "as written", "words reversed"]
    assert set(table["model"]) == {DISPLAY_NAMES[name] for name in bundle.names()}
    assert "it loved but it hate to expected i" in all_text(app)
    written = bundle.classify(text)
    reversed_ = bundle.classify("it loved but it hate to expected i")
    row = table[table["model"] == DISPLAY_NAMES["dfn"]].iloc[0]
    assert row["as written"] == f"{written['dfn'].label} ({written['dfn'].probability_positive:.3f})"
    assert row["as written"] == row["words reversed"]
    lstm = table[table["model"] == "LSTM"].iloc[0]
    assert lstm["words reversed"] == f"{reversed_['lstm'].label} ({reversed_['lstm'].probability_positive:.3f})"
    assert "Change in p(positive):" in all_text(app)
    app.button(key="compare_shuffle").click().run()
    assert not app.exception
    assert "words shuffled" in app.dataframe[0].value.columns


def test_swapping_two_chosen_words_shows_each_models_verdict_on_the_swapped_text(bundle):
    """A visitor picks positions 4 (“hate”) and 7 (“loved”) and presses Swap: each model's verdict on the swapped
    words appears beside its verdict on the text as written, equal to the model's own prediction of the swapped
    sentence (written out by hand here), with the computed sentence about what changed."""
    text = "I expected to hate it but loved it"
    app = open_page("pages/compare.py", text)
    assert not app.exception, [e.value for e in app.exception]
    app.number_input(key="compare_swap_first").set_value(4)
    app.number_input(key="compare_swap_second").set_value(7).run()
    captions = [str(caption.value) for caption in app.caption]
    assert "4: “hate”" in captions and "7: “loved”" in captions
    app.button(key="compare_swap").click().run()
    assert not app.exception, [e.value for e in app.exception]
    swapped = "i expected to loved it but hate it"
    assert swapped in [element.value for element in app.text]  # shown as it is, with no code-span backticks
    table = app.dataframe[0].value
    assert list(table.columns) == ["model", "as written", "words 4 and 7 swapped"]
    written, after = bundle.classify(text), bundle.classify(swapped)
    assert set(after) == set(bundle.names())
    for name in bundle.names():
        row = table[table["model"] == DISPLAY_NAMES[name]].iloc[0]
        assert row["as written"] == f"{written[name].label} ({written[name].probability_positive:.3f})"
        assert row["words 4 and 7 swapped"] == f"{after[name].label} ({after[name].probability_positive:.3f})"
    before = {name: prediction.probability_positive for name, prediction in written.items()}
    sentence = order_test.change_sentence(
        before, {name: prediction.probability_positive for name, prediction in after.items()}, DISPLAY_NAMES
    )
    assert sentence in all_text(app)


@pytest.mark.slow
def test_swapping_a_word_with_itself_says_so_instead_of_scoring():
    """The same position twice gets the swap function's message, and no table."""
    app = open_page("pages/compare.py", "not bad at all")
    app.number_input(key="compare_swap_second").set_value(1).run()
    app.button(key="compare_swap").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert "Pick two different positions: both are position 1 (“not”)." in [str(w.value) for w in app.warning]
    assert not app.dataframe


@pytest.mark.slow
def test_a_minimal_pair_loads_and_is_scored_by_every_model(bundle):
    """A visitor picks a minimal pair, sees each model's verdict on both sentences, and loads the second."""
    app = open_page("pages/compare.py")
    app.selectbox(key="compare_pair").select(1).run()
    assert not app.exception, [e.value for e in app.exception]
    text = all_text(app)
    for sentence, label in order_test.MINIMAL_PAIRS[1]:
        verdicts = bundle.classify(sentence)
        verdict = verdicts["cnn"].label
        assert f"“{sentence}” ({label}):" in text
        assert f"{DISPLAY_NAMES['cnn']} {verdict} {'✓' if verdict == label else '✗'}" in text
        assert len(verdicts) == 6
    second = order_test.MINIMAL_PAIRS[1][1][0]
    app.button(key="compare_pair_load_1").click().run()
    assert not app.exception
    assert app.session_state["review_text"] == second


@pytest.mark.slow
def test_inside_says_the_dfn_and_cnn_are_not_recurrent():
    """A visitor on Inside the RNN is told why the DFN and the CNN are not offered: they are not recurrent."""
    app = open_page("pages/inside.py")
    assert not app.exception
    assert "are not recurrent" in all_text(app)
    assert DISPLAY_NAMES["dfn"] not in app.radio(key="inside_model").options


@pytest.mark.slow
def test_model_cards_describe_the_dfn_and_the_cnn(bundle):
    """Model cards show a card for the DFN and the CNN, with their held-out accuracy from the manifest."""
    app = open_page("pages/model_cards.py")
    assert not app.exception
    text = all_text(app)
    for name in ("dfn", "cnn"):
        assert name in bundle.manifest["models"]
        assert DISPLAY_NAMES[name] in text
