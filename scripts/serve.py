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


def main() -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
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
    seconds = loading.load_everything(str(default_models_dir()))
    steps = ", ".join(f"{name} {value:.1f} s" for name, value in seconds.items())
    print(f"rnndemo: ready in {time.perf_counter() - started:.1f} s ({steps})", file=sys.stderr, flush=True)
    sys.argv = ["streamlit", "run", str(PROJECT_ROOT / "app.py"), *sys.argv[1:]]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
