"""rnndemo.links: how an option is written into a link and read back, and the sentence for a value it cannot take."""

from __future__ import annotations

import pytest

from rnndemo import links

HORIZON = links.Choice("the horizon h", ("1", "13", "52"), "13")
MODELS = links.Choices("the models", ("rnn", "lstm", "gru"), ("rnn", "lstm"))
STEP = links.WholeNumber("the step", 1, 26, 26)


def test_a_choice_is_written_unless_it_is_the_default_and_read_back():
    assert HORIZON.write("13") is None and HORIZON.write("52") == "52"
    assert HORIZON.read(None) == ("13", None) and HORIZON.read("52") == ("52", None)
    assert HORIZON.read("7") == (
        "13",
        "This link sets the horizon h to '7', which this page does not offer (it offers 1, 13, 52), "
        "so it shows the default, 13.",
    )
    assert "sets the horizon h to nothing" in HORIZON.read(" ")[1]


def test_a_long_list_of_options_is_summarised():
    days = links.Choice("the day", tuple(f"day {number}" for number in range(1, 21)), "day 1")
    assert "it offers 20 values from day 1 to day 20" in days.read("x")[1]


def test_choices_are_written_in_the_lists_order_and_an_empty_parameter_means_none():
    assert MODELS.write(["lstm", "rnn"]) is None  # the default, whatever the order
    assert MODELS.write(["gru", "rnn"]) == "rnn,gru" and MODELS.write([]) == ""
    assert MODELS.read("") == ((), None) and MODELS.read(" , ") == ((), None)
    assert MODELS.read("gru,rnn,gru") == (("rnn", "gru"), None)
    kept, problem = MODELS.read("gru,cnn")
    assert kept == ("gru",) and problem.endswith(
        "lists 'cnn' in the models, which this page does not offer (it offers rnn, lstm, gru), so they are left out."
    )
    kept, problem = MODELS.read("cnn")
    assert kept == ("rnn", "lstm") and problem.endswith("and nothing else, so it shows the default: rnn, lstm.")


@pytest.mark.parametrize(("value", "number"), [("1", 1), ("26", 26), (" 7 ", 7), ("007", 7)])
def test_a_whole_number_from_low_to_high_is_taken(value, number):
    assert STEP.read(value) == (number, None)


@pytest.mark.parametrize("value", ["0", "27", "abc", "", "3.5", "1e1", "nan", "-1", "٣", "9" * 400])
def test_anything_else_is_the_default_with_a_sentence(value):
    step, problem = STEP.read(value, quote=lambda text: f"«{text}»")
    assert step == 26 and problem.endswith("which is not a whole number from 1 to 26, so it shows the default, 26.")
    assert (f"«{value}»" if value else "nothing") in problem


def test_a_whole_number_is_written_unless_it_is_the_default():
    assert STEP.write(26) is None and STEP.write(3) == "3"
