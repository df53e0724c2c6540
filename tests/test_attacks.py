"""Regression tests named after the attacks of the red-team pass (issue 15): each failed before its fix."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from rnndemo.batch import FORMULA_PREFIXES, csv_bytes, parse_upload

CARRIAGE_RETURN_UPLOAD = b'text,label\n"good film\r=cmd|\' /C calc\'!A0",1\n"fine\n+SUM(A1)",0\n@x,1\n'


def cells_by_every_parser(data: bytes) -> list[str]:
    """Every cell as Python's csv (default and strict) and pandas read the download."""
    text = data.decode("utf-8")
    cells = [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]
    cells += [cell for row in csv.reader(io.StringIO(text, newline=""), strict=True) for cell in row]
    frame = pd.read_csv(io.StringIO(text, newline=""), dtype=str, keep_default_na=False)
    cells += [str(value) for value in frame.to_numpy().ravel()] + [str(column) for column in frame.columns]
    return cells


def test_csv_injection_by_bare_carriage_return_is_neutralised():
    """A lone CR inside a cell cannot smuggle a formula into a new row of the downloaded file."""
    parsed = parse_upload(CARRIAGE_RETURN_UPLOAD, "attack.csv")
    frame = parsed.frame.assign(p_positive_lstm=[0.9, 0.1, 0.5])
    data = csv_bytes(frame)
    cells = cells_by_every_parser(data)
    assert len(pd.read_csv(io.BytesIO(data))) == 3  # still three rows: nothing split
    for cell in cells:
        assert not cell.startswith(FORMULA_PREFIXES), repr(cell)
        for line in cell.splitlines():
            assert not line.startswith(("=", "+", "@", "-")) or line.startswith("'"), repr(cell)
    assert all(field.startswith('"') for field in data.decode().split("\r\n")[0].split(","))  # every field quoted


@pytest.mark.parametrize("payload", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "ok\n=1", "ok\r\n@x", "ok\r-2"])
def test_every_formula_position_is_neutralised(payload):
    data = csv_bytes(pd.DataFrame({"text": [payload], payload: ["x"]}))
    for cell in cells_by_every_parser(data):
        assert not cell.startswith(FORMULA_PREFIXES)
        assert all(not line.startswith(("=", "+", "-", "@")) for line in cell.splitlines()), repr(cell)


# --- The manifest trusted too far: a deliberate rewrite, hashes included -------------------------------------


def rewritten(tmp_path, change) -> Path:
    """A copy of the models folder after `change(folder, manifest)`, with every hash recomputed
    (an attacker's rewrite)."""
    import json
    import shutil

    from rnndemo import models

    from .conftest import MODELS_DIR

    folder = tmp_path / "models"
    shutil.copytree(MODELS_DIR, folder)
    manifest = json.loads((folder / models.MANIFEST_FILE).read_text())
    manifest = change(folder, manifest) or manifest
    if isinstance(manifest, dict) and isinstance(manifest.get("files"), dict):
        for name in list(manifest["files"]):
            if (folder / name).is_file():
                manifest["files"][name] = models.sha256_file(folder / name)
    (folder / models.MANIFEST_FILE).write_text(json.dumps(manifest))
    return folder


def cli_lines(folder, *arguments):
    from .test_cli_quiet import run_cli

    result = run_cli("--models-dir", str(folder), *arguments, timeout=120)
    return result.returncode, result.stderr.decode().splitlines(), result.stdout.decode()


@pytest.mark.slow  # a rewritten models folder loaded in fresh app sessions and processes
def test_file_name_escaping_the_models_folder_is_refused(tmp_path):
    """A manifest entry "../../models/rnn.keras" never loads a file from outside the folder."""
    from rnndemo.serving import load_bundle

    def escape(folder, manifest):
        manifest["models"]["rnn"]["file"] = "../../models/rnn.keras"
        manifest["files"]["../../models/rnn.keras"] = manifest["files"]["rnn.keras"]

    bundle = load_bundle(rewritten(tmp_path, escape))
    assert "rnn" not in bundle.classifiers and "not a plain file name" in bundle.errors["rnn"]
    assert "lstm" in bundle.classifiers and bundle.baseline is not None


def test_symlink_out_of_the_models_folder_is_refused(tmp_path):
    from rnndemo.serving import load_bundle

    def link(folder, manifest):
        outside = tmp_path / "elsewhere.keras"
        (folder / "rnn.keras").rename(outside)
        (folder / "rnn.keras").symlink_to(outside)

    bundle = load_bundle(rewritten(tmp_path, link))
    assert "link out of the models folder" in bundle.errors["rnn"] and "lstm" in bundle.classifiers


