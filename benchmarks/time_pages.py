"""Time whole-page reruns through Streamlit's AppTest; prints JSON {page: [ms, ...]}.

Run by `python -m benchmarks` in its own process (the library itself never imports streamlit).
Usage: python -m benchmarks.time_pages REPETITIONS TEXT_FILE
"""

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from streamlit.testing.v1 import AppTest  # noqa: E402

# name -> (page, options set before the runs): Inside as it opens, and with "Measure which words mattered" on.
PAGES = {
    "inside": ("pages/inside.py", {}),
    "inside_measured": ("pages/inside.py", {"inside_measure_words": True}),
    "compare": ("pages/compare.py", {}),
    "language_model": ("pages/language_model.py", {}),
}


def main() -> None:
    repetitions, text = int(sys.argv[1]), Path(sys.argv[2]).read_text(encoding="utf-8")
    timings = {}
    for name, (page, options) in PAGES.items():
        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        app.run()
        app.switch_page(page)
        for option, value in options.items():
            app.session_state[option] = value
        samples = []
        for repetition in range(repetitions + 1):
            app.session_state["review_text"] = text + (" fine" * repetition)  # a new text each time: nothing cached
            started = time.perf_counter()
            app.run()
            samples.append((time.perf_counter() - started) * 1000)
        timings[name] = samples[1:]  # the first run loads the models
    print(json.dumps(timings))


if __name__ == "__main__":
    main()
