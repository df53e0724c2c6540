"""Captions computed from the numbers, on texts and arrays built so that the answer is known."""

import numpy as np
import pytest

from rnndemo import explain
from rnndemo.inspect import log_odds

TOKENS = "the plot was thin but overall the acting was superb".split()


def test_lowest_forget_names_the_token_with_its_neighbours():
    forget = np.full((len(TOKENS), 4), 0.9)
    forget[5] = [0.1, 0.2, 0.9, 0.4]  # "overall": mean 0.4
    forget[2, 0] = 0.0  # one unit alone at 0 does not make the mean lowest (0.675)
    lowest = explain.lowest_mean(forget)
    assert lowest.position == 5 and lowest.value == pytest.approx(0.4)
    assert lowest.mean == pytest.approx(forget.mean())
    sentence = explain.forget_sentence(lowest, TOKENS)
    assert "token 6, 'overall' in '… thin but overall the acting …'" in sentence
    assert "(0.40)" in sentence


def test_context_marks_where_the_text_goes_on():
    assert explain.context(TOKENS, 0) == "the plot was …"
    assert explain.context(TOKENS, len(TOKENS) - 1) == "… acting was superb"
    assert explain.context(["only"], 0) == "only"


def test_moved_most_ranks_tokens_by_the_size_of_the_state_change():
    hidden = np.zeros((5, 2))
    hidden[0] = [0.3, 0.0]  # moves 0.3 from the zero start
    hidden[1] = [0.3, 0.0]  # no move
    hidden[2] = [0.3, 0.9]  # moves 0.9
    hidden[3] = [-0.3, 0.9]  # moves 0.6
    hidden[4] = [-0.3, 0.8]  # moves 0.1
    np.testing.assert_allclose(explain.state_moves(hidden), [0.3, 0.0, 0.9, 0.6, 0.1])
    assert explain.moved_most(hidden) == [2, 3, 0]
    words = ["a", "b", "c", "d", "e"]
    assert explain.moved_sentence("LSTM", hidden, words).endswith(
        "at 'c' (token 3, 0.90), 'd' (token 4, 0.60), 'a' (token 1, 0.30)."
    )


def test_importance_reach_is_the_earliest_token_over_a_tenth_of_the_largest():
    effects = np.array([0.05, -0.3, 0.0, 0.0, 2.0, -1.0, 0.1])  # largest 2.0: 0.2 counts, 0.05 and 0.1 do not
    reach = explain.importance_reach(effects)
    assert (reach.earliest, reach.tokens_back, reach.length) == (1, 6, 7)
    words = list("abcdefg")
    assert "reaches back 6 of 7 tokens from the end" in explain.reach_sentence("GRU", reach, words)
    assert explain.importance_reach(np.array([0.0, 0.0])) is None
    assert "no token changes" in explain.reach_sentence("GRU", None, words)
    whole = explain.importance_reach(np.array([-1.0, 0.0, 0.5]))
    assert whole.tokens_back == 3 and "the whole text" in explain.reach_sentence("RNN", whole, list("abc"))


def test_crossings_are_the_tokens_where_the_side_of_one_half_changes():
    trajectory = np.array([0.4, 0.45, 0.5, 0.7, 0.49, 0.2, 0.8])  # 0.5 itself counts as positive
    found = explain.crossings(trajectory)
    assert [(crossing.position, crossing.upwards) for crossing in found] == [(2, True), (4, False), (6, True)]
    sentence = explain.crossing_sentence("LSTM", trajectory, list("abcdefg"))
    assert sentence == (
        "LSTM: starts negative and crosses 0.5 3 times: "
        "up at 'c' (token 3), down at 'e' (token 5), up at 'g' (token 7)."
    )
    assert explain.crossing_sentence("LSTM", np.array([0.9, 0.8]), ["a", "b"]) == (
        "LSTM: never crossed 0.5; positive from the first token to the last."
    )
    assert "and 2 more" in explain.crossing_sentence("X", np.array([0.1, 0.9] * 5), list("abcdefghij"), limit=7)


def test_shared_scale_is_the_largest_effect_of_any_model():
    assert explain.shared_scale([np.array([0.1, -2.5]), np.array([1.0]), np.array([])]) == 2.5
    assert explain.shared_scale([np.zeros(3)]) == 1.0


def test_swing_names_the_words_whose_removal_flips_the_verdict():
    probability = 0.7  # logit +0.847
    effects = np.array([1.2, -0.4, 0.9, 0.3, 0.0])  # removing token 0 or 2 leaves a logit below 0
    swing = explain.verdict_swing(probability, effects)
    assert swing.positive and swing.flips == [0, 2] and swing.supporters == [0, 2, 3]
    for position in swing.flips:  # the definition, recomputed: the text without that token is negative
        assert log_odds(probability) - effects[position] < 0
    sentence = explain.swing_sentence("LSTM", swing, effects, list("abcde"))
    assert (
        sentence
        == "LSTM says positive; removing any one of these words alone flips it to negative: 'a' (+1.20), 'c' (+0.90)."
    )


