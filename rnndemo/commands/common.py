"""What every command shares: argument types checked before any work, usage errors, the output and the models."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from rnndemo.config import LIMITS
from rnndemo.registry import CLASSIFIER_NAMES, RECURRENT_NAMES


class UsageError(Exception):
    """Bad input: reported as one line on stderr with exit code 2."""


# The smallest --limit of evaluate and train: the AUC and the baseline (its terms must appear in two reviews, and
# its regression needs both labels) need reviews of both labels; 1 or 2 crashed after the work had started.
MIN_LIMIT = 10


def whole_number(low: int, high: int | None = None):
    """argparse type: a whole number of at least `low` (and at most `high`); a usage error otherwise, before any
    work."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if high is not None and not low <= number <= high:
            raise argparse.ArgumentTypeError(f"{value} is not between {low} and {high}")
        if number < low:
            raise argparse.ArgumentTypeError(f"{value} is not at least {low}")
        return number

    return parse


positive_int = whole_number(1)


def write_problem(folder: Path) -> str | None:
    """Why nothing can be written into `folder`, or None: found by creating and removing a file there (os.access
    says yes to root for /sys and /proc, where every write fails)."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".rnndemo-write-check-"):
            return None
    except OSError as error:
        return f"cannot write into {folder} ({error.strerror or error})"


def writable_file(value: str) -> Path:
    """argparse type: a regular file (new, or replaced with --force) in a folder that takes a file; checked before
    minutes of work. A device is refused: /dev/full accepts the open and fails the write."""
    path = Path(value)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{value} is a folder; give a file path")
    if path.exists() and not path.is_file():
        raise argparse.ArgumentTypeError(f"{value} is not a regular file (a device or a pipe?); give a file path")
    problem = write_problem(path.parent)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return path


def new_folder(value: str) -> Path:
    """argparse type: a folder to create or fill; never an existing file or a device. Nothing is created here: the
    command creates it once every check has passed (`check_output`)."""
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{value} exists and is not a folder")
    nearest = next(folder for folder in (path, *path.parents) if folder.is_dir())
    problem = write_problem(nearest)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return path


def is_inside(path: Path, folder: Path) -> bool:
    """True when `path` is `folder` or lies in it ('..' and links resolved)."""
    path, folder = Path(path).resolve(), Path(folder).resolve()
    return path == folder or folder in path.parents


def check_output(output: Path | None, models_dir: Path, force: bool) -> None:
    """Refuse, before any work, an --output in the models folder (its files are written only by the commands that
    record them in the manifest: `memory --output models/manifest.json` replaced the manifest, and every model was
    refused after it) or one that would replace an existing file or fill a non-empty folder without --force.
    Without --output a command writes into the models folder, which must then take a file."""
    if output is None:
        problem = write_problem(models_dir) if Path(models_dir).is_dir() else None
        if problem:
            raise UsageError(problem)
        return
    if is_inside(output, models_dir):
        raise UsageError(
            f"--output {output} is in the models folder, which only train and the default outputs write; "
            "choose a path outside it"
        )
    if not force and (output.is_file() or (output.is_dir() and any(output.iterdir()))):
        raise UsageError(f"--output {output} already exists; add --force to replace it")


def read_text(value: str, notes: list[str]) -> str:
    """The TEXT argument (or standard input for '-'), bounded; a cut is added to `notes`."""
    try:
        text = sys.stdin.buffer.read().decode("utf-8") if value == "-" else value
    except UnicodeDecodeError:
        raise UsageError("standard input is not UTF-8 text") from None
    if not text.strip():
        raise UsageError("the text is empty; pass a review, or '-' to read it from standard input")
    from rnndemo.serving import prepare_text

    text, notice = prepare_text(text)
    if notice:
        notes.append(notice)
    return text


def emit(payload, as_json: bool, lines: list[str], notes: list[str] | None = None) -> None:
    """The result on stdout, with its notes (what was cut): a "notes" field in JSON, "note:" lines in text.
    Standard error stays empty on success."""
    if as_json:
        if notes and isinstance(payload, dict):
            payload = {**payload, "notes": notes}
        print(json.dumps(payload, ensure_ascii=False))
    else:
        print("\n".join([*lines, *(f"note: {note}" for note in notes or [])]))


def progress_wanted() -> bool:
    """Progress lines go to a terminal only; a script or a pipe gets a quiet stderr."""
    return sys.stderr.isatty()


def load_checked_bundle(models_dir: Path, names: list[str] | None = None):
    from rnndemo.models import ModelFileError
    from rnndemo.serving import load_bundle

    try:
        bundle = load_bundle(models_dir)
    except ModelFileError as error:
        raise UsageError(str(error)) from error
    for name in names or []:
        if name not in bundle.names():
            reason = bundle.errors.get(name, f"unknown model {name!r}; choose from {', '.join(CLASSIFIER_NAMES)}")
            raise UsageError(reason)
    for name, reason in bundle.errors.items():
        if not names or name in names:
            print(f"warning: {reason}", file=sys.stderr)
    return bundle


def bounded_float(value: str, what: str, allowed: Callable[[float], bool], bounds: str) -> float:
    """`value` as a number for which `allowed` holds; else an argparse error that it is not `what` (the number's
    kind) or not `bounds` (the range in words)."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not {what}") from None
    if not allowed(number):
        raise argparse.ArgumentTypeError(f"{value} is not {bounds}")
    return number


def temperature(value: str) -> float:
    """argparse type: a sampling temperature in the page's range, LIMITS.min_temperature to max_temperature."""
    low, high = LIMITS.min_temperature, LIMITS.max_temperature
    # A chained comparison: nan fails it too.
    return bounded_float(
        value,
        "a number",
        lambda number: low <= number <= high,
        f"from {low:g} to {high:g} (the language-model page's range)",
    )


def bounded_int(low: int, high: int):
    """argparse type: a whole number from `low` to `high`."""
    return whole_number(low, high)


def race_cells(value: str) -> tuple[str, ...]:
    """argparse type: distinct recurrent cells, comma-separated (rnn,lstm,gru)."""
    cells = tuple(part.strip() for part in value.split(","))
    if not all(cells) or any(cell not in RECURRENT_NAMES for cell in cells) or len(set(cells)) != len(cells):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a comma-separated list of distinct cells among {','.join(RECURRENT_NAMES)}"
        )
    return cells


def budget_seconds(value: str) -> float:
    """argparse type: a wall-clock budget per cell, above 0 and at most 600 seconds."""
    from rnndemo.race_tasks import MAX_SECONDS

    # A chained comparison: it refuses nan and inf too.
    return bounded_float(
        value,
        "a number of seconds",
        lambda number: 0 < number <= MAX_SECONDS,
        f"above 0 and at most {MAX_SECONDS:g} seconds",
    )
