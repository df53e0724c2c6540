"""Start the app with TensorFlow and every model loaded before the server listens.

    python scripts/serve.py [streamlit options, e.g. --server.port 8502]

A cold server whose first visitors opened different pages at once imported TensorFlow on several
session threads and deadlocked (rnndemo/loading.py). Here everything loads on this main thread first,
so `/_stcore/health` answers "ok" only once every model is in memory: a proxy never routes a class to
a replica that is still loading, and the first visitor waits for nothing. `make app` and
`make classroom` start the app this way.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


# glibc's mallopt parameter numbers (malloc.h).
M_ARENA_MAX = -8


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas before any thread starts; True if applied.

    Streamlit runs each session's script on its own thread, and glibc gives threads up to 8 arenas per
    core, each keeping freed memory of its own: after a class's visits the server held memory no session
    used. Two arenas keep the settled RSS down (measured in docs/PERFORMANCE.md) at no measured cost
    in speed. Elsewhere (musl, macOS) this does nothing.
    """
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(M_ARENA_MAX, arenas))
    except (OSError, AttributeError):
        return False


def release_freed_memory() -> None:
    """Give the loads' freed temporaries (the GloVe file, the dataset's columns) back to the system."""
    import ctypes
    import ctypes.util

    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def main() -> int:
    # RNNDEMO_MALLOC_ARENAS=0 keeps glibc's default (for measuring the difference).
    arenas = int(os.environ.get("RNNDEMO_MALLOC_ARENAS", "2"))
    if arenas > 0:
        limit_malloc_arenas(arenas)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # Arrow's own allocator keeps what the dataset's split freed (about 200 MB, measured in
    # docs/PERFORMANCE.md); glibc's gives it back at release_freed_memory() below.
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    os.chdir(PROJECT_ROOT)
    sys.path.insert(0, str(PROJECT_ROOT))
    import logging

    from streamlit.web import cli

    # ui's st.cache_data decorators run before the runtime exists; each call finds the runtime's caches.
    logging.getLogger("streamlit.runtime.caching.cache_data_api").setLevel(logging.ERROR)
    from rnndemo import loading, ui
    from rnndemo.config import default_models_dir

    logging.getLogger("streamlit.runtime.caching.cache_data_api").setLevel(logging.NOTSET)

    started = time.perf_counter()
    ui.guard_server()
    # RNNDEMO_COMPILE_AHEAD=0 compiles each review length on first need instead (the test suite's servers).
    compile_ahead = os.environ.get("RNNDEMO_COMPILE_AHEAD", "1") != "0"
    seconds = loading.load_everything(str(default_models_dir()), compile_ahead=compile_ahead)
    release_freed_memory()
    steps = ", ".join(f"{name} {value:.1f} s" for name, value in seconds.items())
    print(f"rnndemo: ready in {time.perf_counter() - started:.1f} s ({steps})", file=sys.stderr, flush=True)
    sys.argv = ["streamlit", "run", str(PROJECT_ROOT / "app.py"), *sys.argv[1:]]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
