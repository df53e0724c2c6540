"""Batch uploads: encodings, bad files, row limits, labels and CSV-injection-safe downloads."""

import pandas as pd
import pytest

from rnndemo.batch import UploadError, csv_safe, guess_text_column, parse_labels, parse_upload


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
    assert parse_labels(pd.Series(["positive", "NEG", " 1 ", "false"])).tolist() == [1, 0, 1, 0]
    with pytest.raises(UploadError, match="other than"):
        parse_labels(pd.Series(["1", "maybe"]))


def test_csv_injection_is_neutralised_in_downloads():
    frame = pd.DataFrame({"text": ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "\tx", "fine"], "p": [0.1] * 6})
    safe = csv_safe(frame)
    assert safe["text"].tolist() == ["'=cmd|' /C calc'!A0", "'+1", "'-2", "'@SUM(A1)", "'\tx", "fine"]
    assert frame["text"][0].startswith("=")  # the original is not modified
