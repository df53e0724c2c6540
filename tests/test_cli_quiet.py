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


def successes(tmp_path) -> list[tuple[str, ...]]:
    models = str(MODELS_DIR)
    return [
        ("encode", "I'm glad I gave it a chance", "--json"),
        ("--models-dir", models, "encode", "-", "--order", "model", "--json"),
        ("--models-dir", models, "predict", "A dull, lifeless film.", "--json"),
        ("--models-dir", models, "predict", "good " * 500),  # cut tokens: a note on stdout, not stderr
        ("neighbors", "good", "-k", "3", "--json"),
        ("--models-dir", models, "neighbors", "good", "--source", "lstm", "--json"),
        ("--models-dir", models, "inspect", "What a film", "--model", "rnn", "--json"),
        ("--models-dir", models, "evaluate", "--limit", "20", "--json"),
        ("--models-dir", models, "next", "one of the best", "-k", "3", "--json"),
        ("--models-dir", models, "perplexity", "-", "--json"),
        ("--models-dir", models, "generate", "the acting was", "--words", "5", "--seed", "3", "--json"),
        ("--models-dir", models, "memory", "--reviews", "2", "--output", str(tmp_path / "memory.json"), "--json"),
        ("--models-dir", models, "export", "--output", str(tmp_path / "export"), "--json"),
        ("--models-dir", models, "order-test", "--limit", "10", "--json"),
        ("--models-dir", models, "order-test", "--pairs", "--json"),
        # The smallest forecast: sunspots (the short yearly series), one step ahead.
        (
            "--models-dir",
            models,
            "forecast",
            "--series",
            "sunspots",
            "--horizon",
            "1",
            "--origin",
            "2000-01-01",
            "--json",
        ),
        (
            "--models-dir",
            str(tmp_path / "trained"),
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


@pytest.mark.slow
def test_every_subcommand_succeeds_with_an_empty_stderr(tmp_path):
    """A user's shell has no TensorFlow tweaks; still, a successful command prints only its result."""
    for arguments in successes(tmp_path):
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
