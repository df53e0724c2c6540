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


@pytest.mark.slow
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
    assert set(load_bundle(MODELS_DIR).names()) == {"rnn", "lstm", "gru", "dfn", "cnn", "baseline"}
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

    from rnndemo.training_artifacts import sweep_stale_staging

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


@pytest.mark.slow
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


# --- Issue 25: every damaged-folder case is refused by name; the rest keeps serving -------------------------------

DEEP_JSON = "[" * 100_000 + "]" * 100_000  # valid JSON that Python's parser refuses with a RecursionError


def classifier_missing(layer: str, units: int = 1):
    """A change for `rewritten`: rnn.keras becomes a small SimpleRNN classifier whose `layer` ("embedding" or
    "classifier") has another name, and whose classifier layer has `units` outputs."""

    def change(folder, manifest):
        import keras
        from keras import layers

        names = {"embedding": "embedding", "classifier": "classifier"} | {layer: f"not_{layer}"}
        token_ids = keras.Input(shape=(None,), dtype="int32")
        embedded = layers.Embedding(manifest["vocabulary_size"], 4, mask_zero=True, name=names["embedding"])(token_ids)
        state = layers.SimpleRNN(4, name="recurrent")(embedded)
        probability = layers.Dense(units, activation="sigmoid", name=names["classifier"])(state)
        keras.Model(token_ids, probability).save(folder / "rnn.keras")

    return change


@pytest.mark.slow
@pytest.mark.parametrize(
    "layer, units, refused",
    [
        ("embedding", 1, "rnn.keras has no 'embedding' layer"),
        ("classifier", 1, "rnn.keras has no 'classifier' layer"),
        ("none", 2, "rnn.keras has a 'classifier' layer of 2 outputs"),
    ],
)
def test_classifier_without_the_layers_serving_reads_is_refused_by_name(tmp_path, layer, units, refused):
    """Such a model raised at load (after its checks), which took down 6 of 7 pages; now it alone is refused."""
    from rnndemo.serving import load_bundle

    bundle = load_bundle(rewritten(tmp_path, classifier_missing(layer, units)))
    assert refused in bundle.errors.get("rnn", ""), bundle.errors
    assert set(bundle.names()) == {"lstm", "gru", "dfn", "cnn", "baseline"}


