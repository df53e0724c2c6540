"""Batch uploads: encodings, bad files, row limits, labels and CSV-injection-safe downloads."""

import io

import numpy as np
import pandas as pd
import pytest

from rnndemo.batch import (
    UploadError,
    csv_bytes,
    csv_safe,
    guess_label_column,
    guess_text_column,
    label_columns,
    parse_labels,
    parse_upload,
    results_frame,
)


def test_utf8_csv_with_text_and_label():
    parsed = parse_upload(b"text,label\nGreat film,1\nAwful,0\n", "reviews.csv")
    assert parsed.kind == "csv" and parsed.frame["text"].tolist() == ["Great film", "Awful"]
    assert guess_text_column(parsed.frame) == "text"
    assert parse_labels(parsed.frame["label"]).tolist() == [1, 0]


def test_utf16_with_bom_and_utf8_bom_decode():
    assert parse_upload("text\nCafé crème\n".encode("utf-16"), "a.csv").frame["text"][0] == "Café crème"
    assert parse_upload("\ufefftext\nok\n".encode("utf-8"), "a.csv").frame.columns.tolist() == ["text"]


def test_latin1_is_refused_with_advice():
    with pytest.raises(UploadError, match="not UTF-8"):
        parse_upload("text\ncaf\xe9\n".encode("latin-1"), "a.csv")


@pytest.mark.parametrize(
    "raw, name, message",
    [
        (b"", "a.csv", "empty"),
        (b"   \n\n", "a.txt", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image.csv", "binary"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "archive.csv", "binary"),
        (b"\xff\xd8\xff\xe1 Exif data", "photo.csv", "not UTF-8"),
        (b'a,b\n1,2,3,4\n"unclosed', "broken.csv", "could not be read"),
    ],
)
def test_bad_files_get_a_clear_message(raw, name, message):
    with pytest.raises(UploadError, match=message):
        parse_upload(raw, name)


def test_size_and_row_limits():
    with pytest.raises(UploadError, match="limit is 1 MB"):
        parse_upload(b"x" * (1024 * 1024 + 1), "big.txt", max_megabytes=1)
    parsed = parse_upload("\n".join(f"review {i}" for i in range(30)).encode(), "many.txt", max_rows=10)
    assert len(parsed.frame) == 10 and parsed.truncated_rows == 20 and parsed.kind == "lines"


def test_no_text_column_is_detected():
    frame = pd.DataFrame({"id": ["1", "2"], "score": ["5", "3"]})
    assert guess_text_column(frame) is None


def test_label_values_are_checked():
    labels = parse_labels(pd.Series(["positive", "NEG", " 1 ", "false", "Good", "BAD ", "TRUE"]))
    assert labels.tolist() == [1, 0, 1, 0, 1, 0, 1]
    with pytest.raises(UploadError, match="other than .*: 'maybe'$"):
        parse_labels(pd.Series(["1", "maybe"]))


def test_empty_label_cells_are_unlabelled_rows():
    labels = parse_labels(pd.Series(["pos", "", "  ", "neg"]))
    assert labels[0] == 1 and labels[3] == 0 and np.isnan(labels[1]) and np.isnan(labels[2])


def test_odd_label_values_are_named_a_few_at_a_time():
    """The message names the first few odd values as typed (trimmed, once each) and counts the rest."""
    values = pd.Series(["pos", " 5 ", "5", "meh", "7", "8", "9", "10", "11", "neg"])
    with pytest.raises(UploadError) as raised:
        parse_labels(values)
    message = str(raised.value)
    assert message.endswith("'5', 'meh', '7', '8', '9' and 2 more")
    assert "'10'" not in message and "'pos'" not in message


def test_label_columns_are_offered_by_name_or_by_values():
    frame = pd.DataFrame(
        {
            "review": ["Great film", "Awful", "Fine"],
            "Rating": ["9", "2", "5"],  # a label name, but star ratings: offered, not pre-selected
            "verdict": [" Pos", "NEG", ""],  # an unknown name, but only label values (one empty)
            "liked": ["1", "0", "1"],
            "id": ["1", "2", "3"],
            "blank": ["", "", ""],
        }
    )
    assert label_columns(frame, "review") == ["Rating", "verdict", "liked"]
    assert guess_label_column(frame, "review") == "verdict"  # the first column whose values are labels
    assert label_columns(frame, "verdict") == ["Rating", "liked"]  # never the text column


def test_a_label_like_name_with_label_values_is_preferred():
    frame = pd.DataFrame({"text": ["a", "b"], "flag": ["true", "false"], "Sentiment ": ["good", "bad"]})
    assert guess_label_column(frame, "text") == "Sentiment "
    assert guess_label_column(pd.DataFrame({"text": ["a"], "label": ["maybe"]}), "text") is None


def test_results_keep_the_visitors_columns_and_add_each_models_verdict():
    frame = pd.DataFrame(
        {
            "text": ["Great", "Awful", "!!!", "Fine"],
            "sentiment": ["pos", "pos", "neg", ""],
            "note": ["a", "b", "c", "d"],
        }
    )
    labels = parse_labels(frame["sentiment"])
    results = results_frame(frame, {"lstm": np.array([0.9, 0.2, np.nan, 0.7])}, labels)
    assert results.columns.tolist() == [
        "text",
        "sentiment",
        "note",
        "p_positive_lstm",
        "label_lstm",
        "right_or_wrong_lstm",
    ]
    pd.testing.assert_frame_equal(results[frame.columns], frame)  # pos/neg stay pos/neg
    assert results["label_lstm"].tolist() == ["positive", "negative", "no words", "positive"]
    # No words, or no label: nothing to call right or wrong.
    assert results["right_or_wrong_lstm"].tolist() == ["right", "wrong", "", ""]
    assert frame.columns.tolist() == ["text", "sentiment", "note"]  # the visitor's frame is not modified


def test_results_without_labels_have_no_right_or_wrong_column():
    results = results_frame(pd.DataFrame({"text": ["Great"]}), {"rnn": np.array([0.2]), "lstm": np.array([0.6])}, None)
    assert results.columns.tolist() == ["text", "p_positive_rnn", "label_rnn", "p_positive_lstm", "label_lstm"]


def test_added_column_names_never_replace_the_visitors():
    frame = pd.DataFrame({"text": ["Great"], "p_positive_lstm": ["mine"], "label_lstm": ["mine too"]})
    frame["label_lstm_2"] = "and mine"
    results = results_frame(frame, {"lstm": np.array([0.9])}, np.array([1.0]))
    assert results.columns.tolist() == [
        "text",
        "p_positive_lstm",
        "label_lstm",
        "label_lstm_2",
        "p_positive_lstm_2",
        "label_lstm_3",
        "right_or_wrong_lstm",
    ]
    assert results.iloc[0, :4].tolist() == ["Great", "mine", "mine too", "and mine"]
    assert results.iloc[0, 4:].tolist() == [0.9, "positive", "right"]


def test_the_downloaded_csv_reads_back_with_the_visitors_values():
    parsed = parse_upload(b"id,Review,polarity\n7,A fine film,pos\n8,Dull,neg\n", "mine.csv")
    labels = parse_labels(parsed.frame["polarity"])
    results = results_frame(parsed.frame, {"lstm": np.array([0.8, 0.7])}, labels)
    back = pd.read_csv(io.BytesIO(csv_bytes(results)), dtype=str, keep_default_na=False)
    assert back.columns.tolist()[:3] == ["id", "Review", "polarity"]
    assert back["id"].tolist() == ["7", "8"] and back["polarity"].tolist() == ["pos", "neg"]
    assert back["right_or_wrong_lstm"].tolist() == ["right", "wrong"]


def test_csv_injection_is_neutralised_in_downloads():
    frame = pd.DataFrame({"text": ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "\tx", "fine"], "p": [0.1] * 6})
    safe = csv_safe(frame)
    assert safe["text"].tolist() == ["'=cmd|' /C calc'!A0", "'+1", "'-2", "'@SUM(A1)", "'\tx", "fine"]
    assert frame["text"][0].startswith("=")  # the original is not modified


