"""The registry is the one list of models (issue 26, item 3): a model added there, and nowhere else, appears on every
page that lists models, in its own colour, and the Inside page gives it the gate view of its layer type."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rnndemo import language_model_layers, plots, registry

from .conftest import PROJECT_ROOT
from .fake_model_pages import FAKE_COLOR, FAKE_DISPLAY_NAME


def test_colours_language_layers_and_short_names_come_from_the_registry():
    """Every model of every registry table has its colour in the charts, and nothing else decides it."""
    for spec in registry.MODELS + registry.EXPERIMENT_MODELS + registry.LANGUAGE_MODELS:
        assert plots.MODEL_COLORS[spec.name] == spec.color, spec.name
    assert plots.MODEL_COLORS is registry.COLORS
    assert language_model_layers.KINDS == {"rnn": "SimpleRNN", "lstm": "LSTM"} == registry.LANGUAGE_LAYERS
    assert registry.SHORT_NAMES["baseline"] == "TF-IDF baseline" and registry.SHORT_NAMES["lstm"] == "LSTM"


@pytest.mark.slow
def test_a_model_added_to_the_registry_appears_on_every_page_that_lists_models(tmp_path):
    """A tiny LSTM under another name, added to the registry alone (with the files training writes for it), is on the
    Walkthrough, Compare, Model cards and Inside; Inside draws its gates and cell state because its layer is an LSTM;
    its charts use its colour."""
    result_path = tmp_path / "result.json"
    completed = subprocess.run(
        [sys.executable, "-m", "tests.fake_model_pages", str(tmp_path / "models"), str(result_path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    pages = json.loads(result_path.read_text(encoding="utf-8"))
    for path, shown in pages.items():
        assert shown["exceptions"] == [], (path, shown["exceptions"])
        assert FAKE_DISPLAY_NAME in shown["text"], path
    inside = pages["pages/inside.py"]
    assert f"{FAKE_DISPLAY_NAME} gates and cell state" in " ".join(inside["subheaders"]), inside["subheaders"]
    assert any("LSTM gates and cell state" in subheader for subheader in inside["subheaders"])
    assert FAKE_COLOR in pages["pages/compare.py"]["text"] and FAKE_COLOR in inside["text"]
    assert "not shaped like held-out predictions" not in pages["pages/model_cards.py"]["text"]
