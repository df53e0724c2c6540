"""Run the real app (`scripts/serve.py`, as `make app` does) and drive it in Debian's Chromium with playwright.

Used by the browser tests and by `python -m benchmarks --browser`; playwright is imported lazily.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(extra_env: dict | None = None, timeout: float = 90.0, root: Path = PROJECT_ROOT):
    """Start the app (of this checkout, or another at `root`) on a free loopback port;
    yields (url, process, start seconds until healthy)."""
    port = free_port()
    environment = dict(os.environ, PYTHONPATH=str(root), **(extra_env or {}))
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            str(root / "scripts" / "serve.py"),  # loads every model before it listens, as `make app` does
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=root,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read().decode() == "ok":
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("the app did not become healthy in time")
        yield url, process, time.perf_counter() - started
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


# Browser waits poll every POLL_MS instead of Playwright's default requestAnimationFrame polling,
# which runs the check in every page on every frame while ten pages share two cores with the
# server (not measured on its own; see docs/PERFORMANCE.md).
POLL_MS = 100
SCRIPT_IDLE = (
    "() => { const app = document.querySelector(\"[data-testid='stApp']\");"
    " return app && app.getAttribute('data-test-script-state') !== 'running'; }"
)


def launch_options() -> dict:
    """Keyword arguments for playwright's `chromium.launch` (sync or async): Debian's Chromium when present,
    else playwright's own (machines with internet: `playwright install chromium`)."""
    options = {"args": CHROMIUM_ARGS}
    if os.path.exists(CHROMIUM):
        options["executable_path"] = CHROMIUM
    return options


def launch_browser(playwright):
    return playwright.chromium.launch(**launch_options())


def wait_for_idle(page, timeout_ms: int = 60_000) -> None:
    """Wait until the Streamlit script has finished running for this page."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout_ms)
    # Before the first run starts the app is also "not running": wait for some content first.
    page.wait_for_selector("h1, [data-testid='stException'], [data-testid='stAlert']", timeout=timeout_ms)
    page.wait_for_function(SCRIPT_IDLE, polling=POLL_MS, timeout=timeout_ms)
    page.wait_for_timeout(150)  # let the last deltas paint
    page.wait_for_function(SCRIPT_IDLE, polling=POLL_MS, timeout=timeout_ms)


def open_from_navigation(page, title: str, headings: dict[str, str], timeout_ms: int = 120_000) -> str:
    """Click `title` in the sidebar as a visitor would and wait until the new page's own heading
    (`headings[path]`) has been drawn and its script has finished; return the page's path.

    The old page is idle and has a heading too, so waiting for idle alone can return before the
    switch has begun (a CI run caught it between the two pages, with no heading at all)."""
    link = page.locator("[data-testid='stSidebarNav'] a", has_text=title).first
    path = urllib.parse.urlsplit(link.get_attribute("href") or "").path
    link.click()
    page.wait_for_function("(path) => window.location.pathname === path", arg=path, timeout=timeout_ms)
    page.locator("h1", has_text=headings[path]).first.wait_for(timeout=timeout_ms)
    wait_for_idle(page, timeout_ms)
    return path


def paste_review(page, text: str, area_index: int = 0) -> None:
    """Replace the review text as a visitor would, and submit it (Ctrl+Enter)."""
    area = page.locator("textarea").nth(area_index)
    area.fill(text)
    area.press("Control+Enter")


def chromium_available() -> bool:
    if os.path.exists(CHROMIUM):
        return True
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            playwright.chromium.launch(**launch_options()).close()
        return True
    except Exception:
        return False
