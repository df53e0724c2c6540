"""Everything a server loads, once per process under one lock, even when every session asks at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from .conftest import MODELS_DIR, PROJECT_ROOT, tampered_copy

# Each thread asks for a different thing first, as four sessions opening four pages of a cold server do.
COLD_BURST = textwrap.dedent(
    """
    import sys, threading
    from rnndemo import loading
    folder = sys.argv[1]
    calls = [lambda: loading.models(folder), lambda: loading.language_models(folder),
             lambda: loading.glove(folder), lambda: loading.inspector(folder, "lstm")]
    results, errors = {}, []
    def run(index):
        try:
            results[index] = type(calls[index]()).__name__
        except Exception as error:
            errors.append(repr(error))
    threads = [threading.Thread(target=run, args=(index,)) for index in range(4) for _ in range(2)]
    for thread in threads: thread.start()
    for thread in threads: thread.join(timeout=240)
    print("alive", sum(thread.is_alive() for thread in threads))
    print("errors", errors)
    print("results", sorted(results.values()))
    """
)


@pytest.mark.slow
def test_a_cold_burst_of_different_loaders_loads_each_once_without_deadlock():
    """Eight threads of a fresh process ask for the models, language models, GloVe and an inspector at once:
    none hangs or fails, and each thing loads once (two threads importing TensorFlow at once deadlocked)."""
    result = subprocess.run(
        [sys.executable, "-c", COLD_BURST, str(MODELS_DIR)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=PROJECT_ROOT,
    )
    assert "alive 0" in result.stdout and "errors []" in result.stdout, (result.stdout, result.stderr[-2000:])
    assert "str" not in result.stdout.split("results", 1)[1]  # no load failed into a message
    for what in ("models", "language models", "GloVe"):
        assert result.stderr.count(f"rnndemo: loading {what}\n") == 1, (what, result.stderr[-2000:])


@pytest.mark.slow
def test_a_damaged_folder_is_refused_once_and_not_retried(tmp_path, monkeypatch):
    """A folder that cannot load gives its message, kept: later views do not load it again (~1.2 s each)."""
    from rnndemo import loading, serving

    folder = str(tampered_copy(tmp_path, "rnn.keras"))
    calls = []
    real_load = serving.load_bundle
    monkeypatch.setattr(serving, "load_bundle", lambda path: calls.append(path) or real_load(path))
    first = loading.models(folder)
    second = loading.models(folder)
    assert first is second and len(calls) == 1
    if isinstance(first, str):
        assert "rnn.keras" in first
    else:  # refused by name inside the bundle; the other models serve
        assert "rnn" in first.errors and "lstm" in first.classifiers


def test_an_unexpected_failure_is_kept_as_a_message(monkeypatch):
    from rnndemo import loading

    calls = []

    def broken():
        calls.append(1)
        raise KeyError("classifier")

    key = ("test", "broken")
    assert loading.load_once(key, broken) == "KeyError: 'classifier'"
    assert loading.load_once(key, broken) == "KeyError: 'classifier'" and calls == [1]
