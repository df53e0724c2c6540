"""`python -m rnndemo`: JSON outputs and every error path (exit 2, one line, no traceback)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rnndemo.cli import main
from rnndemo.text import DEFAULT_TEXT

from .conftest import MODELS_DIR, PROJECT_ROOT, tampered_copy

# One model load for the committed folder; tests of other folders still load them for real.
pytestmark = pytest.mark.usefixtures("shared_cli_bundle")


def run(capsys, *arguments):
    code = main(["--models-dir", str(MODELS_DIR), *arguments])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.slow
def test_encode_orders(capsys):
    code, out, _ = run(capsys, "encode", DEFAULT_TEXT, "--order", "appearance", "--json")
    payload = json.loads(out)
    assert code == 0 and payload["ids"][:8] == list(range(1, 9)) and payload["tokens"][3] == "bait"
    code, out, _ = run(capsys, "encode", "b a c a", "--order", "frequency", "--json")
    assert json.loads(out)["ids"] == [2, 1, 3, 1]
    code, out, _ = run(capsys, "encode", "the film xqzvbnm", "--order", "model", "--json")
    payload = json.loads(out)
    assert payload["oov"] == [False, False, True] and payload["ids"][2] == 1
    assert len(payload["padded"]) == payload["sequence_length"] and payload["padded"][-3:] == payload["ids"]


def test_predict_json_has_every_model(capsys):
    code, out, _ = run(capsys, "predict", DEFAULT_TEXT, "--json")
    models = json.loads(out)["models"]
    assert code == 0 and set(models) == {"rnn", "lstm", "gru", "dfn", "cnn", "baseline"}
    for name in ("rnn", "lstm", "gru", "dfn", "cnn"):  # the same fields for every network (issue 24)
        assert models[name]["label"] in ("positive", "negative")
        assert models[name]["trajectory"][-1] == pytest.approx(models[name]["probability_positive"], abs=1e-4)
        assert len(models[name]["trajectory"]) == 105


@pytest.mark.slow
def test_neighbors_json(capsys):
    code, out, _ = run(capsys, "neighbors", "good", "--source", "glove", "-k", "5", "--json")
    payload = json.loads(out)
    assert (
        code == 0
        and len(payload) == 5
        and payload[0]["word"] == "better"
        and "good" not in [p["word"] for p in payload]
    )
    code, out, _ = run(capsys, "neighbors", "great", "--source", "lstm", "-k", "3", "--metric", "euclidean", "--json")
    assert code == 0 and len(json.loads(out)) == 3


def test_stdin_dash(capsys, monkeypatch):
    import io

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"I loved it"), encoding="utf-8"))
    code, out, _ = run(capsys, "encode", "-", "--order", "appearance", "--json")
    assert code == 0 and json.loads(out)["tokens"] == ["i", "loved", "it"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "arguments, fragment",
    [
        (["predict", ""], "empty"),
        (["predict", "   \n "], "empty"),
        (["predict", "?!?"], "no words"),
        (["encode", "..."], "no words"),
        (["predict", "good", "--model", "transformer"], "invalid choice"),
        (["neighbors", "moviee"], "Did you mean"),
        (["neighbors", "x" * 200], "longer than"),
        (["neighbors", "good", "-k", "0"], "-k must be"),
        (["inspect", "good", "--model", "transformer"], "invalid choice"),
        (["nonsense"], "invalid choice"),
    ],
)
def test_error_paths_exit_2_with_one_line(capsys, arguments, fragment):
    try:
        code, out, err = run(capsys, *arguments)
    except SystemExit as exit_:  # argparse's own exit
        code, err = exit_.code, capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and fragment in err and "Traceback" not in err


def test_long_text_says_what_was_cut(capsys):
    """The cut is reported in the result (JSON notes, or a note line), not on stderr."""
    code, out, err = run(capsys, "predict", "dull " * 1000 + DEFAULT_TEXT, "--model", "lstm", "--json")
    payload = json.loads(out)
    assert code == 0 and err == "" and any("705 tokens were cut" in note for note in payload["notes"])
    assert payload["models"]["lstm"]["cut_tokens"] == 1105 - 400
    code, out, err = run(capsys, "predict", "dull " * 1000 + DEFAULT_TEXT, "--model", "lstm")
    assert out.splitlines()[-1] == "note: the models read the last 400 tokens; 705 tokens were cut from the start"


def test_missing_models_folder_is_one_clear_line(capsys, tmp_path):
    code = main(["--models-dir", str(tmp_path / "nowhere"), "predict", "good film"])
    err = capsys.readouterr().err
    assert code == 2 and "python -m rnndemo train" in err and err.count("\n") == 1


@pytest.mark.slow
def test_real_entry_point_in_a_subprocess():
    """The module runs as `python -m rnndemo` and errors without a traceback."""
    environment = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    result = subprocess.run(
        [sys.executable, "-m", "rnndemo", "encode", "", "--order", "appearance"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=environment,
        timeout=120,
    )
    assert result.returncode == 2 and result.stderr.startswith("error:") and "Traceback" not in result.stderr
    result = subprocess.run(
        [sys.executable, "-m", "rnndemo", "encode", "I'm glad", "--order", "appearance", "--json"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=environment,
        timeout=120,
    )
    assert result.returncode == 0 and json.loads(result.stdout)["tokens"] == ["i'm", "glad"]


@pytest.mark.slow
def test_tampered_model_is_named_and_the_others_still_answer(capsys, tmp_path):
    copy = tampered_copy(tmp_path, "lstm.keras")
    code = main(["--models-dir", str(copy), "predict", "a fine film", "--model", "lstm"])
    err = capsys.readouterr().err
    assert code == 2 and "lstm.keras" in err and "python -m rnndemo train" in err and err.count("\n") == 1
    code = main(["--models-dir", str(copy), "predict", "a fine film", "--json"])
    captured = capsys.readouterr()
    assert code == 0 and set(json.loads(captured.out)["models"]) == {"rnn", "gru", "dfn", "cnn", "baseline"}
    assert "warning:" in captured.err and "lstm.keras" in captured.err


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, gates",
    [("lstm", {"input", "forget", "cell_candidate", "output"}), ("gru", {"update", "reset", "candidate"})],
)
def test_inspect_json_has_each_gated_models_gates(capsys, name, gates):
    code, out, _ = run(capsys, "inspect", "a dull start but a wonderful ending", "--model", name, "--json")
    payload = json.loads(out)
    assert code == 0 and set(payload["gates"]) == gates
    assert ("cell" in payload) == (name == "lstm")
    assert all(len(values) == len(payload["tokens"]) == 7 for values in payload["gates"].values())


# --- Issue 25: accepted arguments that crashed, and outputs checked before any work -----------------------------


def failing(capsys, *arguments) -> tuple[int, str]:
    """Exit code and stderr of a command that must fail (argparse's own errors leave through SystemExit)."""
    try:
        code = main(list(arguments))
    except SystemExit as exit_:
        code = exit_.code
    return code, capsys.readouterr().err


def assert_one_line(code: int, err: str, fragment: str) -> None:
    assert code == 2 and err.count("\n") == 1 and fragment in err and "Traceback" not in err, (code, err)


@pytest.mark.parametrize(
    "arguments, fragment",
    [
        (["generate", "the acting was", "--temperature", "1e-308"], "--temperature"),
        (["evaluate", "--limit", "1"], "--limit"),
    ],
)
def test_accepted_arguments_that_crashed_are_refused(capsys, arguments, fragment):
    assert_one_line(*failing(capsys, "--models-dir", str(MODELS_DIR), *arguments), fragment)


@pytest.mark.parametrize("limit", ["1", "2"])
def test_train_with_too_few_reviews_is_refused_before_any_work(capsys, tmp_path, limit):
    """One or two reviews cannot train the baseline (its terms must appear in two reviews, and it needs both
    labels): refused by the argument check, before a staging folder exists."""
    folder = tmp_path / "models"
    arguments = ["--only", "classifiers", "--limit", limit, "--epochs", "1", "--model", "rnn"]
    assert_one_line(*failing(capsys, "--models-dir", str(folder), "train", *arguments), "--limit")
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_the_smallest_limit_has_reviews_of_both_labels():
    """The floor of --limit holds: the first test reviews (evaluate) and the seeded training sample (train) of that
    size have both labels, so AUC and the baseline can be computed."""
    from rnndemo import data
    from rnndemo.cli import MIN_LIMIT
    from rnndemo.config import TRAINING

    splits = data.load_splits()
    assert set(splits.test["label"].iloc[:MIN_LIMIT]) == {0, 1}
    assert set(splits.train.sample(n=MIN_LIMIT, random_state=TRAINING.seed)["label"]) == {0, 1}


def test_train_only_lm_into_an_empty_folder_is_refused_before_any_work(capsys, tmp_path):
    folder = tmp_path / "models"
    code, err = failing(capsys, "--models-dir", str(folder), "train", "--only", "lm", "--lm-tokens", "1000")
    assert_one_line(code, err, "--only lm")
    assert not list(tmp_path.iterdir())


@pytest.fixture
def no_memory_work(monkeypatch):
    """The memory experiment must never start: every refusal comes before any work."""
    from rnndemo import memory

    def started(*arguments, **keywords):
        raise AssertionError("the memory experiment started")

    monkeypatch.setattr(memory, "run_memory_experiment", started)


@pytest.mark.parametrize(
    "output, fragment",
    [
        ("/dev/full", "not a regular file"),  # writing 1 byte to it fails (ENOSPC), but only after the work
        ("/sys/rnndemo_memory.json", "cannot write"),  # an unwritable place (even for root)
        (str(MODELS_DIR / "manifest.json"), "models folder"),  # overwriting it refused every model
        (str(MODELS_DIR / "memory_experiment.json"), "models folder"),
        (str(MODELS_DIR / "new_file.json"), "models folder"),
    ],
)
def test_memory_output_is_checked_before_any_work(capsys, no_memory_work, output, fragment):
    manifest = (MODELS_DIR / "manifest.json").read_bytes()
    assert_one_line(*failing(capsys, "--models-dir", str(MODELS_DIR), "memory", "--output", output), fragment)
    assert (MODELS_DIR / "manifest.json").read_bytes() == manifest
    assert not (MODELS_DIR / "new_file.json").exists()


def test_memory_output_replaces_an_existing_file_only_with_force(capsys, tmp_path, monkeypatch, no_memory_work):
    from rnndemo import memory

    existing = tmp_path / "notes.json"
    existing.write_text("keep me")
    command = ["--models-dir", str(MODELS_DIR), "memory", "--output", str(existing)]
    assert_one_line(*failing(capsys, *command), "--force")
    assert existing.read_text() == "keep me"
    monkeypatch.setattr(memory, "run_memory_experiment", lambda bundle, **keywords: {"models": {}})
    assert main([*command, "--force"]) == 0
    assert json.loads(existing.read_text()) == {"models": {}}


@pytest.fixture
def models_copy(tmp_path):
    import shutil

    return Path(shutil.copytree(MODELS_DIR, tmp_path / "models"))


def test_race_sweep_and_export_never_write_into_the_models_folder(capsys, monkeypatch, models_copy):
    from rnndemo import export, race

    def started(*arguments, **keywords):
        raise AssertionError("the work started")

    monkeypatch.setattr(race, "run_sweep", started)
    monkeypatch.setattr(export, "export_saved_models", started)
    folder = ["--models-dir", str(models_copy)]
    sweep = ["race", "--sweep", "--output", str(models_copy / "manifest.json")]
    assert_one_line(*failing(capsys, *folder, *sweep), "models folder")
    for output in (models_copy, models_copy / "exported"):
        assert_one_line(*failing(capsys, *folder, "export", "--output", str(output)), "models folder")
    assert not (models_copy / "exported").exists()


def test_generate_takes_the_limits_of_the_language_model_page(capsys):
    """`generate` and the page share config.LIMITS: at most 50 words (the page's slider), seeds up to 2**31 − 1
    (the page's seed box) and temperatures from 0.1 to 2 (the page's slider); beyond them the CLI refuses."""
    from rnndemo.cli import build_parser

    parser = build_parser()
    accepted = parser.parse_args(["generate", "good", "--words", "50", "--seed", str(2**31 - 1), "--temperature", "2"])
    assert (accepted.words, accepted.seed, accepted.temperature) == (50, 2**31 - 1, 2.0)
    assert parser.parse_args(["generate", "good", "--temperature", "0.1"]).temperature == 0.1
    for too_many in (["--words", "51"], ["--seed", str(2**31)], ["--temperature", "0.09"], ["--temperature", "2.1"]):
        with pytest.raises(SystemExit):
            parser.parse_args(["generate", "good", *too_many])
        error = capsys.readouterr().err
        assert "is not between" in error or "is not from 0.1 to 2" in error


def test_every_seed_has_one_bound(capsys):
    """`race --seed` takes the same seeds as `generate --seed` and the page's seed box: 0 to 2**31 − 1."""
    from rnndemo.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["race", "--seed", str(2**31 - 1)]).seed == 2**31 - 1
    with pytest.raises(SystemExit):
        parser.parse_args(["race", "--seed", str(2**31)])
    assert "is not between 0 and 2147483647" in capsys.readouterr().err
