"""`python -m benchmarks`: every serving path measured side by side, in one run, on this machine."""

import argparse
from pathlib import Path

from benchmarks.bench import run_benchmark
from rnndemo.config import default_models_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--models-dir", type=Path, default=default_models_dir(), help="folder of trained models")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions; a few minutes")
    parser.add_argument("--browser", action="store_true", help="also measure the app in Chromium")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    arguments = parser.parse_args(argv)
    run_benchmark(arguments.models_dir, quick=arguments.quick, as_json=arguments.json, browser=arguments.browser)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
