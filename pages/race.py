"""Train it yourself: SimpleRNN, LSTM and GRU race live on a task built to need memory."""

import pandas as pd
import streamlit as st

from rnndemo import models, race, race_plots, race_tasks, ui
from rnndemo.config import default_models_dir
from rnndemo.registry import DISPLAY_NAMES

POLL_SECONDS = 0.5  # the live section's refresh while a race is queued or running
MAX_PAGE_SECONDS = 60  # a visitor's budget per cell; the CLI allows more
UNIT_CHOICES = (8, 16, 32, 64, 128)
HISTORY_KEY = "race_history"  # this session's finished races, for the error-against-T chart
HISTORY_LIMIT = 50  # races kept per session
AXIS_LABELS = {"seconds": "training seconds", "steps": "gradient steps"}


def race_settings(*, key: str) -> tuple[str, race_tasks.RaceConfig | None]:
    """The task, and the race the controls describe (None when no cell is chosen)."""
    task = st.radio(
        "Task",
        list(race_tasks.TASKS),
        horizontal=True,
        format_func=lambda name: race_tasks.TASKS[name].title,
        **ui.option(f"{key}_task"),
    )
    st.caption(race_tasks.TASKS[task].description)
    lag_column, units_column, seconds_column = st.columns(3)
    lag = lag_column.slider("Lag T (steps in every sequence)", 10, 200, 50, step=10, **ui.option(f"{key}_lag"))
    units = units_column.select_slider("Units per cell", UNIT_CHOICES, 32, **ui.option(f"{key}_units"))
    seconds = seconds_column.slider(
        "Training time per cell (s)", 1, MAX_PAGE_SECONDS, 20, **ui.option(f"{key}_seconds")
    )
    cells = st.multiselect(
        "Cells that race",
        list(race_tasks.CELLS),
        default=list(race_tasks.CELLS),
        format_func=lambda cell: DISPLAY_NAMES[cell],
        **ui.option(f"{key}_cells"),
    )
    if not cells:
        st.warning("Choose at least one cell to race.")
        return task, None
    ordered = tuple(cell for cell in race_tasks.CELLS if cell in cells)
    return task, race_tasks.RaceConfig(task=task, lag=lag, units=units, seconds=float(seconds), cells=ordered)


def _train(session: str, config: race_tasks.RaceConfig) -> None:
    ui.race_jobs().submit(session, config)


def _stop(session: str) -> None:
    ui.race_jobs().stop(session)


def race_buttons(*, session: str, config: race_tasks.RaceConfig | None, active: bool, key: str) -> None:
    """Train (one race per visitor: off while yours is queued or running) and Stop."""
    train, stop, note = st.columns([1, 1, 4])
    train.button(
        "Train",
        key=f"{key}_train",
        type="primary",
        on_click=_train,
        args=(session, config),
        disabled=active or config is None,
        width="stretch",
    )
    stop.button("Stop", key=f"{key}_stop", on_click=_stop, args=(session,), disabled=not active, width="stretch")
    if config is not None:
        total = len(config.cells) * config.seconds
        note.caption(
            f"Each cell trains for {config.seconds:g} s of its own, one batch each in turn: about {total:g} s in all. "
            "The race runs in a separate process, one race at a time on this server; leave this page and it is "
            "cancelled."
        )


def record_run(view) -> None:
    """Keep a finished race's errors in the session, once, for the error-against-T chart."""
    history = st.session_state.setdefault(HISTORY_KEY, [])
    if view.state != "done" or view.result is None or any(row["job"] == view.job_id for row in history):
        return
    history.append(
        {
            "job": view.job_id,
            "task": view.config.task,
            "lag": view.config.lag,
            "seconds": view.config.seconds,
            "chance_mse": view.result.chance_mse,
            "models": {name: cell.test_mse for name, cell in view.result.cells.items()},
        }
    )
    del history[:-HISTORY_LIMIT]


def race_status(view) -> None:
    """Where the visitor's race is: its place in the queue, a progress bar with the seconds left, or how it ended."""
    if view.state == "queued" and view.races_ahead == 0:
        st.progress(0.0, text="Starting your race…")
    elif view.state == "queued":
        st.info(
            f"Another visitor's race is running. Yours is number {view.place} in the queue; "
            f"expected wait about {view.wait_seconds:.0f} s."
        )
        st.progress(0.0, text="Waiting in the queue…")
    elif view.state == "running":
        fraction = min(0.99, view.elapsed_seconds / max(view.expected_seconds, 1e-9))
        starting = " (starting a training process)" if not any(view.curves.values()) else ""
        st.progress(fraction, text=f"Training{starting}: about {view.seconds_left:.0f} s left")
    elif view.state == "done":
        st.success(f"Finished in {view.elapsed_seconds:.0f} s.")
    elif view.state == "stopped":
        st.warning(f"Stopped after {view.elapsed_seconds:.0f} s. The numbers below are each cell's last point so far.")
    else:
        st.error("This race did not finish.")
        st.text(view.message)


def results_table(result: race.RaceResult) -> None:
    """Each cell's held-out error, how it compares with chance, and its steps per second."""
    rows = [
        {
            "cell": DISPLAY_NAMES[name],
            "test MSE": cell.test_mse,
            "share of chance": cell.test_mse / result.chance_mse,
            "outcome": race.verdict(cell.test_mse, result.chance_mse),
            "steps": cell.steps,
            "training seconds": cell.seconds,
            "steps per second": cell.steps_per_second,
        }
        for name, cell in result.cells.items()
    ]
    ui.dataframe(pd.DataFrame(rows), hide_index=True)


