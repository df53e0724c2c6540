"""The race's tasks, training loop, caption, sweep file and CLI, on tiny sizes and step budgets."""

import json
import threading
from dataclasses import replace

import numpy as np
import pytest

from rnndemo import models, race, race_tasks
from rnndemo.cli import main

# Tiny and deterministic: a step budget that ends each cell long before its seconds do.
TINY = race_tasks.RaceConfig(
    task="adding",
    lag=12,
    units=4,
    seconds=600,
    steps=6,
    train_sequences=256,
    test_sequences=64,
    batch_size=32,
    points=3,
)


def without_seconds(result: race.RaceResult) -> dict:
    """Everything a race reports except its wall-clock seconds (which no run repeats)."""
    return {
        name: [(point.step, point.train_loss, point.test_mse) for point in cell.curve] + [cell.steps, cell.test_mse]
        for name, cell in result.cells.items()
    }


@pytest.fixture(scope="module")
def tiny_race_and_cells():
    """The tiny race, and the cells it trained (kept as `race._new_cell` made them, so a test can score their
    models itself: one trace and compile per cell, ~1 to 4 s each, instead of training a second copy)."""
    made = {}

    def keeping(name, config, data):
        made[name] = real_new_cell(name, config, data)
        return made[name]

    real_new_cell = race._new_cell
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(race, "_new_cell", keeping)
        result = race.run_race(TINY)
    return result, made


@pytest.fixture(scope="module")
def tiny_race(tiny_race_and_cells):
    return tiny_race_and_cells[0]


# The generators, checked against targets recomputed here from their inputs -------------------------------------


@pytest.mark.parametrize("lag", [2, 10, 13, 50])
def test_adding_targets_are_the_sum_of_the_two_marked_values(lag):
    inputs, targets = race_tasks.adding_problem(500, lag, np.random.default_rng(lag))
    values, markers = inputs[:, :, 0].astype(np.float64), inputs[:, :, 1]
    assert inputs.shape == (500, lag, 2) and targets.shape == (500, 1)
    assert ((values >= 0) & (values < 1)).all() and set(np.unique(markers)) <= {0.0, 1.0}
    marked = [np.flatnonzero(row) for row in markers]
    assert all(len(positions) == 2 for positions in marked)
    half = lag // 2
    assert all(positions[0] < min(10, half) and positions[1] >= half for positions in marked)
    np.testing.assert_allclose(targets[:, 0], (values * markers).sum(axis=1), rtol=1e-6)


