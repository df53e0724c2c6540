"""Regression tests named after the attacks of the red-team pass (issue 15): each failed before its fix."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from rnndemo.batch import FORMULA_PREFIXES, csv_bytes, parse_upload

CARRIAGE_RETURN_UPLOAD = b'text,label\n"good film\r=cmd|\' /C calc\'!A0",1\n"fine\n+SUM(A1)",0\n@x,1\n'


def cells_by_every_parser(data: bytes) -> list[str]:
    """Every cell as Python's csv (default and strict) and pandas read the download."""
    text = data.decode("utf-8")
    cells = [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]
    cells += [cell for row in csv.reader(io.StringIO(text, newline=""), strict=True) for cell in row]
    frame = pd.read_csv(io.StringIO(text, newline=""), dtype=str, keep_default_na=False)
    cells += [str(value) for value in frame.to_numpy().ravel()] + [str(column) for column in frame.columns]
    return cells


def test_csv_injection_by_bare_carriage_return_is_neutralised():
    """A lone CR inside a cell cannot smuggle a formula into a new row of the downloaded file."""
    parsed = parse_upload(CARRIAGE_RETURN_UPLOAD, "attack.csv")
    frame = parsed.frame.assign(p_positive_lstm=[0.9, 0.1, 0.5])
    data = csv_bytes(frame)
    cells = cells_by_every_parser(data)
    assert len(pd.read_csv(io.BytesIO(data))) == 3  # still three rows: nothing split
    for cell in cells:
        assert not cell.startswith(FORMULA_PREFIXES), repr(cell)
        for line in cell.splitlines():
            assert not line.startswith(("=", "+", "@", "-")) or line.startswith("'"), repr(cell)
    assert all(field.startswith('"') for field in data.decode().split("\r\n")[0].split(","))  # every field quoted


@pytest.mark.parametrize("payload", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "ok\n=1", "ok\r\n@x", "ok\r-2"])
def test_every_formula_position_is_neutralised(payload):
    data = csv_bytes(pd.DataFrame({"text": [payload], payload: ["x"]}))
    for cell in cells_by_every_parser(data):
        assert not cell.startswith(FORMULA_PREFIXES)
        assert all(not line.startswith(("=", "+", "-", "@")) for line in cell.splitlines()), repr(cell)
