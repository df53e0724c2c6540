"""Batch check: reading an uploaded file of reviews safely, and scoring it.

Uploads are parsed as text only (CSV via pandas or one review per line); nothing
a visitor uploads is ever unpickled or executed.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnndemo.config import LIMITS
from rnndemo.evaluation import decide

# Formula characters a spreadsheet acts on at the start of a cell, or of a line inside a quoted cell.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_AFTER_BREAK = re.compile(r"([\r\n])(?=[=+\-@\t\r])")
CSV_ENCODING = "utf-8"  # downloads are UTF-8 whatever the server's locale


class UploadError(ValueError):
    """An upload that cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class ParsedUpload:
    frame: pd.DataFrame  # all columns as strings
    encoding: str  # the encoding that decoded the bytes
    truncated_rows: int  # rows beyond the row limit that were dropped
    kind: str  # "csv" or "lines"
    cut_cells: int = 0  # cells longer than the text limit, cut to their last characters


def decode_bytes(raw: bytes) -> tuple[str, str]:
    """Decode uploaded bytes as UTF-8 (with or without BOM) or UTF-16 (with BOM); refuse binaries."""
    if not raw.strip():
        raise UploadError("the file is empty")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as error:
            raise UploadError("the file says it is UTF-16 but does not decode as UTF-16") from error
    if b"\x00" in raw[:4096]:
        raise UploadError(
            "the file looks binary (it contains NUL bytes), not a CSV or text file; save it as UTF-8 CSV or plain text"
        )
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as error:
        raise UploadError(
            f"the file is not UTF-8 (byte {error.start} is invalid); "
            "in your editor choose 'Save as… UTF-8' and upload it again"
        ) from error


def header_columns(text: str) -> int:
    """The number of cells in the CSV's first row; UploadError when Python's csv module cannot read it.

    newline="" lets the reader end a row at LF, CRLF or a bare CR (Excel's "CSV (Macintosh)"), as pandas does,
    and keeps a line break inside a quoted cell in its cell. The module also stops at a cell of more than
    csv.field_size_limit() characters: a first row like that holds no column names.
    """
    try:
        return len(next(csv.reader(io.StringIO(text, newline="")), []))
    except csv.Error as error:
        if "field limit" in str(error):
            raise UploadError(
                f"the CSV's first row has a cell of more than {csv.field_size_limit():,} characters (an unclosed "
                "quote?); the first row should name the columns, for example text,label"
            ) from error
        raise UploadError(f"the CSV's first row could not be read ({str(error)[:200]})") from error


def parse_upload(
    raw: bytes, file_name: str, max_rows: int = LIMITS.max_batch_rows, max_megabytes: int = LIMITS.max_upload_megabytes
) -> ParsedUpload:
    """A CSV (by name) or plain text with one review per line, as a DataFrame of strings."""
    if len(raw) > max_megabytes * 1024 * 1024:
        raise UploadError(f"the file is {len(raw) / 1e6:.1f} MB; the limit is {max_megabytes} MB")
    text, encoding = decode_bytes(raw)
    if file_name.lower().endswith(".csv"):
        columns = header_columns(text)  # the header alone, checked before pandas reads a wide file
        if columns > LIMITS.max_batch_columns:
            raise UploadError(f"the CSV has {columns:,} columns; the limit is {LIMITS.max_batch_columns}")
        try:
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, on_bad_lines="error")
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as error:
            raise UploadError(f"the CSV could not be read ({str(error).splitlines()[0][:200]})") from error
        if frame.empty or len(frame.columns) == 0:
            raise UploadError("the CSV has no rows")
        kind = "csv"
    else:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if not lines:
            raise UploadError("the file has no non-empty lines")
        frame = pd.DataFrame({"text": lines})
        kind = "lines"
    truncated = max(0, len(frame) - max_rows)
    frame = frame.iloc[:max_rows].reset_index(drop=True)
    long_cells = frame.map(lambda value: len(value) > LIMITS.max_text_characters)
    cut_cells = int(long_cells.to_numpy().sum())
    if cut_cells:  # as for a pasted text: the end is kept, because the models read the end
        frame = frame.map(lambda value: value[-LIMITS.max_text_characters :])
    return ParsedUpload(frame, encoding, truncated, kind, cut_cells)


def guess_text_column(frame: pd.DataFrame) -> str | None:
    """The column most likely to hold reviews: named like text/review, else the longest on average."""
    for name in frame.columns:
        if str(name).strip().lower() in ("text", "review", "reviews", "sentence", "comment"):
            return name
    lengths = {name: frame[name].astype(str).str.len().mean() for name in frame.columns}
    best = max(lengths, key=lengths.get) if lengths else None
    return best if best is not None and lengths[best] >= 10 else None


