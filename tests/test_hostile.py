"""Every hostile input through the library, the CLI and every page: a result or a clear refusal, never a crash."""

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from rnndemo.cli import main
from rnndemo.serving import EmptyTextError, prepare_text
from rnndemo.text import tokenize

from .conftest import MODELS_DIR, PROJECT_ROOT
from .hostile_inputs import HOSTILE_INPUTS

CASES = list(HOSTILE_INPUTS.items())
TEXT_PAGES = [
    "pages/home.py",
    "pages/tokens.py",
    "pages/embeddings.py",
    "pages/compare.py",
    "pages/inside.py",
    "pages/language_model.py",
]


def test_the_matrix_reaches_every_refusal_and_cleaning_branch(bundle):
    """The matrix must keep inputs that take each path: no words, cut for length, controls removed,
    markup stripped, every word out of vocabulary, and a normal verdict."""
    vocabulary = bundle.vocabulary
    prepared = {name: prepare_text(text) for name, text in CASES}
    tokens = {name: tokenize(text) for name, (text, _) in prepared.items()}
    assert any(not found for found in tokens.values())  # refused: no words once cleaned
    assert any(notice for _, notice in prepared.values())  # cut to the length limit, with a notice
    assert any(any(ord(ch) < 32 and ch not in "\t\n\r" for ch in text) for _, text in CASES)  # control characters
    assert any("<" in text and ">" in text for _, text in CASES)  # markup
    assert any(found and all(vocabulary.lookup(token) == 1 for token in found) for found in tokens.values())
    assert any(found and any(vocabulary.lookup(token) > 1 for token in found) for found in tokens.values())


@pytest.mark.slow
@pytest.mark.parametrize("name, text", CASES, ids=[name for name, _ in CASES])
def test_library(bundle, name, text):
    text, _ = prepare_text(text)
    tokens = tokenize(text)
    assert all(token and not any(ch.isspace() for ch in token) for token in tokens)
    assert not any(ch in token for token in tokens for ch in '<>"\x00\u200b\u202e')
    if not tokens:
        with pytest.raises(EmptyTextError):
            bundle.classify(text)
        return
    for prediction in bundle.classify(text).values():
        assert 0.0 <= prediction.probability_positive <= 1.0 and np.isfinite(prediction.probability_positive)
        if prediction.trajectory:
            assert len(prediction.trajectory) <= 400


@pytest.mark.slow
@pytest.mark.parametrize("name, text", CASES, ids=[name for name, _ in CASES])
def test_cli(capsys, shared_cli_bundle, name, text):
    code = main(["--models-dir", str(MODELS_DIR), "predict", text, "--json"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    if code == 0:
        assert {"rnn", "lstm", "gru", "dfn", "cnn", "baseline"} == set(json.loads(captured.out)["models"])
    else:
        assert code == 2
        assert captured.err.startswith("error:") and captured.err.count("\n") == 1


@pytest.mark.slow
@pytest.mark.parametrize("name, text", CASES, ids=[name for name, _ in CASES])
def test_language_model_commands(capsys, shared_cli_language_models, name, text):
    """next, perplexity and generate: a JSON result or one line on stderr with exit code 2, never a traceback."""
    for command in (["next", text, "-k", "3"], ["perplexity", text], ["generate", text, "--words", "3"]):
        code = main(["--models-dir", str(MODELS_DIR), *command, "--json"])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        if code == 0:
            payload = json.loads(captured.out)
            assert set(payload["models"]) >= {"rnn", "lstm"}
            assert len(payload.get("prefix_tokens", payload.get("tokens", []))) <= 2_000
        else:
            assert code == 2 and captured.err.startswith("error:") and captured.err.count("\n") == 1


@pytest.mark.slow  # every hostile input through every page: the fast tier keeps one markup check per page
@pytest.mark.parametrize("path", TEXT_PAGES)
def test_pages(path):
    """Each page survives every hostile input, and says so when it refuses one."""
    for name, text in CASES:
        app = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
        app.session_state["review_text"] = text
        app.run()
        app.switch_page(path)
        app.run()
        assert not app.exception, (name, [e.value for e in app.exception])
        if not tokenize(prepare_text(text)[0]):
            messages = " ".join(str(element.value) for element in list(app.warning) + list(app.info) + list(app.error))
            assert "no words" in messages.lower() or "no tokens" in messages.lower(), (path, name)
