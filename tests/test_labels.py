"""True labels: where a text's label comes from, and what each model did with it, read off its running prediction."""

import numpy as np
import pytest

from rnndemo import data
from rnndemo.evaluation import DECISION_THRESHOLD, Crossing, describe_verdict, verdict_story
from rnndemo.text import DEFAULT_TEXT

TOKENS = ["a", "b", "c", "d", "e"]


def test_every_crossing_of_the_threshold_is_found_in_order():
    story = verdict_story(1, 0.8, [0.3, 0.6, 0.7, 0.4, 0.8], TOKENS)
    assert story.crossings == (Crossing(2, "b", "positive"), Crossing(4, "d", "negative"), Crossing(5, "e", "positive"))
    assert story.first_side == "negative" and story.verdict == "positive" and story.correct
    assert story.closest is None and story.tokens_read == 5
    sentence = describe_verdict(story)
    assert sentence.startswith("right: positive, p(positive) = 0.80.")
    assert "crossed the 0.5 line 3 times" in sentence and "token 5, “e”, the very last token" in sentence


def test_the_threshold_itself_counts_as_positive():
    """As evaluation.decide: p = 0.5 is positive, so moving from 0.49 to 0.5 is a crossing."""
    story = verdict_story(0, DECISION_THRESHOLD, [0.49, DECISION_THRESHOLD], ["x", "y"])
    assert story.crossings == (Crossing(2, "y", "positive"),) and story.verdict == "positive"
    assert not story.correct and describe_verdict(story).startswith("wrong: positive")


def test_one_crossing_says_where_and_for_how_long_it_held():
    story = verdict_story(0, 0.2, [0.6, 0.4, 0.3, 0.2], TOKENS[:4])
    assert story.correct and story.crossings == (Crossing(2, "b", "negative"),)
    sentence = describe_verdict(story)
    assert "started positive and went negative at token 2, “b”" in sentence
    assert "stayed there for the last 2 tokens" in sentence


def test_a_model_that_never_crossed_names_the_token_that_came_closest():
    story = verdict_story(1, 0.3, [0.2, 0.45, 0.3], TOKENS[:3])
    assert not story.correct and story.crossings == () and story.closest == (2, "b", 0.45)
    sentence = describe_verdict(story)
    assert "stayed below 0.5 for all 3 tokens" in sentence and "token 2, “b” (p = 0.45)" in sentence
    above = verdict_story(1, 0.9, [0.9, 0.55, 0.8], TOKENS[:3])
    assert above.closest == (2, "b", 0.55) and "stayed above 0.5" in describe_verdict(above)


def test_without_a_trajectory_only_the_final_probability_counts():
    story = verdict_story(0, 0.7)
    assert story.verdict == "positive" and not story.correct and story.first_side is None
    assert "without their order" in describe_verdict(story)


def test_tokens_are_formatted_by_the_caller_and_lengths_must_match():
    story = verdict_story(1, 0.9, [0.2, 0.9], ["<b>x</b>", "great"])
    assert "[great]" in describe_verdict(story, quote=lambda token: f"[{token}]")
    with pytest.raises(ValueError, match="2 running predictions for 1 tokens"):
        verdict_story(1, 0.9, [0.2, 0.9], ["great"])


def test_the_stories_of_the_served_models_match_their_own_trajectories(bundle):
    """On the lesson's review, each loaded model's story is its own: its verdict, and one crossing per side change."""
    for name, prediction in bundle.classify(DEFAULT_TEXT).items():
        if not prediction.trajectory:
            continue
        story = verdict_story(1, prediction.probability_positive, prediction.trajectory, prediction.tokens)
        sides = np.asarray(prediction.trajectory) >= DECISION_THRESHOLD
        assert len(story.crossings) == int(np.sum(sides[1:] != sides[:-1])), name
        assert story.verdict == prediction.label and story.correct == (prediction.label == "positive"), name
        for crossing in story.crossings:
            assert prediction.tokens[crossing.position - 1] == crossing.token
            assert bool(sides[crossing.position - 1]) == (crossing.side == "positive")


def test_true_labels_come_from_the_lesson_or_the_dataset():
    assert data.true_label(DEFAULT_TEXT) == data.LESSON_LABEL and data.LESSON_LABEL.name == "positive"
    assert data.true_label("a review I wrote myself, in no dataset") is None and data.true_label("") is None
    splits = data.load_splits()
    for frame, source, trained_on in (
        (splits.test, "in the IMDB test split", False),
        (splits.train, "in the IMDB training split", True),
        (splits.rotten_tomatoes, "in the Rotten Tomatoes sentences", False),
    ):
        for label in (0, 1):
            text = frame[frame["label"] == label]["text"].iloc[3]
            truth = data.true_label(text)
            assert (truth.label, truth.source, truth.trained_on) == (label, source, trained_on)
    negative = data.sample_reviews("negative", 1, seed=4)[0]
    assert data.true_label(negative).name == "negative"