@pytest.mark.parametrize("lag", [2, 20, 60])
def test_recall_targets_are_the_marked_steps_symbol(lag):
    inputs, targets = race_tasks.recall_problem(400, lag, np.random.default_rng(7))
    symbols, markers = inputs[:, :, : race_tasks.RECALL_SYMBOLS], inputs[:, :, race_tasks.RECALL_SYMBOLS]
    assert (symbols.sum(axis=-1) == 1).all()  # one symbol at every step
    marked = markers.argmax(axis=1)
    assert (markers.sum(axis=1) == 1).all() and (marked < min(10, lag // 2)).all()
    expected = symbols[np.arange(400), marked].argmax(axis=-1)
    assert (targets.argmax(axis=-1) == expected).all() and (targets.sum(axis=-1) == 1).all()


def test_first_token_target_says_whether_the_first_symbol_is_in_the_upper_half():
    inputs, targets = race_tasks.first_token_problem(300, 30, np.random.default_rng(3))
    first = inputs[:, 0, :].argmax(axis=-1)
    assert (inputs.sum(axis=-1) == 1).all()
    np.testing.assert_array_equal(targets[:, 0], (first >= race_tasks.FIRST_TOKEN_SYMBOLS // 2).astype(np.float32))
    assert 0.35 < targets.mean() < 0.65


def test_chance_is_the_test_mse_of_predicting_the_training_mean():
    data = race_tasks.make_task("adding", 50, seed=0, train_sequences=8192, test_sequences=1024)
    mean = data.train_targets.astype(np.float64).mean(axis=0)
    assert data.chance_mse == pytest.approx(float(np.mean((data.test_targets - mean) ** 2)), rel=1e-9)
    assert data.chance_mse == pytest.approx(1 / 6, abs=0.015)  # the variance of the sum of two uniforms
    assert race_tasks.make_task("first_token", 20, seed=0).chance_mse == pytest.approx(0.25, abs=0.01)


def test_the_same_seed_draws_the_same_sequences_and_another_seed_others():
    first, again = (race_tasks.make_task("recall", 20, seed=5, train_sequences=64, test_sequences=16) for _ in range(2))
    other = race_tasks.make_task("recall", 20, seed=6, train_sequences=64, test_sequences=16)
    np.testing.assert_array_equal(first.train_inputs, again.train_inputs)
    np.testing.assert_array_equal(first.test_targets, again.test_targets)
    assert not np.array_equal(first.train_inputs, other.train_inputs)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"task": "copy"}, "unknown task"),
        ({"lag": 1}, "between 2 and 400"),
        ({"cells": ("rnn", "rnn")}, "distinct"),
        ({"cells": ()}, "distinct"),
        ({"units": 0}, "units"),
        ({"seconds": float("nan")}, "budget"),
        ({"seconds": 0}, "budget"),
        ({"steps": 0}, "step budget"),
    ],
)
def test_bad_settings_say_what_to_do(changes, words):
    with pytest.raises(ValueError, match=words):
        replace(TINY, **changes)


# The race ------------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_tiny_race_reproduces_itself_and_another_seed_differs(tiny_race):
    """The same seed and step budget give the same curves and errors, number for number."""
    assert without_seconds(race.run_race(TINY)) == without_seconds(tiny_race)
    assert without_seconds(race.run_race(replace(TINY, seed=1))) != without_seconds(tiny_race)


@pytest.mark.slow
def test_a_cell_learns_the_same_whichever_cells_race_beside_it(tiny_race):
    alone = race.run_race(replace(TINY, cells=("lstm",)))
    assert without_seconds(alone)["lstm"] == without_seconds(tiny_race)["lstm"]


def test_curves_start_before_the_first_step_and_end_at_the_budget(tiny_race):
    for cell in tiny_race.cells.values():
        steps = [point.step for point in cell.curve]
        assert steps[0] == 0 and steps[-1] == cell.steps == TINY.steps and steps == sorted(set(steps))
        assert cell.test_mse == cell.curve[-1].test_mse and np.isfinite(cell.curve[0].train_loss)
        assert cell.seconds > 0 and cell.steps_per_second > 0
    assert not tiny_race.stopped and tiny_race.chance_mse > 0


def test_the_final_error_is_the_models_own_on_the_test_set(tiny_race_and_cells):
    """Recomputed from the same test sequences: each model the race trained, called by Keras here (not through the
    race's compiled forward pass) and scored with numpy."""
    result, cells = tiny_race_and_cells
    data = race_tasks.make_task(TINY.task, TINY.lag, TINY.seed, TINY.train_sequences, TINY.test_sequences)
    assert set(cells) == set(result.cells) == set(TINY.cells)
    for name, cell in cells.items():
        assert cell.steps == TINY.steps
        predictions = np.asarray(cell.model(data.test_inputs, training=False), dtype=np.float64)
        expected = float(np.mean((predictions - data.test_targets) ** 2))
        assert result.cells[name].test_mse == pytest.approx(expected, rel=1e-5), name


@pytest.mark.slow
def test_progress_events_go_through_the_seam_and_the_stop_signal_ends_the_race():
    events = []
    stop = threading.Event()

    def report(event):
        events.append(event)
        if event.stage == "evaluate" and event.batch >= 2:
            stop.set()

    result = race.run_race(replace(TINY, steps=50, points=25), report, stop)
    assert (
        result.stopped and events[0].stage == "data" and events[0].metrics["chance_mse"] == round(result.chance_mse, 6)
    )
    points = [event for event in events if event.stage == "evaluate"]
    assert {event.model for event in points} == set(TINY.cells)
    assert set(points[0].metrics) == {"step", "seconds", "train_loss", "test_mse"}
    assert all(cell.steps < 50 for cell in result.cells.values())


