"""Server memory and CPU under load, measured in one process with the app's own caches; prints JSON.

- soak: N distinct long reviews (400+ tokens, real held-out text) through the heavy pages
  (Inside the RNN, RNN vs LSTM vs GRU) under AppTest; the process's resident memory after them.
- batch: the worst upload the limits allow (5,000 rows of 400-token reviews, ~10 MB), parsed and
  scored through the batch page's cached functions: CPU seconds of the first run and of a rerun.

Run by `python -m benchmarks` in its own process (the library itself never imports streamlit).
Usage: python -m benchmarks.soak_pages N [APP_ROOT] [BATCH_ROWS]
(for another checkout, run it with PYTHONPATH=APP_ROOT so its rnndemo is the one imported; BATCH_ROWS caps the
batch file below the limits' worst, 5,000 rows, for `python -m benchmarks --quick`)
"""

import hashlib
import json
import resource
import sys
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from rnndemo import data
from rnndemo.text import tokenize

ROOT = Path(sys.argv[2]).resolve() if len(sys.argv) > 2 else Path(__file__).resolve().parent.parent
WORST_BATCH_ROWS = 5_000  # the most rows the batch page's limits allow


def rss_megabytes() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def long_reviews(count: int) -> list[str]:
    texts = [text for text in data.load_splits().test["text"] if len(tokenize(text)) >= 400]
    return [texts[index % len(texts)] + f" (copy {index})" for index in range(count)]


def soak(count: int) -> dict:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    app.run()
    # The heaviest Inside a visitor can ask for: every word's removal measured, whatever the text's length.
    app.session_state["inside_measure_words"] = True
    started_rss = rss_megabytes()
    milliseconds = []
    for number, text in enumerate(long_reviews(count)):
        app.switch_page("pages/inside.py" if number % 2 == 0 else "pages/compare.py")
        app.session_state["review_text"] = text
        started = time.perf_counter()
        app.run()
        milliseconds.append((time.perf_counter() - started) * 1000)
    return {
        "texts": count,
        "rss_mb_before": round(started_rss),
        "rss_mb_after": round(rss_megabytes()),
        "ms": milliseconds,
    }


def batch_worst_file(rows: int = WORST_BATCH_ROWS) -> dict:
    import os

    from rnndemo import ui
    from rnndemo.config import default_models_dir

    reviews = long_reviews(rows)
    raw = ("text,label\n" + "".join(f'"{text.replace(chr(34), chr(39))}",1\n' for text in reviews)).encode()
    limit = 10 * 1024 * 1024
    raw = raw[: raw.rfind(b"\n", 0, limit) + 1]  # whole rows, within the upload limit
    ui.load_models()  # the models load once per server, not per file
    timings = {}
    for run in ("first_run", "rerun"):
        cpu, wall = time.process_time(), time.perf_counter()
        digest = hashlib.sha256(raw).hexdigest()
        parsed = ui.parsed_upload(raw, digest, "worst.csv")
        ui.upload_probabilities(raw, digest, "worst.csv", "text", str(default_models_dir()))
        timings[run] = {"cpu_s": round(time.process_time() - cpu, 3), "wall_s": round(time.perf_counter() - wall, 3)}
    return {"rows": len(parsed.frame), "megabytes": round(len(raw) / 1e6, 1), "threads": os.cpu_count(), **timings}


def main() -> None:
    from rnndemo import ui

    count = int(sys.argv[1])
    rows = int(sys.argv[3]) if len(sys.argv) > 3 else WORST_BATCH_ROWS
    # An older checkout has no cached batch path.
    batch = batch_worst_file(rows) if hasattr(ui, "parsed_upload") else None
    print(json.dumps({"batch": batch, "soak": soak(count)}))


if __name__ == "__main__":
    main()
