"""Entry point for `python -m rnndemo`."""

import os
import sys

# TensorFlow's start-up chatter is not the user's business; real errors still surface.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from rnndemo.cli import main  # noqa: E402

sys.exit(main())