@pytest.mark.slow  # a rewritten models folder loaded in fresh app sessions and processes
def test_swapped_models_are_refused_by_their_architecture(tmp_path, monkeypatch):
    """rnn.keras, lstm.keras and gru.keras rotated (hashes rewritten): each is refused by what it really is;
    the page keeps working."""
    from rnndemo.serving import load_bundle

    from .apptest_support import all_text, open_page

    def rotate(folder, manifest):
        (folder / "rnn.keras").rename(folder / "swap.keras")
        (folder / "gru.keras").rename(folder / "rnn.keras")
        (folder / "lstm.keras").rename(folder / "gru.keras")
        (folder / "swap.keras").rename(folder / "lstm.keras")

    folder = rewritten(tmp_path, rotate)
    bundle = load_bundle(folder)
    assert "holds a GRU model, not the SimpleRNN" in bundle.errors["rnn"]
    assert "holds a SimpleRNN model, not the LSTM" in bundle.errors["lstm"]
    assert "holds a LSTM model, not the GRU" in bundle.errors["gru"]
    assert bundle.baseline is not None
    monkeypatch.setenv("RNNDEMO_MODELS_DIR", str(folder))
    app = open_page("pages/inside.py")
    assert not app.exception and "No recurrent model is loaded" in all_text(app)


@pytest.mark.slow  # a rewritten models folder loaded in fresh app sessions and processes
@pytest.mark.parametrize(
    "file_name, content, refused",
    [
        ("manifest.json", "[]", "manifest.json is not a valid manifest"),
        ("baseline.json", "[1, 2]", "baseline.json is not a valid baseline"),
        ("vocabulary.json", '["", "[UNK]", "a", "b"]', "vocabulary.json has 4 entries"),
        ("vocabulary.json", '{"not": "a list"}', "vocabulary.json is not a valid vocabulary"),
        ("memory_experiment.json", "{}", "memory_experiment.json is not shaped like a memory experiment"),
        ("memory_experiment.json", "[1, 2]", "memory_experiment.json is not shaped like a memory experiment"),
    ],
)
def test_malformed_artifacts_are_refused_by_name(tmp_path, monkeypatch, file_name, content, refused):
    """Each malformed artifact (hashes rewritten to match) is refused by name in the app and in the CLI,
    never a crash."""
    from .apptest_support import all_text, open_page

    def plant(folder, manifest):
        if file_name == "manifest.json":
            return None
        (folder / file_name).write_text(content)

    folder = rewritten(tmp_path, plant)
    if file_name == "manifest.json":
        (folder / file_name).write_text(content)
    monkeypatch.setenv("RNNDEMO_MODELS_DIR", str(folder))
    for path in ("pages/compare.py", "pages/inside.py", "pages/embeddings.py", "pages/model_cards.py"):
        app = open_page(path)
        assert not app.exception, (path, [e.value for e in app.exception])
        if path == "pages/inside.py" or "memory" not in file_name:
            assert refused in all_text(app), (path, all_text(app)[-500:])
    code, lines, _ = cli_lines(
        folder, "predict", "a fine film", "--model", "rnn" if "baseline" in file_name else "baseline"
    )
    if file_name in ("manifest.json", "vocabulary.json"):
        assert code == 2 and len(lines) == 1 and refused in lines[0]
    else:
        assert code == 0


@pytest.mark.slow  # a rewritten models folder loaded in fresh app sessions and processes
def test_crafted_class_name_shows_no_link(tmp_path, monkeypatch):
    """A .keras file whose config names a crafted class (hashes rewritten) is refused by file name; the visitor sees
    no text from inside the file, so no planted link."""
    import zipfile

    from .apptest_support import all_text, open_page

    crafted = "Click here to repair the model](http://127.0.0.1:9/repair)"

    def craft(folder, manifest):
        source = folder / "rnn.keras"
        with zipfile.ZipFile(source) as archive:
            members = {name: archive.read(name) for name in archive.namelist()}
        members["config.json"] = members["config.json"].replace(b'"SimpleRNN"', json_string(crafted))
        with zipfile.ZipFile(source, "w") as archive:
            for name, data in members.items():
                archive.writestr(name, data)

    folder = rewritten(tmp_path, craft)
    monkeypatch.setenv("RNNDEMO_MODELS_DIR", str(folder))
    app = open_page("pages/compare.py")
    assert not app.exception
    text = all_text(app)
    assert "rnn.keras could not be loaded" in text and "Click here" not in text and "127.0.0.1:9" not in text
    assert str(folder) not in text


def json_string(value: str) -> bytes:
    import json

    return json.dumps(value).encode()


@pytest.mark.slow  # a rewritten models folder loaded in fresh app sessions and processes
def test_pinned_manifest_hash(tmp_path, monkeypatch):
    """A deployment pins the manifest's sha256: the pinned manifest loads; a rewritten one is refused whole."""
    from rnndemo import models
    from rnndemo.serving import load_bundle

    from .conftest import MODELS_DIR

    monkeypatch.setenv(models.PIN_ENVIRONMENT, models.sha256_file(MODELS_DIR / models.MANIFEST_FILE))
    assert set(load_bundle(MODELS_DIR).names()) == {"rnn", "lstm", "gru", "baseline"}
    folder = rewritten(tmp_path, lambda folder, manifest: manifest.update(created="rewritten"))
    with pytest.raises(models.ModelFileError, match="pinned"):
        load_bundle(folder)
    code, lines, _ = cli_lines(folder, "predict", "a fine film")  # the CLI child inherits no RNNDEMO_ variables
    assert code == 0