# Column names that announce labels (compared trimmed and lowercase).
LABEL_COLUMN_NAMES = frozenset({"sentiment", "label", "rating", "polarity", "class", "target"})
# Cell values read as labels (compared trimmed and lowercase): 1 is positive, 0 negative.
LABEL_VALUES = {
    "1": 1,
    "0": 0,
    "pos": 1,
    "neg": 0,
    "positive": 1,
    "negative": 0,
    "true": 1,
    "false": 0,
    "good": 1,
    "bad": 0,
}
LABEL_VALUES_TEXT = "1/0, pos/neg, positive/negative, true/false or good/bad"
SHOWN_ODD_VALUES = 5  # at most this many unrecognised label values are named in a message


def _label_keys(values: pd.Series) -> pd.Series:
    """Cells as compared with LABEL_VALUES: trimmed and lowercase."""
    return values.astype(str).str.strip().str.lower()


def unrecognised_labels(values: pd.Series) -> list[str]:
    """The distinct non-empty cells that are not a recognised label, trimmed, in order of first appearance."""
    keys = _label_keys(values)
    odd = (keys != "") & ~keys.isin(list(LABEL_VALUES))
    return list(dict.fromkeys(values[odd].astype(str).str.strip()))


def holds_labels(values: pd.Series) -> bool:
    """True when the column has a non-empty cell and every non-empty cell is a recognised label."""
    return bool((_label_keys(values) != "").any()) and not unrecognised_labels(values)


def label_columns(frame: pd.DataFrame, text_column: str) -> list[str]:
    """The columns offered as labels: named like labels or holding only label values (not the text column)."""
    return [
        column
        for column in frame.columns
        if column != text_column and (str(column).strip().lower() in LABEL_COLUMN_NAMES or holds_labels(frame[column]))
    ]


def guess_label_column(frame: pd.DataFrame, text_column: str) -> str | None:
    """The label column to pre-select: one whose values are all labels, a label-like name first."""
    usable = [column for column in label_columns(frame, text_column) if holds_labels(frame[column])]
    named = [column for column in usable if str(column).strip().lower() in LABEL_COLUMN_NAMES]
    return (named or usable or [None])[0]


def parse_labels(values: pd.Series) -> np.ndarray:
    """Labels as 1.0 (positive) / 0.0 (negative), NaN for an empty cell; UploadError naming the odd values."""
    odd = unrecognised_labels(values)
    if odd:
        shown = ", ".join(repr(value[:40]) for value in odd[:SHOWN_ODD_VALUES])
        more = f" and {len(odd) - SHOWN_ODD_VALUES:,} more" if len(odd) > SHOWN_ODD_VALUES else ""
        raise UploadError(f"the label column has values other than {LABEL_VALUES_TEXT}: {shown}{more}")
    return _label_keys(values).map(LABEL_VALUES).to_numpy(dtype=float)


def free_column_name(wanted: str, taken: set[str]) -> str:
    """`wanted`, or `wanted_2`, `wanted_3`, … : the first that is not in `taken`."""
    name, number = wanted, 1
    while name in taken:
        number += 1
        name = f"{wanted}_{number}"
    return name


def results_frame(frame: pd.DataFrame, probabilities: dict[str, np.ndarray], labels: np.ndarray | None) -> pd.DataFrame:
    """The visitor's columns unchanged, then per model its p(positive), its label and, against the visitor's
    labels, right or wrong. Added names never replace a visitor's column: they get a number instead."""
    results = frame.copy()
    taken = {str(column) for column in results.columns}

    def add(wanted: str, values) -> None:
        name = free_column_name(wanted, taken)
        taken.add(name)
        results[name] = values

    for name, values in probabilities.items():
        values = np.asarray(values, dtype=float)
        predicted = decide(values)
        add(f"p_positive_{name}", np.round(values, 6))
        add(f"label_{name}", np.where(np.isnan(values), "no words", np.where(predicted == 1, "positive", "negative")))
        if labels is not None:
            # Empty where there is nothing to compare: no label in the file, or no words to predict from.
            comparable = ~np.isnan(values) & ~np.isnan(labels)
            add(f"right_or_wrong_{name}", np.where(comparable, np.where(predicted == labels, "right", "wrong"), ""))
    return results


def neutralise_cell(value):
    """A text cell a spreadsheet cannot run: a quote before a leading formula character and before any
    formula character that follows a line break inside the cell (OWASP CSV injection)."""
    if not isinstance(value, str):
        return value
    value = _FORMULA_AFTER_BREAK.sub(r"\1'", value)
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot run as spreadsheet formulas."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise_cell)
    safe.columns = [neutralise_cell(str(column)) for column in safe.columns]
    return safe


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as a download-safe CSV: neutralised cells, every field quoted (a bare CR inside a
    cell can never start a new row), UTF-8."""
    buffer = io.StringIO()
    csv_safe(frame).to_csv(
        buffer,
        index=False,  # pragma: no mutate (pandas reads index=None as False too: that mutant is the same call)
        quoting=csv.QUOTE_ALL,
        lineterminator="\r\n",
    )
    return buffer.getvalue().encode(CSV_ENCODING)