def test_the_json_is_shaped_as_the_cli_promises(tiny_race):
    payload = json.loads(json.dumps(tiny_race.to_json()))
    assert list(payload) == ["task", "lag", "chance_mse", "models"] and list(payload["models"]) == list(TINY.cells)
    for values in payload["models"].values():
        assert list(values) == ["test_mse", "steps", "seconds", "curve"]
        assert all(list(point) == ["step", "seconds", "train_loss", "test_mse"] for point in values["curve"])
    assert without_seconds(race.result_from_json(payload)) == without_seconds(
        race.result_from_json(tiny_race.to_json())
    )


# What happened -------------------------------------------------------------------------------------------------


def made_up_result(errors: dict[str, float], rates: dict[str, float], chance: float = 0.16) -> race.RaceResult:
    cells = {name: race.CellResult(name, errors[name], int(rates[name] * 20), 20.0, ()) for name in errors}
    return race.RaceResult("adding", 50, chance, cells)


def test_the_caption_says_who_learned_by_how_much_and_who_was_fastest():
    result = made_up_result({"rnn": 0.0287, "lstm": 0.0019, "gru": 0.0012}, {"rnn": 151, "lstm": 85, "gru": 67})
    caption = race.describe_race(result, 20)
    assert "At T = 50, in 20 s each" in caption
    assert "the LSTM (0.0019) and the GRU (0.0012) learned the task" in caption
    assert "the SimpleRNN (0.0287) learned part of it" in caption
    assert "The SimpleRNN's error is 24× the GRU's" in caption
    assert "The SimpleRNN made the most steps per second (151), the GRU the fewest (67)" in caption
    assert "more steps did not buy the SimpleRNN a lower error" in caption


def test_the_caption_of_a_race_nobody_won():
    result = made_up_result({"rnn": 0.16, "lstm": 0.158}, {"rnn": 100, "lstm": 50})
    caption = race.describe_race(result, 5)
    assert "the SimpleRNN (0.1600) and the LSTM (0.1580) stayed at chance" in caption and "×" not in caption


# The reference sweep -------------------------------------------------------------------------------------------


@pytest.mark.slow  # four small races
def test_a_sweep_runs_every_lag_and_seed_and_summarises_them(tmp_path):
    config = replace(TINY, steps=2, cells=("rnn", "gru"))
    sweep = race.run_sweep(config, lags=(4, 8), seeds=(0, 1))
    assert [(run["lag"], run["seed"]) for run in sweep["runs"]] == [(4, 0), (4, 1), (8, 0), (8, 1)]
    rows = sweep["summary"]["gru"]
    assert [row["lag"] for row in rows] == [4, 8]
    errors = [run["models"]["gru"]["test_mse"] for run in sweep["runs"] if run["lag"] == 8]
    assert rows[1]["median_test_mse"] == pytest.approx(np.median(errors))
    assert rows[1]["min_test_mse"] == min(errors) and rows[1]["max_test_mse"] == max(errors)
    # Written, recorded in a manifest, and verified when read back; a changed byte is refused by name.
    (tmp_path / models.MANIFEST_FILE).write_text(json.dumps({"files": {}, "sequence_length": 400}))
    race.save_sweep(sweep, tmp_path / models.RACE_SWEEP_FILE)
    models.record_in_manifest(tmp_path, models.RACE_SWEEP_FILE)
    assert (
        race.load_sweep(tmp_path, models.read_manifest(tmp_path))["summary"] == json.loads(json.dumps(sweep))["summary"]
    )
    (tmp_path / models.RACE_SWEEP_FILE).write_text(json.dumps(sweep | {"task": "adding "}))
    with pytest.raises(models.ModelFileError, match="race_sweep.json does not match its sha256"):
        race.load_sweep(tmp_path, models.read_manifest(tmp_path))


