"""The race page under AppTest: Train draws growing curves and a result, Stop ends a race, others queue.

AppTest does not run a fragment's timer by itself, so each test reruns the app to poll, as the timer would.
"""

import json
import os
import time
import uuid

import pytest
import streamlit as st

from rnndemo import race_jobs, ui

from .apptest_support import all_text, open_page


@pytest.fixture
def jobs(monkeypatch):
    """A race queue of the test's own (the page reaches it through ui.race_jobs)."""
    manager = race_jobs.RaceJobs()
    monkeypatch.setattr(race_jobs, "shared_jobs", lambda: manager)
    yield manager
    manager.shutdown()


def race_page(seconds: int, lag: int = 10):
    app = open_page("pages/race.py")
    app.slider(key="race_seconds").set_value(seconds).run()
    app.slider(key="race_lag").set_value(lag).run()
    assert not app.exception
    return app


def curve_points(app) -> dict[str, int]:
    """Points per cell on the live chart (the page's first chart)."""
    charts = app.get("plotly_chart")
    if not charts:
        return {}
    figure = json.loads(charts[0].proto.spec)
    return {trace["name"]: len(trace["x"]) for trace in figure["data"] if trace.get("x") is not None}


def poll(app, until, timeout: float = 240.0):
    """Rerun the app (the fragment's timer, by hand) until `until(app)` holds; returns what it returned. The
    worker runs at nice 10: with the suite's other workers on both cores a 3-second race took over 60 s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.run()
        assert not app.exception, [error.value for error in app.exception]
        value = until(app)
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"not within {timeout} s:\n{all_text(app)}")


@pytest.mark.slow  # trains real (small) models in a worker process
def test_train_draws_curves_that_grow_and_then_the_result(jobs):
    """A visitor presses Train with a 1-second budget: three curves grow, then each cell's error, its steps per
    second and a caption say what happened, and the race joins the chart of their races against T."""
    app = race_page(seconds=1)
    app.button(key="race_train").click().run()
    assert app.button(key="race_train").disabled and not app.button(key="race_stop").disabled
    first = poll(app, lambda app: curve_points(app) if sum(curve_points(app).values()) >= 1 else None)
    poll(app, lambda app: "Finished in" in all_text(app))
    last = curve_points(app)
    assert set(last) == {"SimpleRNN", "LSTM", "GRU"} and sum(last.values()) > sum(first.values())
    table = app.dataframe[0].value
    assert list(table["cell"]) == ["SimpleRNN", "LSTM", "GRU"] and (table["steps per second"] > 0).all()
    assert "At T = 10, in 1 s each" in all_text(app) and "Your 1 race" in json.dumps(
        [json.loads(chart.proto.spec)["layout"].get("title") for chart in app.get("plotly_chart")]
    )
    assert not app.button(key="race_train").disabled and app.button(key="race_stop").disabled


@pytest.mark.slow  # trains real (small) models in a worker process
def test_stop_ends_a_race_mid_run_and_frees_its_worker(jobs):
    """Stop mid-race: the page says it stopped, shows the numbers so far, and the worker process is gone."""
    app = race_page(seconds=30)
    app.button(key="race_train").click().run()
    poll(app, lambda app: sum(curve_points(app).values()) >= 3)
    pid = jobs.running_pid()
    app.button(key="race_stop").click().run()
    assert "Stopped after" in all_text(app) and app.dataframe[0].value["steps"].min() >= 0
    deadline = time.monotonic() + 1.0
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not os.path.exists(f"/proc/{pid}")
    assert not app.button(key="race_train").disabled


@pytest.mark.slow  # trains real (small) models in a worker process
def test_a_second_visitor_waits_in_the_queue_and_sees_the_expected_wait(jobs, monkeypatch):
    """While one visitor's race runs, another's Train queues it: their place and an expected wait are shown."""
    # Every AppTest has the same session id; here each app is a visitor of its own.
    monkeypatch.setattr(ui, "session_id", lambda: st.session_state.setdefault("test_visitor", str(uuid.uuid4())))
    first, second = race_page(seconds=30), race_page(seconds=1)
    first.button(key="race_train").click().run()
    poll(first, lambda app: jobs.running_pid())
    second.button(key="race_train").click().run()
    assert "Yours is number 1 in the queue; expected wait about" in all_text(second)
    assert second.button(key="race_train").disabled  # one job per visitor, queued or running
    first.button(key="race_stop").click().run()
    poll(second, lambda app: "Finished in" in all_text(app))


def test_no_cell_chosen_means_no_train():
    app = open_page("pages/race.py")
    app.multiselect(key="race_cells").set_value([]).run()
    assert "Choose at least one cell" in all_text(app) and app.button(key="race_train").disabled


def made_up_sweep() -> dict:
    rows = [
        {"lag": lag, "median_test_mse": error, "min_test_mse": error / 2, "max_test_mse": error * 2}
        | {"median_chance_mse": 0.167, "median_steps_per_second": 100.0}
        for lag, error in ((10, 0.001), (50, 0.02), (200, 0.16))
    ]
    return {
        "design": "Made up for a test.",
        "task": "adding",
        "seconds": 20,
        "seeds": [0, 1, 2],
        "summary": {cell: rows for cell in ("rnn", "lstm", "gru")},
    }


def test_the_reference_sweep_is_drawn_for_its_task_and_a_tampered_one_is_refused(tmp_path, monkeypatch):
    """The committed sweep is drawn beside the visitor's races; it is verified like every other artifact."""
    from rnndemo import models, race

    (tmp_path / models.MANIFEST_FILE).write_text(json.dumps({"files": {}, "sequence_length": 400}))
    race.save_sweep(made_up_sweep(), tmp_path / models.RACE_SWEEP_FILE)
    models.record_in_manifest(tmp_path, models.RACE_SWEEP_FILE)
    monkeypatch.setenv("RNNDEMO_MODELS_DIR", str(tmp_path))
    app = open_page("pages/race.py")
    titles = [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in app.get("plotly_chart")]
    assert "Reference: 20 s per cell, 3 seeds" in titles and "Made up for a test." in all_text(app)
    app.radio(key="race_task").set_value("recall").run()
    assert "The reference sweep is for the adding problem; choose that task." in all_text(app)
    (tmp_path / models.RACE_SWEEP_FILE).write_text(json.dumps(made_up_sweep() | {"design": "planted"}))
    app.radio(key="race_task").set_value("adding").run()
    assert not app.exception and "race_sweep.json does not match its sha256" in all_text(app)
    assert "planted" not in all_text(app)