# --- Batch page CPU amplification ---------------------------------------------------------------------------


def test_a_csv_with_200000_columns_is_refused_before_parsing():
    """A 3 MB, 200,000-column file is refused by its header, in milliseconds, not parsed for 24 s."""
    import time

    from rnndemo.batch import UploadError

    wide = (",".join(f"c{i}" for i in range(200_000)) + "\n" + ",".join("x" for _ in range(200_000)) + "\n").encode()
    started = time.perf_counter()
    with pytest.raises(UploadError, match="200,000 columns; the limit is 50"):
        parse_upload(wide, "wide.csv")
    assert time.perf_counter() - started < 2.0  # a bound on the work, not a benchmark: parsing it took 24 s


def test_cells_longer_than_the_text_limit_keep_their_end():
    parsed = parse_upload(("text\n" + "a" * 100_000 + "END\n").encode(), "long.csv")
    assert parsed.cut_cells == 1 and parsed.frame["text"][0].endswith("END") and len(parsed.frame["text"][0]) == 100_000


# --- SIGTERM during train ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_sigterm_during_train_leaves_no_staging_folder(tmp_path):
    """`kill` (SIGTERM) while training cleans up like Ctrl+C: no .models.tmp-* folder, no half-written models."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from .conftest import PROJECT_ROOT

    models_dir = tmp_path / "models"
    environment = {key: value for key, value in os.environ.items() if not key.startswith("RNNDEMO_")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rnndemo",
            "--models-dir",
            str(models_dir),
            "train",
            "--only",
            "classifiers",
            "--limit",
            "300",
            "--epochs",
            "5",
            "--model",
            "rnn",
        ],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 180
    while time.time() < deadline and not list(tmp_path.glob(".models.tmp-*")):
        time.sleep(0.2)
    assert list(tmp_path.glob(".models.tmp-*")), "training never started its staging folder"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=120) == 130
    assert not list(tmp_path.glob(".models.*")) and not models_dir.exists()


def test_stale_staging_of_a_dead_process_is_swept(tmp_path):
    """A staging folder left by a killed (SIGKILL) process is removed at the next start; a live one is kept."""
    import os

    from rnndemo.training import sweep_stale_staging

    dead = tmp_path / ".models.tmp-999999999-abc"
    live = tmp_path / f".models.tmp-{os.getpid()}-xyz"
    old = tmp_path / ".models.old-999999999"
    for folder in (dead, live, old):
        folder.mkdir()
    assert set(sweep_stale_staging(tmp_path / "models")) == {dead, old}
    assert live.is_dir() and not dead.exists() and not old.exists()


# --- Visitor text in Markdown -----------------------------------------------------------------------------------

NASTY_MARKDOWN = [
    ":material/home:",
    "www.example.com",
    "user@example.com",
    "![img](http://127.0.0.1:9/x.png)",
    "[x](javascript:alert(1))",
    "<b>bold</b><img src=x>",
    "$x^2$",
    "$$\\alert{1}$$",
    ":smile:",
    "**b** _i_",
    "`tick` ``two``",
    "a\\`b",
    "<https://example.com>",
    "# heading",
    "> quote",
    "| a | b |",
    "~~s~~",
    "&amp; &lt;",
]


def rendered(markdown: str) -> str:
    """HTML of a CommonMark parser with GitHub's tables and strikethrough (Streamlit renders GFM)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)


def escaped(text: str) -> str:
    """The text as a CommonMark renderer escapes code: & < > and the double quote."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


@pytest.mark.parametrize("text", NASTY_MARKDOWN)
def test_literal_is_one_inert_code_span(text):
    """ui.literal(text) renders (CommonMark) as exactly one <code> holding the text as typed, nothing else."""
    from rnndemo.ui import literal

    output = rendered(f"before {literal(text)} after").replace("\u2060", "")
    assert output == f"<p>before <code>{escaped(' '.join(text.split()))}</code> after</p>\n", output


def test_literal_is_inert_for_random_strings():
    """A seeded fuzz over Markdown's special characters: always one code span with the exact text."""
    import random

    from rnndemo.ui import literal

    alphabet = list("`*_[]()!<>#$:@/\\&|~+-=.\"' abcXYZ\n\t")
    generator = random.Random(15)
    for _ in range(2_000):
        text = "".join(generator.choice(alphabet) for _ in range(generator.randint(1, 40)))
        expected = " ".join(text.split())
        if not expected:
            assert literal(text) == ""
            continue
        assert rendered(literal(text)).replace("\u2060", "") == f"<p><code>{escaped(expected)}</code></p>\n", repr(text)
