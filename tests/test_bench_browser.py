"""The browser benchmark's own instruments (no browser needed): CPU accounting and waiting for quiet."""

import subprocess
import sys
import time

import pytest

from benchmarks.browser_sessions import cpu_seconds, wait_until_quiet

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def test_cpu_seconds_counts_a_busy_process_and_nothing_for_no_match():
    marker = "rnndemo-busy-marker-1"
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass", marker, "second-argument"])
    try:
        # Until it has used 0.3 s of CPU, matched across arguments as on a command line: 0.3 s on an idle machine,
        # longer on a loaded one (a fixed 1.5 s sleep gave it only 0.28 s of CPU with two other test runs going).
        deadline = time.monotonic() + 30
        while cpu_seconds(f"{marker} second-argument") <= 0.3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert cpu_seconds(f"{marker} second-argument") > 0.3
    finally:
        busy.kill()
        busy.wait()
    assert cpu_seconds("no-process-has-this-in-its-command-line") == 0.0


def test_wait_until_quiet_waits_for_busy_processes_and_not_for_idle_ones():
    marker = "rnndemo-busy-marker-2"
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass", marker])
    try:
        # A low threshold: on a machine loaded 10 times over its 2 cores a busy loop still gets ~0.1 core.
        waited = wait_until_quiet(marker, below_cores=0.02, window_seconds=0.5, timeout_seconds=1.0)
        assert waited >= 1.0  # never quiet over two windows: gives up at the timeout
    finally:
        busy.kill()
        busy.wait()
    assert (
        wait_until_quiet(marker, below_cores=0.02, window_seconds=0.5, timeout_seconds=5.0) < 1.5
    )  # gone: quiet after one window
