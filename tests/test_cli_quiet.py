"""Every subcommand in a fresh process, as a user runs it: success leaves stderr empty, bad input is one line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import MODELS_DIR, PROJECT_ROOT


def run_cli(*arguments: str, stdin: bytes | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """`python -m rnndemo ...` in a new process with the user's plain environment (no TF_CPP_MIN_LOG_LEVEL)."""
    environment = {
        key: value for key, value in __import__("os").environ.items() if not key.startswith(("TF_", "RNNDEMO_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "rnndemo", *arguments],
        input=stdin,
        capture_output=True,
        cwd=PROJECT_ROOT,
        env=environment,
        timeout=timeout,
    )


MODELS = "{models}"  # stands for the committed models folder
TMP = "{tmp}"  # stands for the test's own temporary folder
SUCCESSES = [
    ("encode", "I'm glad I gave it a chance", "--json"),
    ("--models-dir", MODELS, "encode", "-", "--order", "model", "--json"),
    ("--models-dir", MODELS, "predict", "A dull, lifeless film.", "--json"),
    ("--models-dir", MODELS, "predict", "good " * 500),  # cut tokens: a note on stdout, not stderr
    ("neighbors", "good", "-k", "3", "--json"),
    ("--models-dir", MODELS, "neighbors", "good", "--source", "lstm", "--json"),
    ("--models-dir", MODELS, "inspect", "What a film", "--model", "rnn", "--json"),
    ("--models-dir", MODELS, "evaluate", "--limit", "20", "--json"),
    ("--models-dir", MODELS, "next", "one of the best", "-k", "3", "--json"),
    ("--models-dir", MODELS, "perplexity", "-", "--json"),
    ("--models-dir", MODELS, "generate", "the acting was", "--words", "5", "--seed", "3", "--json"),
    ("--models-dir", MODELS, "memory", "--reviews", "2", "--output", f"{TMP}/memory.json", "--json"),
    ("--models-dir", MODELS, "export", "--output", f"{TMP}/export", "--json"),
    ("--models-dir", MODELS, "order-test", "--limit", "10", "--json"),
    ("--models-dir", MODELS, "order-test", "--pairs", "--json"),
    # The smallest forecast: sunspots (the short yearly series), one step ahead.
    ("--models-dir", MODELS, "forecast", "--series", "sunspots", "--horizon", "1", "--origin", "2000-01-01", "--json"),
    (
        "--models-dir",
        f"{TMP}/trained",
        "train",
        "--only",
        "classifiers",
        "--limit",
        "200",
        "--epochs",
        "1",
        "--model",
        "rnn",
        "--json",
    ),
]


def command_id(arguments: tuple[str, ...]) -> str:
    """A short test id: the subcommand and its options, without the folders."""
    shown = [each for each in arguments if each not in (MODELS, "--models-dir") and not each.startswith(TMP)]
    return " ".join(shown)[:60]


# One test per command (17 processes, ~10 s each), so that the two test workers share them.
@pytest.mark.slow
@pytest.mark.parametrize("arguments", SUCCESSES, ids=[command_id(arguments) for arguments in SUCCESSES])
def test_every_subcommand_succeeds_with_an_empty_stderr(arguments, tmp_path):
    """A user's shell has no TensorFlow tweaks; still, a successful command prints only its result."""
    arguments = tuple(each.replace(MODELS, str(MODELS_DIR)).replace(TMP, str(tmp_path)) for each in arguments)
    result = run_cli(*arguments, stdin=b"I loved it" if "-" in arguments else None)
    assert result.returncode == 0, (arguments, result.stderr.decode()[-2000:])
    assert result.stderr == b"", (arguments, result.stderr.decode()[-2000:])
    if "--json" in arguments:
        json.loads(result.stdout)


BAD_INPUTS = [
    (("predict", ""), None),
    (("predict", "-"), b"\xff\xfe not utf-8"),
    (("encode", "!!! ???", "--order", "appearance"), None),
    (("neighbors", "zzzqqxv"), None),
    (("neighbors", "good", "-k", "0"), None),
    (("inspect", "   ", "--model", "lstm"), None),
    (("evaluate", "--limit", "0"), None),
    (("evaluate", "--limit", "-2490"), None),
    (("memory", "--reviews", "0"), None),
    (("memory", "--reviews", "-3"), None),
    (("memory", "--output", "/nonexistent/dir/m.json"), None),
    (("export", "--output", "/dev/null"), None),
    (("export", "--output", "/proc/x"), None),
    (("export", "--output", "README.md"), None),
    (("train", "--epochs", "0"), None),
    (("forecast", "--horizon", "0", "--origin", "2000-01-01"), None),
    (("forecast", "--series", "sunspots", "--horizon", "12", "--origin", "2000-01-01"), None),
    (("forecast", "--series", "sunspots", "--horizon", "1", "--origin", "1600-01-01"), None),
    (("forecast", "--origin", "not a date"), None),
    (("predict", "a film", "--model", "gpt"), None),
    (("--models-dir", "/nonexistent", "predict", "a film"), None),
    (("no-such-command",), None),
]


@pytest.mark.slow
@pytest.mark.parametrize("arguments, stdin", BAD_INPUTS, ids=[" ".join(a) or "empty" for a, _ in BAD_INPUTS])
def test_bad_input_exits_2_with_one_line(arguments, stdin):
    """Bad input: exit code 2 and exactly one line on stderr, before any long work."""
    result = run_cli(*arguments, stdin=stdin, timeout=120)
    lines = result.stderr.decode().splitlines()
    assert result.returncode == 2, (arguments, result.stderr.decode()[-2000:])
    assert len(lines) == 1 and lines[0].startswith("error:"), (arguments, lines)