def test_swing_without_a_flip_names_the_words_pushing_towards_the_verdict():
    probability = 0.05  # firmly negative: logit −2.94
    effects = np.array([-0.8, 0.5, -1.1, -0.2])
    swing = explain.verdict_swing(probability, effects)
    assert not swing.positive and swing.flips == [] and swing.supporters == [2, 0, 3]
    sentence = explain.swing_sentence("SimpleRNN", swing, effects, list("abcd"))
    assert sentence.endswith("towards negative: 'c' (-1.10), 'a' (-0.80), 'd' (-0.20).")
    nobody = explain.verdict_swing(0.05, np.array([0.5, 0.0]))
    assert nobody.supporters == [] and "no single word pushes" in explain.swing_sentence(
        "X", nobody, [0.5, 0.0], ["a", "b"]
    )


def test_sentences_quote_tokens_with_the_function_given():
    forget = np.ones((3, 2))
    forget[1] = 0.0
    sentence = explain.forget_sentence(explain.lowest_mean(forget), ["a", "*b*", "c"], quote=lambda text: f"<{text}>")
    assert "<*b*> in <a *b* c>" in sentence and "'" not in sentence.split("at token")[1]


@pytest.mark.parametrize(
    ("count", "noun", "expected"),
    [
        (0, "row", "0 rows"),
        (1, "row", "1 row"),
        (2, "row", "2 rows"),
        (2500, "cell", "2,500 cells"),
        (1, "call", "1 call"),
    ],
)
def test_counted_puts_the_noun_in_the_right_number(count, noun, expected):
    assert explain.counted(count, noun) == expected


def test_readable_cell_never_shows_none_and_separates_thousands():
    cells = [None, float("nan"), 12, 1234567, np.int64(20000), 0.89604, 12.345, 155.554, 1021.36, "GloVe", True]
    assert [explain.readable_cell(value) for value in cells] == [
        "–",
        "–",
        "12",
        "1,234,567",
        "20,000",
        "0.8960",
        "12.35",
        "155.6",
        "1,021.4",
        "GloVe",
        True,
    ]


def test_power_of_ten_is_written_with_superscripts():
    assert explain.power_of_ten(1e-6) == "10⁻⁶" and explain.power_of_ten(1000.0) == "10³"
    assert explain.power_of_ten(0.5) == "0.5"


def test_most_active_units_are_those_that_vary_most_over_the_text():
    """The chosen units are the `count` columns with the largest standard deviation, listed in unit order."""
    import numpy as np

    from rnndemo.explain import most_active_units

    generator = np.random.default_rng(0)
    values = generator.normal(size=(30, 10)) * np.arange(1, 11)  # unit u varies about u + 1 times as much
    values[:, 2] *= 50  # unit 2 varies most of all
    chosen = most_active_units(values, 3)
    spreads = values.std(axis=0)
    assert list(chosen) == sorted(np.argsort(spreads)[-3:].tolist())
    assert 2 in chosen and list(chosen) == sorted(chosen)
    assert list(most_active_units(values, 99)) == list(range(10))


def test_a_heatmap_of_chosen_units_draws_those_rows_named_by_unit():
    import numpy as np

    from rnndemo.token_plots import heatmap

    values = np.arange(12, dtype=float).reshape(3, 4)  # (time, units)
    figure = heatmap(values, ["a", "b", "c"], "h", units=np.array([1, 3]))
    trace = figure.data[0]
    assert list(trace.y) == ["unit 1", "unit 3"]
    assert np.array_equal(np.asarray(trace.z), values[:, [1, 3]].T)


# --------------------------------------------------------------------------- the "why it said that" card

CARD_TOKENS = "a lovely film but the ending was a mess".split()


class Counts:
    """A stand-in for word_statistics.WordStatistics: "mess" in 10 reviews (2 positive), "lovely" in 20 (18)."""

    reviews, positive_reviews, positive_share = 100, 50, 0.5

    def of(self, word):
        from rnndemo.word_statistics import WordCount

        return {"mess": WordCount("mess", 10, 2), "lovely": WordCount("lovely", 20, 18)}.get(word)


def test_a_card_is_for_a_wrong_or_an_uncertain_verdict():
    assert explain.card_reason(0.2, 1) == "wrong" and explain.card_reason(0.7, 0) == "wrong"
    assert explain.card_reason(0.55, 1) == "uncertain" and explain.card_reason(0.4, None) == "uncertain"
    assert explain.card_reason(0.6, None) == "uncertain" and explain.card_reason(0.61, 1) is None
    assert explain.card_reason(0.9, None) is None and explain.card_reason(0.1, 0) is None
    assert explain.card_reason(0.5, 0) == "wrong"  # 0.5 is positive, as evaluation.decide says


