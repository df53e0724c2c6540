"""Entry point for `python -m rnndemo`."""

from rnndemo.cli import run

run()
