"""The app measured in real Chromium sessions: start-up, paste → verdicts, concurrency, memory and load counts.

Loopback only, bounded in sessions and time. Each session pastes its own review and
waits until the page shows exactly the probabilities the library computes for it.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field

from rnndemo.browser import CHROMIUM_ARGS, streamlit_server


@dataclass
class SessionResult:
    text: str
    expected: dict[str, str]  # model display name -> "p(positive) = 0.123"
    seconds: list[float] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def expected_deltas(texts: list[str]) -> list[dict[str, str]]:
    """What the compare page must show for each text, computed by the library itself."""
    from rnndemo.models import DISPLAY_NAMES
    from rnndemo.serving import load_bundle

    bundle = load_bundle()
    return [{DISPLAY_NAMES[name]: f"p(positive) = {prediction.probability_positive:.3f}" for name, prediction in bundle.classify(text).items()}
            for text in texts]


async def _open(browser, url: str, path: str = "compare"):
    page = await browser.new_page(viewport={"width": 1300, "height": 900})
    await page.goto(f"{url}/{path}", timeout=120_000)
    await page.wait_for_selector("textarea", timeout=120_000)
    await page.wait_for_function("() => document.querySelector(\"[data-testid='stApp']\").getAttribute('data-test-script-state') !== 'running'",
                                 timeout=120_000)
    return page


async def _paste_and_wait(page, result: SessionResult, timeout_ms: int = 60_000) -> None:
    """Paste the review, then wait until every expected verdict is on the page; records the time."""
    area = page.locator("textarea").first
    await area.fill(result.text)
    started = time.perf_counter()
    await area.press("Control+Enter")
    wanted = list(result.expected.values())
    try:
        await page.wait_for_function(
            "(wanted) => { const shown = Array.from(document.querySelectorAll(\"[data-testid='stMetricDelta']\")).map(e => e.innerText.trim());"
            " return wanted.every(w => shown.includes(w)); }", arg=wanted, timeout=timeout_ms)
        result.seconds.append(time.perf_counter() - started)
    except Exception as error:  # a timeout is an error of this session, reported, not raised
        result.errors.append(f"{type(error).__name__}: {str(error)[:200]}")
    result.shown = [text.strip() for text in await page.locator("[data-testid='stMetricDelta']").all_inner_texts()]
    if await page.locator("[data-testid='stException']").count():
        result.errors.append("exception shown")


async def run_sessions(url: str, texts: list[str], rounds: int = 1, path: str = "compare") -> list[SessionResult]:
    """One browser page per text, all at once; each pastes its text `rounds` times."""
    from playwright.async_api import async_playwright

    from rnndemo.browser import CHROMIUM

    results = [SessionResult(text, expected) for text, expected in zip(texts, expected_deltas(texts))]
    async with async_playwright() as playwright:
        import os

        options = {"args": CHROMIUM_ARGS}
        if os.path.exists(CHROMIUM):
            options["executable_path"] = CHROMIUM
        browser = await playwright.chromium.launch(**options)
        try:
            pages = await asyncio.gather(*(_open(browser, url, path) for _ in texts))
            for round_number in range(rounds):
                if round_number:  # alternate with a neutral text so every round really changes the verdicts
                    for page in pages:
                        await page.locator("textarea").first.fill("it was a film")
                        await page.locator("textarea").first.press("Control+Enter")
                    await asyncio.sleep(1.0)
                await asyncio.gather(*(_paste_and_wait(page, result) for page, result in zip(pages, results)))
            await asyncio.gather(*(page.close() for page in pages))
        finally:
            await browser.close()
    return results


def server_rss_megabytes(pid: int) -> float:
    """Resident memory of a process and its children, in MB (Linux /proc)."""
    import subprocess

    pids = [str(pid)] + subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    total_kb = 0
    for each in pids:
        try:
            with open(f"/proc/{each}/status") as handle:
                total_kb += next(int(line.split()[1]) for line in handle if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            continue
    return total_kb / 1024


def count_loads(log_lines: list[str]) -> dict[str, int]:
    return {"models": sum("rnndemo: loading models" in line for line in log_lines),
            "glove": sum("rnndemo: loading GloVe" in line for line in log_lines)}


def sample_texts(count: int, seed: int = 0) -> list[str]:
    from rnndemo import data

    return data.sample_reviews("random", count, seed=seed)


def first_page_interactive_seconds() -> float:
    """Cold server start until the home page shows its verdicts in one browser session."""
    from playwright.sync_api import sync_playwright

    from rnndemo.browser import launch_browser, wait_for_idle

    started = time.perf_counter()
    with streamlit_server() as (url, process, _), sync_playwright() as playwright:
        browser = launch_browser(playwright)
        page = browser.new_page()
        page.goto(url, timeout=120_000)
        wait_for_idle(page, 120_000)
        page.wait_for_selector("[data-testid='stMetricDelta']", timeout=120_000)
        seconds = time.perf_counter() - started
        browser.close()
    return seconds


def browser_rows(quick: bool = False) -> list[dict]:
    """Rows for the benchmark table, from one cold server."""
    import threading

    from rnndemo.bench import row

    rows = [row("browser_server_start_to_first_page_interactive", [first_page_interactive_seconds() * 1000])]
    log: list[str] = []
    with streamlit_server({"RNNDEMO_TIMING": "1"}) as (url, process, healthy_seconds):
        threading.Thread(target=lambda: [log.append(line) for line in process.stdout], daemon=True).start()
        started = time.perf_counter()
        # Cold stampede: 10 sessions arrive at once on a server that has loaded nothing yet.
        texts = sample_texts(10, seed=1)
        concurrent = asyncio.run(run_sessions(url, texts))
        first_interactive = healthy_seconds + (time.perf_counter() - started)
        rows.append(row("browser_server_start_to_verdicts_cold_10_sessions", [first_interactive * 1000]))
        single = asyncio.run(run_sessions(url, sample_texts(1, seed=2), rounds=5 if quick else 20))
        rows.append(row("browser_paste_to_verdicts_1_session", [s * 1000 for s in single[0].seconds], errors=len(single[0].errors)))
        waves = []
        for wave in range(3):
            results = asyncio.run(run_sessions(url, sample_texts(10, seed=10 + wave)))
            waves.append((results, server_rss_megabytes(process.pid)))
        all_seconds = [s * 1000 for results, _ in waves for result in results for s in result.seconds]
        errors = sum(len(result.errors) for results, _ in waves for result in results) + sum(len(r.errors) for r in concurrent)
        rows.append(row("browser_paste_to_verdicts_10_concurrent_sessions", all_seconds, errors=errors,
                        rss_mb_after_waves=[round(rss, 1) for _, rss in waves], loads=count_loads(log)))
        reruns = [float(match) for line in log for match in re.findall(r"rnndemo: rerun (\d+) ms", line)]
        if reruns:
            rows.append(row("server_time_per_rerun_during_browser_runs", reruns))
    return rows