def test_the_card_names_the_last_crossing_the_flipping_words_their_counts_and_the_gate():
    trajectory = np.array([0.4, 0.8, 0.7, 0.6, 0.6, 0.55, 0.6, 0.4, 0.3])  # up at "lovely", down at the second "a"
    effects = np.zeros(len(CARD_TOKENS))
    effects[8] = -1.5  # "mess": without it, logit 0.3 + 1.5 > 0, so removing it alone flips the verdict
    effects[1] = 0.9  # "lovely" pushed the other way
    forget = np.full((len(CARD_TOKENS), 2), 0.9)
    forget[4] = 0.1  # "the": the lowest forget gate
    card = explain.why_card(
        reason="wrong",
        trajectory=trajectory,
        tokens=CARD_TOKENS,
        effects=effects,
        statistics=Counts(),
        gates={"forget": forget, "input": forget},
    )
    assert card.last_crossing == explain.Crossing(7, False) and card.crossing_count == 2
    assert [item.token for item in card.flips] == ["mess"] and card.supporters == ()
    assert card.flips[0].counts.reviews == 10 and card.step == 7 and not card.positive
    assert card.gate[0] == "forget" and card.gate[1].position == 4
    sentences = explain.card_sentences(card, CARD_TOKENS, Counts())
    assert sentences[0] == (
        "Its running prediction crossed 0.5 for the last time at token 8, 'a', going negative (2 times in all)."
    )
    assert sentences[1] == (
        "Removing any one of these words alone flips it to positive: "
        "'mess' (token 9, -1.50 log-odds; in 10 training reviews, 20% of them positive)."
    )
    assert sentences[2] == "For scale: of all 100 training reviews, 50% are positive."
    assert sentences[3].startswith("The mean forget gate over units") and "token 5, 'the'" in sentences[3]


def test_without_a_flipping_word_the_card_names_the_strongest_and_without_counts_says_nothing_of_them():
    trajectory = np.array([0.3, 0.2, 0.25, 0.1])  # never crossed: negative from the first token
    effects = np.array([-0.2, -0.9, 0.1, -0.4])  # none flips a p of 0.1 alone
    tokens = ["mess", "lovely", "film", "zzz"]
    update = np.full((4, 3), 0.8)
    update[3] = 0.2
    card = explain.why_card(
        reason="uncertain",
        trajectory=trajectory,
        tokens=tokens,
        effects=effects,
        statistics=Counts(),
        gates={"update": update, "reset": update},
    )
    assert card.last_crossing is None and card.flips == ()
    assert [item.token for item in card.supporters] == ["lovely", "zzz", "mess"] and card.step == 1
    sentences = explain.card_sentences(card, tokens, Counts())
    assert sentences[0] == "Its running prediction never crossed 0.5: it was negative from the first token."
    assert "No single word's removal flips it. The words pushing hardest towards negative: 'lovely'" in sentences[1]
    assert "'zzz' (token 4, -0.40 log-odds; not a word of the vocabulary, so no training counts)" in sentences[1]
    assert "GRU rewrites most of its state, at token 4, 'zzz'" in sentences[-1]
    bare = explain.card_sentences(
        explain.why_card(reason="uncertain", trajectory=trajectory, tokens=tokens, effects=effects), tokens
    )
    assert len(bare) == 2 and "'lovely' (token 2, -0.90 log-odds);" in bare[1] and "training" not in " ".join(bare)


@pytest.mark.slow
def test_the_lesson_reviews_cards_say_what_issue_22_found(bundle):
    """On the lesson's Bait excerpt: removing "favor" alone flips the LSTM, and "favor" is in 199 training
    reviews, 34% of them positive; the GRU's update gate is lowest at "suffers"; the SimpleRNN is right but
    uncertain."""
    from rnndemo import word_statistics
    from rnndemo.inspect import Inspector, log_odds_importance
    from rnndemo.text import DEFAULT_TEXT

    from .conftest import MODELS_DIR

    statistics = word_statistics.load(MODELS_DIR, bundle.manifest, bundle.vocabulary)
    cards = {}
    for name in ("rnn", "lstm", "gru"):
        inspector = Inspector(bundle.classifiers[name])
        inspection = inspector.inspect(DEFAULT_TEXT)
        _, importance = inspector.importance(inspection.ids)
        cards[name] = explain.why_card(
            reason=explain.card_reason(float(inspection.trajectory[-1]), 1),
            trajectory=inspection.trajectory,
            tokens=inspection.tokens,
            effects=log_odds_importance(inspection.trajectory[-1], importance),
            statistics=statistics,
            gates=inspection.gates,
        )
        tokens = inspection.tokens
    assert {name: card.reason for name, card in cards.items()} == {"rnn": "uncertain", "lstm": "wrong", "gru": "wrong"}
    (favor,) = cards["lstm"].flips
    assert favor.token == "favor" and (favor.counts.reviews, favor.counts.positive) == (199, 67)
    assert cards["lstm"].last_crossing.position + 1 == 102 and tokens[101] == "and"
    gate, lowest = cards["gru"].gate
    assert gate == "update" and tokens[lowest.position] == "suffers"
    assert statistics.reviews == 19_904  # the train split alone