def live_race(*, session: str, axis: str, budget: float, key: str, polling_when_drawn: bool) -> None:
    """The visitor's race as it stands: status, the curves, and at the end the results (a fragment while live)."""
    view = ui.race_jobs().touch(session)  # also the heartbeat: a race nobody polls is cancelled
    if view is None:
        st.info("Choose a task and a lag, then press **Train**: the curves grow here as the cells learn.")
        # The empty axes also load the browser's chart library now, not when the first point arrives (~1.7 s).
        ui.plotly_chart(race_plots.race_curves({}, None, DISPLAY_NAMES, axis, budget), key=f"{key}_curves")
        return
    record_run(view)
    if view.active != polling_when_drawn:
        st.rerun()  # the whole page: the timer, the buttons and the chart of your races change together
    race_status(view)
    figure = race_plots.race_curves(view.curves, view.chance_mse, DISPLAY_NAMES, axis, view.config.seconds)
    ui.plotly_chart(figure, key=f"{key}_curves")
    if view.result is not None and view.result.cells:
        results_table(view.result)
        st.caption(race.describe_race(view.result, view.config.seconds))


def reference_sweep() -> dict | None:
    """The committed reference sweep, verified; None (with a note) when it is missing or refused."""
    folder = default_models_dir()
    try:
        manifest = models.read_manifest(folder)
    except models.ModelFileError:
        st.caption(f"No reference sweep: the models folder has no valid manifest; {race.SWEEP_HINT}.")
        return None
    try:
        sweep = race.load_sweep(folder, manifest)
    except models.ModelFileError as error:
        st.warning("The reference sweep's file was refused.")
        st.text(str(error))
        return None
    if sweep is None:
        st.caption(f"No reference sweep has been computed; {race.SWEEP_HINT}.")
    return sweep


def your_races_chart(*, task: str, key: str) -> None:
    runs = [row for row in st.session_state.get(HISTORY_KEY, []) if row["task"] == task]
    if not runs:
        st.caption("Each race you finish on this task adds its errors here, at its T.")
        return
    series = {
        name: [{"lag": row["lag"], "test_mse": row["models"][name]} for row in runs if name in row["models"]]
        for name in race_tasks.CELLS
    }
    chance = {row["lag"]: row["chance_mse"] for row in runs}
    title = f"Your {len(runs)} race{'s' * (len(runs) > 1)}"
    figure = race_plots.error_against_lag(
        {name: rows for name, rows in series.items() if rows}, chance, DISPLAY_NAMES, title
    )
    ui.plotly_chart(figure, key=f"{key}_yours")


def sweep_chart(*, task: str, key: str) -> None:
    sweep = reference_sweep()
    if sweep is None:
        return
    if sweep["task"] != task:
        st.caption(f"The reference sweep is for the {race_tasks.TASKS[sweep['task']].title.lower()}; choose that task.")
        return
    series = {
        name: [
            {
                "lag": row["lag"],
                "test_mse": row["median_test_mse"],
                "low": row["min_test_mse"],
                "high": row["max_test_mse"],
            }
            for row in rows
        ]
        for name, rows in sweep["summary"].items()
    }
    chance = {row["lag"]: row["median_chance_mse"] for row in next(iter(sweep["summary"].values()))}
    title = f"Reference: {sweep['seconds']:g} s per cell, {len(sweep['seeds'])} seeds"
    ui.plotly_chart(race_plots.error_against_lag(series, chance, DISPLAY_NAMES, title), key=f"{key}_sweep")
    st.caption(f"{sweep['design']} Computed offline with `python -m rnndemo race --sweep`.")


def error_against_lag(*, task: str, key: str) -> None:
    """Your races beside the reference sweep: where does each cell stop learning as T grows?"""
    st.subheader("Error against the lag T")
    yours, reference = st.columns(2)
    with yours:
        your_races_chart(task=task, key=key)
    with reference:
        sweep_chart(task=task, key=key)


ui.leave_legacy_router()
st.title("Train it yourself")
st.caption(
    "The lesson says a plain RNN has a short memory and that recurrent networks are slow to train. Here a "
    "SimpleRNN, an LSTM and a GRU (Keras layers, trained now on this server) race on a task that needs memory, "
    "with the same time each. Their error on held-out sequences is drawn as they learn."
)
jobs = ui.race_jobs()
jobs.warm_up()  # a training process imports TensorFlow while you choose, so Train starts at once
session = ui.session_id()
task, config = race_settings(key="race")
current = jobs.touch(session)
active = current is not None and current.active
race_buttons(session=session, config=config, active=active, key="race")
axis = st.radio(
    "Curves against",
    list(AXIS_LABELS),
    horizontal=True,
    format_func=lambda axis: AXIS_LABELS[axis],
    **ui.option("race_axis"),
)
live = st.fragment(live_race, run_every=POLL_SECONDS if active else None)
live(session=session, axis=axis, budget=config.seconds if config else 20.0, key="race", polling_when_drawn=active)
error_against_lag(task=task, key="race")
