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

# Formula characters a spreadsheet acts on at the start of a cell, or of a line inside a quoted cell.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_AFTER_BREAK = re.compile(r"([\r\n])(?=[=+\-@\t\r])")


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


def parse_upload(
    raw: bytes, file_name: str, max_rows: int = LIMITS.max_batch_rows, max_megabytes: int = LIMITS.max_upload_megabytes
) -> ParsedUpload:
    """A CSV (by name) or plain text with one review per line, as a DataFrame of strings."""
    if len(raw) > max_megabytes * 1024 * 1024:
        raise UploadError(f"the file is {len(raw) / 1e6:.1f} MB; the limit is {max_megabytes} MB")
    text, encoding = decode_bytes(raw)
    if file_name.lower().endswith(".csv"):
        header = next(csv.reader(io.StringIO(text)), [])  # the header alone, checked before pandas reads a wide file
        if len(header) > LIMITS.max_batch_columns:
            raise UploadError(f"the CSV has {len(header):,} columns; the limit is {LIMITS.max_batch_columns}")
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


def parse_labels(values: pd.Series) -> np.ndarray:
    """Labels as 0/1 from 0/1, neg/pos, negative/positive or false/true; UploadError otherwise."""
    mapping = {"0": 0, "1": 1, "neg": 0, "pos": 1, "negative": 0, "positive": 1, "false": 0, "true": 1}
    cleaned = values.astype(str).str.strip().str.lower()
    unknown = sorted(set(cleaned) - set(mapping))
    if unknown:
        raise UploadError(
            f"the label column has values other than 0/1 or negative/positive: {', '.join(map(repr, unknown[:5]))}"
        )
    return cleaned.map(mapping).to_numpy(dtype=int)


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
    csv_safe(frame).to_csv(buffer, index=False, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    return buffer.getvalue().encode("utf-8")
