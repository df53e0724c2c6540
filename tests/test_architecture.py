"""House rules that keep the library a library."""

import ast
import subprocess
import sys

from .conftest import PROJECT_ROOT


def imported_top_level_names(path) -> set[str]:
    """Top-level package names a file imports anywhere (function-local imports included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


LIBRARY = PROJECT_ROOT / "rnndemo"
UI_PACKAGE = LIBRARY / "ui"  # the one place of the library that may import streamlit


def library_files() -> list:
    """Every module of the library, its subpackages' too."""
    return sorted(LIBRARY.rglob("*.py"))


def module_name(path) -> str:
    """A library file's module name below rnndemo: "cli", "ui" for ui/__init__.py, "ui.state"."""
    parts = path.relative_to(LIBRARY).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts) or "__init__"


def test_library_never_imports_streamlit_outside_ui():
    offenders = [
        module_name(path)
        for path in library_files()
        if UI_PACKAGE not in path.parents and "streamlit" in imported_top_level_names(path)
    ]
    assert not offenders


def test_the_library_has_no_module_over_500_lines():
    """A newcomer can hold each module in their head (issue 26): split by concern past 500 lines."""
    lengths = {module_name(path): len(path.read_text(encoding="utf-8").splitlines()) for path in library_files()}
    assert not {name: lines for name, lines in lengths.items() if lines > 500}


def test_the_library_imports_no_harness():
    """Browser drivers, benchmarks and test tools live outside rnndemo/ (benchmarks/, tests/)."""
    harness = {"playwright", "benchmarks", "tests", "scripts", "pytest"}
    offenders = {module_name(path): sorted(imported_top_level_names(path) & harness) for path in library_files()}
    assert not {name: found for name, found in offenders.items() if found}


def test_the_inspector_does_not_compute_with_its_own_oracle():
    """inspect.py's TensorFlow paths are checked against rnndemo.cells (tests/reference.py), so they must not be
    computed by it; the stepper, whose equations the page shows, uses it instead of a copy of its own."""
    graph = library_imports()
    assert "cells" not in graph["inspect"] and "stepper" not in graph["inspect"]
    assert "cells" in graph["stepper"]
    stepper_source = (PROJECT_ROOT / "rnndemo" / "stepper.py").read_text()
    assert "np.tanh" not in stepper_source and "np.exp" not in stepper_source  # no second copy of the equations


def test_importing_the_library_does_not_import_tensorflow_or_streamlit():
    code = (
        "import sys, rnndemo, rnndemo.text, rnndemo.vocab, rnndemo.data, rnndemo.cli; "
        "print('tensorflow' in sys.modules, 'streamlit' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120)
    assert result.stdout.split() == ["False", "False"], result.stderr


def test_no_model_predict_in_request_paths():
    for path in list((PROJECT_ROOT / "pages").glob("*.py")) + [PROJECT_ROOT / "app.py"] + library_files():
        assert ".predict(" not in path.read_text(), path


def library_imports() -> dict[str, set[str]]:
    """Module -> the rnndemo modules it imports anywhere (function-local imports too: they hide cycles).

    Names are below rnndemo ("cli", "ui", "ui.state"). `from rnndemo.ui import state` imports the module ui.state;
    `from rnndemo.ui import option` imports the package ui (its __init__)."""
    files = {module_name(path): path for path in library_files()}
    graph = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                module = ".".join([*base, *([node.module] if node.module else [])])
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("rnndemo"):
                module = node.module.removeprefix("rnndemo").lstrip(".")
            elif isinstance(node, ast.Import):
                targets.update(
                    alias.name.removeprefix("rnndemo.") for alias in node.names if alias.name.startswith("rnndemo.")
                )
                continue
            else:
                continue
            for alias in node.names:
                submodule = f"{module}.{alias.name}" if module else alias.name
                targets.add(submodule if submodule in files else module)
        graph[name] = targets - {name, ""}
    return graph


def test_no_module_of_the_library_imports_another_in_a_cycle():
    """The import graph of rnndemo (function-local imports too) has no cycle."""
    graph = library_imports()
    state: dict[str, str] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            assert state.get(target) != "open", " -> ".join([*trail, module, target])
            if target not in state:
                visit(target, [*trail, module])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [])


def test_the_package_reports_the_version_pyproject_declares():
    """One place for the version: rnndemo.__version__ is read from the installed metadata, written from pyproject."""
    import tomllib

    import rnndemo

    declared = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert rnndemo.__version__ == declared


def test_the_version_comes_from_pyproject_then_the_metadata_then_says_it_is_unknown(tmp_path, monkeypatch):
    """A source checkout reads its pyproject.toml (an editable install's metadata can be stale); without one, the
    installed metadata; without either, "0+unknown"."""
    import rnndemo

    (tmp_path / "pyproject.toml").write_text('[project]\nname = "rnndemo"\nversion = "9.8.7"\n', encoding="utf-8")
    assert rnndemo.read_version(tmp_path) == "9.8.7"
    monkeypatch.setattr(rnndemo, "version", lambda name: f"{name} 1.2.3")
    assert rnndemo.read_version(tmp_path / "elsewhere") == "rnndemo 1.2.3"

    def not_installed(name):
        raise rnndemo.PackageNotFoundError(name)

    monkeypatch.setattr(rnndemo, "version", not_installed)
    assert rnndemo.read_version(tmp_path / "elsewhere") == "0+unknown"


def test_the_decision_rule_and_the_end_token_are_written_once():
    """p ≥ threshold is written only in evaluation.decide (the rest call decide or evaluation.verdict), and the
    language models' end token only in vocab.py."""
    files = list((PROJECT_ROOT / "rnndemo").glob("*.py")) + list((PROJECT_ROOT / "pages").glob("*.py"))
    files.append(PROJECT_ROOT / "app.py")
    rules = {path.name for path in files if ">= DECISION_THRESHOLD" in path.read_text() or ">= 0.5" in path.read_text()}
    assert rules == {"evaluation.py"}
    end_tokens = {path.name for path in files if '= "</review>"' in path.read_text()}
    assert end_tokens == {"vocab.py"}


def test_a_verdict_in_words_is_the_decision_rule():
    from rnndemo import evaluation

    cases = [0.0, 0.4999, 0.5, 0.73, 1.0, float("nan")]
    assert [evaluation.verdict(p) for p in cases] == ["positive" if d else "negative" for d in evaluation.decide(cases)]
    assert [evaluation.verdict(p) for p in (0.4999, 0.5, float("nan"))] == ["negative", "positive", "negative"]


def test_every_page_file_has_a_url_path_equal_to_its_stem():
    """What docs/ARCHITECTURE.md says: each pages/*.py has an st.Page whose url_path is its file stem, so the legacy
    pages/ router and st.navigation agree; the only other url_paths are the Walkthrough's "index" (the default, at
    /) and its hidden twin "walkthrough"."""
    paths: dict[str, set[str]] = {}
    for node in ast.walk(ast.parse((PROJECT_ROOT / "app.py").read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "Page":
            keywords = {keyword.arg: keyword.value.value for keyword in node.keywords if keyword.arg == "url_path"}
            paths.setdefault(node.args[0].value, set()).add(keywords["url_path"])
    files = {f"pages/{path.name}" for path in (PROJECT_ROOT / "pages").glob("*.py")}
    assert set(paths) == files
    for file, url_paths in paths.items():
        stem = file.removeprefix("pages/").removesuffix(".py")
        assert url_paths == ({stem, "index", "walkthrough"} if stem == "home" else {stem}), file
