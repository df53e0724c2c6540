"""The commands of `python -m rnndemo`, one module per concern; rnndemo.cli parses the arguments and runs them."""
