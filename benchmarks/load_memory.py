"""`python -m benchmarks.load_memory [--json]`: the launcher's resident memory after each load step.

Runs `loading.load_everything` in a fresh child process per allocator setting, side by side in
one run: the launcher's (glibc capped at 2 malloc arenas, Arrow on the system allocator, then
malloc_trim, as scripts/serve.py does) and the libraries' defaults (glibc's arenas, Arrow's own pool).
Each child prints its RSS (MB, /proc/self/status) after every step.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

SETTINGS = {
    "launcher": {"RNNDEMO_MALLOC_ARENAS": "2", "ARROW_DEFAULT_MEMORY_POOL": "system"},
    "library defaults": {"RNNDEMO_MALLOC_ARENAS": "0", "ARROW_DEFAULT_MEMORY_POOL": ""},
}

# The child: the launcher's allocator calls (scripts/serve.py), then each load step with its RSS.
CHILD = """
import json, os, sys
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, os.path.join(sys.argv[1], "scripts"))
import serve

def rss():
    with open("/proc/self/status") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith("VmRSS:")) / 1024

arenas = int(os.environ["RNNDEMO_MALLOC_ARENAS"])
if arenas > 0:
    serve.limit_malloc_arenas(arenas)
steps = {"start": rss()}
from rnndemo import loading
from rnndemo.config import default_models_dir
models_dir = str(default_models_dir())
steps["import rnndemo"] = rss()
loading.load_everything(models_dir, after_step=lambda name: steps.__setitem__(name, rss()))
serve.release_freed_memory()
steps["after malloc_trim"] = rss()
print(json.dumps(steps))
"""


def measure(setting: dict[str, str]) -> dict[str, float]:
    """RSS (MB) after each load step in a fresh child process with `setting`'s environment."""
    environment = {key: value for key, value in os.environ.items() if key not in setting}
    environment.update({key: value for key, value in setting.items() if value})
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(PROJECT_ROOT)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=environment,
        timeout=600,
        check=True,
    )
    return {name: round(value, 1) for name, value in json.loads(result.stdout.strip().splitlines()[-1]).items()}


def main(arguments: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args(arguments)
    results = {name: measure(setting) for name, setting in SETTINGS.items()}
    if options.json:
        print(json.dumps(results))
        return 0
    names = list(SETTINGS)
    print("| after | " + " | ".join(f"{name} (MB)" for name in names) + " |")
    print("|---|" + "---:|" * len(names))
    for step in results[names[0]]:
        print(f"| {step} | " + " | ".join(f"{results[name][step]:,.0f}" for name in names) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
