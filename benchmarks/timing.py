"""Timing helpers shared by the benchmark's in-process and browser rows (no imports of either)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def _percentiles(samples_ms: list[float]) -> tuple[float, float]:
    ordered = sorted(samples_ms)
    p95_index = min(len(ordered) - 1, max(0, int(round(0.95 * (len(ordered) - 1)))))
    return statistics.median(ordered), ordered[p95_index]


def measure(function: Callable[[], object], repetitions: int, warmup: int = 2) -> list[float]:
    """Wall-clock milliseconds of `repetitions` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        function()
    samples = []
    for _ in range(repetitions):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def row(name: str, samples: list[float], naive: list[float] | None = None, **extra) -> dict:
    p50, p95 = _percentiles(samples)
    result = {"name": name, "n": len(samples), "p50_ms": round(p50, 3), "p95_ms": round(p95, 3)}
    if naive:
        result["naive_p50_ms"] = round(_percentiles(naive)[0], 3)
        result["speedup"] = round(result["naive_p50_ms"] / max(result["p50_ms"], 1e-9), 1)
    result.update(extra)
    return result
