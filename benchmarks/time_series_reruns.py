"""Time the Time series page's reruns through Streamlit's AppTest; prints JSON {action: {median, p95, max, runs}} in ms,
wall time, and the same of the process's CPU time per rerun under "cpu" (less sensitive to the machine's load).

Each rerun changes one thing a visitor changes: the origin (dragged through every stop of the test period), the
horizon, the window W, the LSTM stepper's step, or the series. The first run (models and series loaded) is not
counted. Usage: python -m benchmarks.time_series_reruns [ROUNDS]
"""

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from streamlit.testing.v1 import AppTest  # noqa: E402

from rnndemo import forecasting  # noqa: E402


def timed(app: AppTest, samples: list[float], cpu: list[float]) -> None:
    started, started_cpu = time.perf_counter(), time.process_time()
    app.run()
    samples.append((time.perf_counter() - started) * 1000)
    cpu.append((time.process_time() - started_cpu) * 1000)
    if app.exception:
        raise RuntimeError([error.value for error in app.exception])


def summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {
        "median": round(statistics.median(ordered), 1),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
        "max": round(ordered[-1], 1),
        "runs": len(ordered),
    }


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    app.run()
    app.switch_page("pages/time_series.py").run()  # loads the forecasts and the LSTM weights: not counted
    timings: dict[str, list[float]] = {"origin": [], "horizon": [], "window": [], "step": [], "series": []}
    cpu: dict[str, list[float]] = {action: [] for action in timings}
    for _ in range(rounds):
        for series in ("co2", "sunspots"):
            app.radio(key="ts_series").set_value(series)
            timed(app, timings["series"], cpu["series"])
            origins = app.select_slider(key=f"ts_origin_{series}").options
            for origin in origins:
                app.select_slider(key=f"ts_origin_{series}").set_value(origin)
                timed(app, timings["origin"], cpu["origin"])
            for horizon in app.selectbox(key=f"ts_horizon_{series}").options:
                app.selectbox(key=f"ts_horizon_{series}").set_value(horizon)
                timed(app, timings["horizon"], cpu["horizon"])
                for window in forecasting.SERIES[series].windows:
                    app.selectbox(key=f"ts_window_{series}").set_value(window)
                    timed(app, timings["window"], cpu["window"])
                    for step in (1, window // 2, window):
                        app.slider(key=f"ts_step_{series}_{window}").set_value(step)
                        timed(app, timings["step"], cpu["step"])
    result = {action: summary(samples) for action, samples in timings.items()}
    result["cpu"] = {action: summary(samples) for action, samples in cpu.items()}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