def test_deeply_nested_manifest_is_refused_by_name(tmp_path, capsys):
    """No hash protects the manifest itself: a nested one broke every page and the CLI (RecursionError)."""
    from rnndemo.cli import main
    from rnndemo.models import ModelFileError, read_manifest

    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "manifest.json").write_text(DEEP_JSON)
    with pytest.raises(ModelFileError, match="manifest.json is not a valid manifest"):
        read_manifest(folder)
    assert main(["--models-dir", str(folder), "predict", "a fine film"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_deeply_nested_vocabulary_is_refused_by_name(tmp_path, capsys):
    """vocabulary.json (hash rewritten) nested too deeply for Python's parser broke every page and the CLI."""
    from rnndemo.cli import main
    from rnndemo.models import ModelFileError
    from rnndemo.next_word import load_language_models
    from rnndemo.serving import load_bundle

    folder = rewritten(tmp_path, damaged_json("vocabulary.json", DEEP_JSON))
    for load in (load_bundle, load_language_models):
        with pytest.raises(ModelFileError, match="vocabulary.json is not a valid vocabulary"):
            load(folder)
    for command in (["predict", "a fine film"], ["encode", "a fine film"], ["next", "a fine"]):
        assert main(["--models-dir", str(folder), *command]) == 2
        assert "vocabulary.json is not a valid vocabulary" in capsys.readouterr().err


def drop(*keys: str):
    """A manifest change for `rewritten`: delete the value at the dotted path."""

    def change(folder, manifest):
        *parents, last = keys
        for key in parents:
            manifest = manifest[key]
        del manifest[last]

    return change


def put(value, *keys: str):
    """A manifest change for `rewritten`: set the value at the dotted path."""

    def change(folder, manifest):
        *parents, last = keys
        for key in parents:
            manifest = manifest[key]
        manifest[last] = value

    return change


MANIFEST_DAMAGE = [
    (drop("split"), "'split' is missing"),
    (put("2,500", "split", "test"), "'split.test' must be"),
    (put([19245, 753], "glove_coverage"), "'glove_coverage' must be"),
    (put("20000", "vocabulary_size"), "'vocabulary_size' must be"),
    (put("0.87", "models", "rnn", "test_accuracy"), "'models.rnn.test_accuracy' must be"),
    (put([1, 2], "models", "lstm", "history"), "'models.lstm.history' must be"),
    (put([[1, 2]], "models", "gru", "test", "confusion_matrix"), "'models.gru.test.confusion_matrix' must be"),
    (put("C=4", "baseline", "hyperparameters"), "'baseline.hyperparameters' must be"),
    (put("low", "language_models", "lstm", "test", "perplexity"), "'language_models.lstm.test.perplexity' must be"),
    (put([], "language_model_vocabulary"), "'language_model_vocabulary' must be"),
]


@pytest.mark.slow
@pytest.mark.parametrize("change, problem", MANIFEST_DAMAGE, ids=[problem for _, problem in MANIFEST_DAMAGE])
def test_manifest_keys_missing_or_of_the_wrong_type_are_refused_by_name(tmp_path, capsys, change, problem):
    """Each crashed a page (model cards, embeddings, language model) or printed a CLI traceback."""
    from rnndemo.cli import main
    from rnndemo.models import ModelFileError
    from rnndemo.serving import load_bundle

    folder = rewritten(tmp_path, change)
    with pytest.raises(ModelFileError, match="manifest.json is not a valid manifest") as raised:
        load_bundle(folder)
    assert problem in str(raised.value)
    assert main(["--models-dir", str(folder), "predict", "a fine film"]) == 2
    assert problem in capsys.readouterr().err
    if problem.endswith("is missing"):  # a key only the classifiers read: the language models keep serving
        assert main(["--models-dir", str(folder), "next", "a fine"]) == 0
    else:
        assert main(["--models-dir", str(folder), "next", "a fine"]) == 2 and problem in capsys.readouterr().err


def damaged_json(file_name: str, damage):
    """A change for `rewritten`: `file_name` is read as JSON, changed by `damage(value)` (its return value, or
    the value itself, is written back), or replaced when `damage` is a string."""
    import json

    def change(folder, manifest):
        path = folder / file_name
        if isinstance(damage, str):
            path.write_text(damage)
            return
        value = json.loads(path.read_text())
        changed = damage(value)
        path.write_text(json.dumps(value if changed is None else changed))

    return change


def refusal(folder: Path, file_name: str, bundle) -> str:
    """What the loaders of `folder` say about `file_name` (empty when they accept it)."""
    import dataclasses

    from rnndemo.evaluation import load_heldout_predictions
    from rnndemo.memory import load_memory_experiment
    from rnndemo.models import ModelFileError, read_manifest
    from rnndemo.next_word import load_language_models
    from rnndemo.serving import load_bundle

    manifest = read_manifest(folder)
    try:
        if file_name == "baseline.json":
            return load_bundle(folder).errors.get("baseline", "")
        if file_name == "language_model_memory.json":
            loaded = load_language_models(folder)
            assert loaded.memory_result(folder) is None and set(loaded.models) == {"rnn", "lstm", "ngram"}
            return "\n".join(loaded.errors.values())
        if file_name == "memory_experiment.json":
            load_memory_experiment(folder, manifest)
        else:
            load_heldout_predictions(dataclasses.replace(bundle, models_dir=folder, manifest=manifest))
    except ModelFileError as error:
        return str(error)
    return ""


def set_nan(path: str):
    """A damage for `damaged_json`: one number of the baseline becomes NaN or infinite."""

    def damage(value):
        key, _, position = path.partition("[")
        if position:
            value[key][int(position.rstrip("]"))] = float("nan") if key == "coefficients" else float("inf")
        else:
            value[key] = float("nan")

    return damage


SIDE_FILE_DAMAGE = [
    ("baseline.json", set_nan("coefficients[5]"), "baseline.json is not a valid baseline"),
    ("baseline.json", set_nan("idf[0]"), "baseline.json is not a valid baseline"),
    ("baseline.json", set_nan("intercept"), "baseline.json is not a valid baseline"),
    ("baseline.json", DEEP_JSON, "baseline.json is not a valid baseline"),
    ("memory_experiment.json", DEEP_JSON, "memory_experiment.json is not"),
    (
        "memory_experiment.json",
        lambda value: value["models"]["rnn"].update(accuracy="high"),
        "memory_experiment.json is not shaped like a memory experiment ('models.rnn.accuracy'",
    ),
    (
        "memory_experiment.json",
        lambda value: value["models"]["gru"]["gradient"].update(mean_norm=[]),
        "'models.gru.gradient.mean_norm' must be",
    ),
    ("language_model_memory.json", DEEP_JSON, "language_model_memory.json is not"),
    ("language_model_memory.json", "[1, 2]", "language_model_memory.json is not shaped like a context experiment"),
    (
        "language_model_memory.json",
        lambda value: {key: item for key, item in value.items() if key != "tokens"},
        "'tokens' is missing",
    ),
    ("language_model_memory.json", lambda value: value["models"].update(rnn=[1.0]), "'models.rnn' has 1 values"),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    "file_name, damage, refused", SIDE_FILE_DAMAGE, ids=[f"{name}: {refused}" for name, _, refused in SIDE_FILE_DAMAGE]
)
def test_damaged_side_files_are_refused_by_name(tmp_path, bundle, file_name, damage, refused):
    """A damaged side file (hashes rewritten to match) crashed a page or printed a CLI traceback; now it alone
    is refused by name, with one message."""
    folder = rewritten(tmp_path, damaged_json(file_name, damage))
    assert refused in refusal(folder, file_name, bundle)


def heldout_damage(damage):
    """A change for `rewritten`: heldout_predictions.csv read with pandas, changed by `damage(frame)` (its return
    value is written back), or replaced when `damage` is bytes."""

    def change(folder, manifest):
        path = folder / "heldout_predictions.csv"
        if isinstance(damage, bytes):
            path.write_bytes(damage)
        else:
            damage(pd.read_csv(path)).to_csv(path, index=False)

    return change


HELDOUT_DAMAGE = [
    (lambda frame: frame.drop(columns="lstm"), "no column 'lstm'"),
    (lambda frame: frame.assign(row=frame["row"] + 100_000), "a row outside its split"),
    (lambda frame: frame.assign(split="imdb_train"), "an unknown split"),
    (lambda frame: frame.assign(gru="high"), "'gru' must hold probabilities"),
    (lambda frame: frame.assign(label=2), "labels other than 0 and 1"),
    (b"", "not a CSV file"),
]


@pytest.mark.slow
@pytest.mark.parametrize("damage, problem", HELDOUT_DAMAGE, ids=[problem for _, problem in HELDOUT_DAMAGE])
def test_damaged_heldout_predictions_are_refused_by_name(tmp_path, bundle, damage, problem):
    folder = rewritten(tmp_path, heldout_damage(damage))
    message = refusal(folder, "heldout_predictions.csv", bundle)
    assert "heldout_predictions.csv is not" in message and problem in message


@pytest.mark.slow  # a rewritten models folder loaded in fresh app sessions
def test_a_manifest_without_split_is_refused_on_every_classifier_page(tmp_path, monkeypatch):
    """The model cards page read manifest["split"] and crashed; every page now names the manifest instead."""
    from .apptest_support import all_text, open_page

    folder = rewritten(tmp_path, drop("split"))
    monkeypatch.setenv("RNNDEMO_MODELS_DIR", str(folder))
    for path in ("pages/model_cards.py", "pages/embeddings.py"):
        app = open_page(path)
        assert not app.exception, (path, [e.value for e in app.exception])
        assert "manifest.json is not a valid manifest ('split' is missing)" in all_text(app)