def test_a_formula_after_a_line_break_inside_a_cell_gets_its_own_quote():
    """A line break inside a quoted cell starts a new line in the spreadsheet: a formula there is neutralised too;
    numbers and other values pass through."""
    from rnndemo.batch import neutralise_cell

    assert neutralise_cell("fine\n=1+1\r+2\nok") == "fine\n'=1+1\r'+2\nok"
    assert neutralise_cell("=A1\n@B2") == "'=A1\n'@B2"
    assert neutralise_cell(0.5) == 0.5 and neutralise_cell(None) is None


def test_a_column_of_mixed_values_is_neutralised_too():
    """A column pandas cannot call text (strings beside numbers) still holds strings a spreadsheet would run."""
    safe = csv_safe(pd.DataFrame({"mixed": ["=cmd", 5], "p": [0.25, 0.75]}))
    assert safe["mixed"].tolist() == ["'=cmd", 5] and safe["p"].tolist() == [0.25, 0.75]


def test_the_download_quotes_every_field_ends_lines_with_crlf_and_is_utf8():
    assert csv_bytes(pd.DataFrame({"text": ["café", "=1"], "p": [0.5, 1.0]})) == (
        '"text","p"\r\n"café","0.5"\r\n"\'=1","1.0"\r\n'.encode()
    )


# --- Issue 25: the header check and every line ending ---------------------------------------------------------


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "bare CR"])
def test_every_line_ending_is_read_the_same(ending):
    """Excel's "CSV (Macintosh)" ends lines with a bare CR: read like any other CSV; a line break inside a
    quoted cell stays in its cell."""
    raw = ending.join(["text,label", "Great film,1", f'"two{ending}lines",0', "Awful,0", ""]).encode()
    parsed = parse_upload(raw, "reviews.csv")
    assert parsed.frame.to_dict("list") == {
        "text": ["Great film", f"two{ending}lines", "Awful"],
        "label": ["1", "0", "0"],
    }


@pytest.mark.parametrize(
    "first_row", [b"a" * 140_000 + b",label", b'"' + b"a" * 140_000 + b'",label'], ids=["plain", "quoted"]
)
def test_a_header_cell_longer_than_the_csv_modules_limit_gets_a_clear_message(first_row):
    """Python's csv module stops at 131,072 characters a cell; the first row names the columns, so such a cell
    is refused with a message the page shows (an UploadError), never a crash."""
    with pytest.raises(UploadError, match="first row"):
        parse_upload(first_row + b"\nx,1\n", "long_header.csv")
