"""`python -m benchmarks.stampede_memory`: the server's memory when 10 sessions hit a cold server at once.

The sequence of tests/test_load.py (10 cold sessions, then 3 waves of 10), in real Chromium sessions on
loopback, with the server's RSS sampled every 0.3 s; prints the peak, the RSS after each wave and the loads.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time

from benchmarks.browser import streamlit_server
from benchmarks.browser_sessions import count_loads, run_sessions, sample_texts, server_rss_megabytes


def main() -> None:
    log: list[str] = []
    with streamlit_server() as (url, process, _):
        threading.Thread(target=lambda: [log.append(line) for line in process.stdout], daemon=True).start()
        peak = [0.0]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.3):
                peak[0] = max(peak[0], server_rss_megabytes(process.pid))

        threading.Thread(target=sample, daemon=True).start()
        started = time.perf_counter()
        results = asyncio.run(run_sessions(url, sample_texts(10, seed=21)))
        after_stampede = server_rss_megabytes(process.pid)
        waves = []
        for wave in range(3):
            results += asyncio.run(run_sessions(url, sample_texts(10, seed=30 + wave)))
            waves.append(round(server_rss_megabytes(process.pid), 1))
        done.set()
        report = {
            "rss_mb_after_cold_stampede": round(after_stampede, 1),
            "rss_mb_after_waves": waves,
            "rss_mb_peak": round(peak[0], 1),
            "errors": sum(len(result.errors) for result in results),
            "loads": count_loads(log),
            "seconds": round(time.perf_counter() - started, 1),
        }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
