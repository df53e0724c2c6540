"""rnndemo: the Keras text-to-RNN pipeline, one module per stage.

Importing the package is cheap: TensorFlow is imported only by the modules
that need it (models, serving, inspect, training), and only when they are used.
"""

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def read_version(source_root: Path = Path(__file__).resolve().parent.parent) -> str:
    """pyproject.toml's version, the one place it is written.

    In a source checkout it is read from the file itself: an editable install's metadata keeps the version it
    was installed with. Otherwise from the installed package's metadata; "0+unknown" if neither exists.
    """
    pyproject = source_root / "pyproject.toml"
    if pyproject.is_file():
        import tomllib

        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        if project.get("name") == "rnndemo" and "version" in project:
            return str(project["version"])
    try:
        return version("rnndemo")
    except PackageNotFoundError:  # a copy of the package that was never installed, without its pyproject.toml
        return "0+unknown"


__version__ = read_version()
