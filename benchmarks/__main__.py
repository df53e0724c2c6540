"""`python -m benchmarks`: every serving path measured side by side, in one run, on this machine."""

import argparse
from pathlib import Path

from benchmarks.bench import SECTIONS, run_benchmark
from rnndemo.config import default_models_dir


def sections(value: str) -> tuple[str, ...]:
    """A comma-separated list of section names, each one of SECTIONS, in the order given."""
    chosen = tuple(name.strip() for name in value.split(",") if name.strip())
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown section {', '.join(unknown) or '(none given)'}; choose from {', '.join(SECTIONS)}"
        )
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--models-dir", type=Path, default=default_models_dir(), help="folder of trained models")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions; a few minutes")
    parser.add_argument("--browser", action="store_true", help="also measure the app in Chromium")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument(
        "--only",
        type=sections,
        default=tuple(SECTIONS),
        metavar="SECTION[,SECTION…]",
        help=f"measure only these sections (default: all of {', '.join(SECTIONS)})",
    )
    arguments = parser.parse_args(argv)
    run_benchmark(
        arguments.models_dir,
        quick=arguments.quick,
        as_json=arguments.json,
        browser=arguments.browser,
        sections=arguments.only,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
