"""The race worker: what runs in the spawned process of one race, and how it is started without the app's script.

`rnndemo.race_jobs` owns the workers from the server side: it starts each one with `start_without_main_script`,
hands it a `RaceConfig` and reads its reports from the pipe that `worker_main` writes to.
"""

from __future__ import annotations

import os
import sys
import types
from typing import Any

WORKER_NICENESS = 10  # below the server's sessions


def worker_main(connection: Any) -> None:
    """The worker process: lower priority, one TensorFlow thread, then one race; reports go to the pipe."""
    os.nice(WORKER_NICENESS)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from rnndemo import race

    race.limit_threads()  # before any TensorFlow op
    race.warm_up()
    parent = os.getppid()
    try:
        connection.send(("ready", None))
        config = connection.recv()  # a RaceConfig; a standby waits here, and gets EOFError when the server goes
    except (EOFError, OSError):
        return
    try:
        result = race.run_race(
            config,
            report=lambda event: connection.send(("event", event)),
            stop=lambda: os.getppid() != parent,  # the server died: stop rather than train for nobody
        )
        connection.send(("result", result.to_json()))
    except (BrokenPipeError, EOFError):
        return
    except Exception as error:  # noqa: BLE001 — the page says what went wrong instead of waiting forever
        connection.send(("error", f"{type(error).__name__}: {error}"))


_NO_MAIN_SCRIPT = types.ModuleType("__main__")  # no __file__, no __spec__: nothing for a spawned child to re-run


def start_without_main_script(process: Any) -> bool:
    """Start a spawned process that does not run the parent's main script first; False if that is not certain.

    A spawned child re-imports the parent's `__main__`. Inside Streamlit that is the module of the script
    being run (Streamlit installs app.py's module as `__main__`), so the worker would run the whole app,
    loading every model, before its race. For the instant of `start()`, `__main__` is a module without a
    file. A script run that starts meanwhile installs its own module: then the child may have been told to
    run it, and the caller starts another.
    """
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = _NO_MAIN_SCRIPT
    try:
        process.start()
    finally:
        untouched = sys.modules.get("__main__") is _NO_MAIN_SCRIPT
        if untouched:
            sys.modules["__main__"] = main
    return untouched