def test_a_folder_without_a_sweep_has_none(tmp_path):
    assert race.load_sweep(tmp_path, {"files": {}}) is None


# The CLI -------------------------------------------------------------------------------------------------------


def run_cli(capsys, *arguments):
    code = main(["race", *arguments])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.slow
def test_cli_race_prints_the_promised_json(capsys):
    code, out, err = run_cli(capsys, "--lag", "6", "--steps", "2", "--cells", "rnn,gru", "--seed", "3", "--json")
    payload = json.loads(out)
    assert code == 0 and err == ""
    assert list(payload) == ["task", "lag", "chance_mse", "models"] and list(payload["models"]) == ["rnn", "gru"]
    assert payload["task"] == "adding" and payload["lag"] == 6
    for values in payload["models"].values():
        assert values["steps"] == 2 and [point["step"] for point in values["curve"]] == [0, 1, 2]


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (["--lag", "1"], "--lag: 1 is not between 2 and 400"),
        (["--lag", "ten"], "--lag: 'ten' is not a whole number"),
        (["--seconds", "0"], "--seconds: 0 is not above 0"),
        (["--seconds", "inf"], "--seconds: inf is not above 0"),
        (["--seconds", "soon"], "--seconds: 'soon' is not a number"),
        (["--cells", "rnn,cnn"], "--cells: 'rnn,cnn' is not a comma-separated list"),
        (["--cells", "lstm,lstm"], "distinct cells"),
        (["--cells", ""], "--cells: '' is not"),
        (["--units", "0"], "--units: 0 is not between 1 and 256"),
        (["--task", "copy"], "--task: invalid choice"),
        (["--steps", "0"], "--steps: 0 is not at least 1"),
        (["--seed", "-1"], "--seed: -1 is not between"),
    ],
)
def test_cli_race_bad_values_exit_2_with_one_line(capsys, arguments, fragment):
    with pytest.raises(SystemExit) as exit_info:
        main(["race", *arguments])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and fragment in err and len(err.strip().splitlines()) == 1


def test_cli_sweep_writes_the_file_and_its_sha256_into_the_manifest(capsys, tmp_path, monkeypatch):
    """`race --sweep` writes where the page reads it and records it as the memory experiment is recorded."""
    (tmp_path / models.MANIFEST_FILE).write_text(json.dumps({"files": {}, "sequence_length": 400}))
    made_up = {"task": "adding", "summary": {"rnn": []}, "total_seconds": 1.0}
    monkeypatch.setattr(race, "run_sweep", lambda config, report=None: made_up | {"seconds": config.seconds})
    code = main(["--models-dir", str(tmp_path), "race", "--sweep", "--seconds", "7", "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["summary"] == {"rnn": []}
    manifest = models.read_manifest(tmp_path)
    assert manifest["files"][models.RACE_SWEEP_FILE] == models.sha256_file(tmp_path / models.RACE_SWEEP_FILE)
    assert race.load_sweep(tmp_path, manifest)["seconds"] == 7


def test_a_retrain_keeps_the_verified_sweep(tmp_path):
    """`train` rebuilds the models folder; the sweep, which does not depend on the models, is carried over."""
    from rnndemo.training_artifacts import carry_race_sweep

    old, staging = tmp_path / "old", tmp_path / "staging"
    for folder in (old, staging):
        folder.mkdir()
        (folder / models.MANIFEST_FILE).write_text(json.dumps({"files": {}, "sequence_length": 400}))
    race.save_sweep({"task": "adding", "summary": {}}, old / models.RACE_SWEEP_FILE)
    models.record_in_manifest(old, models.RACE_SWEEP_FILE)
    carry_race_sweep(old, staging)
    assert race.load_sweep(staging, models.read_manifest(staging)) == {"task": "adding", "summary": {}}
