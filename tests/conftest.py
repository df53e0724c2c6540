"""Shared fixtures: the real committed models are loaded once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The suite's app servers (scripts/serve.py, inherited by every child) compile each review length on first need:
# a dozen servers each skip 10-17 s of compiling before they listen. tests/test_serving.py compiles ahead itself,
# and benchmarks.classroom, run outside the suite, measures the layout as `make classroom` starts it.
os.environ.setdefault("RNNDEMO_COMPILE_AHEAD", "0")
PROJECT_ROOT = Path(__file__).resolve().parent.parent  # rnndemo itself is installed (pip install -e .)
MODELS_DIR = PROJECT_ROOT / "models"


def loaded_once(what: str):
    """The committed folder's `what` ("models", "language_models"), loaded by `rnndemo.loading` as the pages load it:
    one load per worker serves the tests and every AppTest page run (a separate fixture load cost a second load of
    each, about 6 s and 3 s here). Loading itself is tested in test_models, test_attacks and test_serving_loaders."""
    from rnndemo import loading

    loaded = getattr(loading, what)(str(MODELS_DIR))
    assert not isinstance(loaded, str), loaded  # the loader's message when the committed folder failed to load
    return loaded


@pytest.fixture(scope="session")
def bundle():
    return loaded_once("models")


def mutmut_stats_run() -> bool:
    """True while mutmut records which tests call each function (`make mutate`'s first pass).

    mutmut later runs each mutant against only the tests that called its function then. An object built once per
    process calls its builders for the first test alone (an inspector's tracers, the occlusion runner), so every
    other test that uses it would never meet those mutants: in this pass each test builds its own.
    """
    return os.environ.get("MUTANT_UNDER_TEST") == "stats"


@pytest.fixture(scope="session")
def shared_inspector(bundle):
    """A committed classifier's inspector by name, the very one the Inside page uses (`rnndemo.loading`): its
    compiled functions are traced once per worker, not once per test (about 0.7 s each)."""
    from rnndemo import loading
    from rnndemo.inspect import Inspector

    def inspector(name: str):
        if mutmut_stats_run():
            return Inspector(bundle.classifiers[name])
        return loading.inspector(str(MODELS_DIR), name)

    return inspector


@pytest.fixture
def shared_cli_bundle(bundle, monkeypatch):
    """The CLI reuses the session's loaded models for the committed folder (one load instead of one per call);
    any other folder still goes through the real loader. Loading itself is tested in test_models and test_attacks."""
    from rnndemo import serving
    from rnndemo.config import default_models_dir

    real_load = serving.load_bundle
    monkeypatch.setattr(
        serving,
        "load_bundle",
        # No folder is the default folder, the committed one unless RNNDEMO_MODELS_DIR says otherwise.
        lambda folder=None: bundle if Path(folder or default_models_dir()) == MODELS_DIR else real_load(folder),
    )
    return bundle


@pytest.fixture(scope="session")
def language_models():
    return loaded_once("language_models")


@pytest.fixture
def shared_cli_language_models(language_models, monkeypatch):
    """As `shared_cli_bundle`, for the language models: one load for the committed folder."""
    from rnndemo import next_word

    real_load = next_word.load_language_models
    monkeypatch.setattr(
        next_word,
        "load_language_models",
        lambda folder: language_models if Path(folder) == MODELS_DIR else real_load(folder),
    )
    return language_models


@pytest.fixture(scope="session")
def glove():
    from rnndemo.embeddings import load_glove

    return load_glove()


def tampered_copy(destination: Path, file_name: str, source: Path = MODELS_DIR) -> Path:
    """A copy of a models folder in which `file_name` has a few bytes overwritten (so its sha256 no longer matches)."""
    import shutil

    copy = destination / "models"
    shutil.copytree(source, copy)
    with open(copy / file_name, "r+b") as handle:
        handle.seek(200)
        handle.write(b"tampered!")
    return copy


# Modules that start real servers (and Chromium), and their queue under `make test`'s workers: each queue runs on
# one worker, one test at a time, beside the other workers' tests. In one queue, the server tests were the critical
# path of the whole suite (about 30 of CI's 38 minutes); two queues, with no server compiling ahead
# (RNNDEMO_COMPILE_AHEAD above), start two servers at once at most, plus the Chromium sweep's own queue.
SERVER_MODULES = {
    "test_browser": "servers",
    "test_projector_browser": "servers",
    "test_server_guard": "servers",
    "test_load": "server_classes",  # many sessions against one server, and the classroom layout
    "test_classroom": "server_classes",
}


# A test of those modules that names its own xdist group keeps it: the Chromium sweep of every control (5–10
# minutes) runs beside the other server tests, as the Chromium tests outside these modules already do; in one queue
# the server tests took most of CI's 27 minutes while the other worker had finished.


def pytest_collection_modifyitems(config, items):
    for item in items:
        queue = SERVER_MODULES.get(item.module.__name__.rsplit(".", 1)[-1])
        if queue is not None and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(queue))
