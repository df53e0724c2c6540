"""Browser and server CPU per paste on the compare page: another git revision vs this checkout, side by side.

Usage: python -m benchmarks.paste_cost REVISION [PASTES]
Checks REVISION out into a temporary git worktree, then alternates servers (REVISION, this
checkout, REVISION, this checkout) and pastes the same held-out reviews into each (Linux /proc).
"""

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from benchmarks.browser import streamlit_server  # noqa: E402
from benchmarks.browser_sessions import cpu_per_paste, sample_texts  # noqa: E402


def main() -> None:
    revision, pastes = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10
    texts = sample_texts(pastes, seed=3)
    with tempfile.TemporaryDirectory() as folder:
        other = Path(folder) / "checkout"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(other), revision], check=True
        )
        try:
            print(f"{'checkout':28s} {'Chromium CPU ms/paste p50':>26s} {'server CPU ms/paste p50':>24s}")
            for label, root in ((revision, other), ("this checkout", ROOT)) * 2:
                with streamlit_server(root=root) as (url, _, _):
                    browser_ms, server_ms = cpu_per_paste(url, texts)
                print(
                    f"{label:28s} {statistics.median(browser_ms):26.0f} {statistics.median(server_ms):24.0f}",
                    flush=True,
                )
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(other)], check=False)


if __name__ == "__main__":
    main()
