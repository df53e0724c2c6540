"""rnndemo: the Keras text-to-RNN pipeline, one module per stage.

Importing the package is cheap: TensorFlow is imported only by the modules
that need it (models, serving, inspect, training), and only when they are used.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rnndemo")  # pyproject.toml's, the one place the version is written
except PackageNotFoundError:  # a source tree that was never installed (pip install -e .)
    __version__ = "0+unknown"
