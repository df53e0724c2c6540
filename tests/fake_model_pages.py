"""Driver for tests/test_registry_pages.py, run in its own process: one more model in the registry, and every page
that lists models, opened under AppTest. Usage: python -m tests.fake_model_pages FOLDER RESULT_JSON.

The fake is a tiny LSTM classifier under another name ("lstm_small", 4 units), built here, saved into a copy of the
committed models folder (hard links, the manifest rewritten with its sha256). The registry gets its entry before any
other module of the package is imported, so every table derived from it (names, layers, colours) includes it; no
other module is touched. The driver writes what each page showed; the test asserts.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pandas as pd

FAKE = "lstm_small"
FAKE_DISPLAY_NAME = "Small LSTM (test)"
FAKE_COLOR = "#2CA02C"
FAKE_ENTRY = (
    f'    ModelSpec("{FAKE}", "{FAKE_DISPLAY_NAME}", "recurrent", "LSTM", "{FAKE}.keras", color="{FAKE_COLOR}"),\n'
)
MODELS_ANCHOR = "MODELS: tuple[ModelSpec, ...] = (\n"


def register_fake_model() -> None:
    """Run the registry's source again with one more entry in MODELS (after the real ones, before the baseline)."""
    from rnndemo import registry

    source = Path(registry.__file__).read_text(encoding="utf-8")
    start = source.index(MODELS_ANCHOR) + len(MODELS_ANCHOR)
    gru = source.index("\n", source.index('ModelSpec("gru"', start)) + 1
    exec(compile(source[:gru] + FAKE_ENTRY + source[gru:], registry.__file__, "exec"), registry.__dict__)
    assert registry.RECURRENT_KINDS[FAKE] == "LSTM" and registry.COLORS[FAKE] == FAKE_COLOR


def models_folder_with_fake(source: Path, folder: Path) -> Path:
    """A copy of the models folder (hard links) plus the fake model, hashed in a rewritten manifest."""
    from rnndemo import models

    folder.mkdir(parents=True)
    for path in source.iterdir():
        if path.is_file() and path.name != models.MANIFEST_FILE:
            try:
                os.link(path, folder / path.name)
            except OSError:
                shutil.copy2(path, folder / path.name)
    manifest = json.loads((source / models.MANIFEST_FILE).read_text(encoding="utf-8"))
    architecture = models.ModelArchitecture(
        kind=FAKE, vocabulary_size=int(manifest["vocabulary_size"]), embedding_dim=50, units=4, readout="mean"
    )
    model = models.build_model(architecture)
    model.save(folder / f"{FAKE}.keras")
    manifest["files"][f"{FAKE}.keras"] = models.sha256_file(folder / f"{FAKE}.keras")
    manifest["models"][FAKE] = manifest["models"]["lstm"] | {
        "file": f"{FAKE}.keras",
        "display_name": FAKE_DISPLAY_NAME,
        "parameters": int(model.count_params()),
    }
    # Training writes every model's held-out predictions; the fake's are the LSTM's (the cards only read them).
    predictions_path = folder / "heldout_predictions.csv"
    predictions = pd.read_csv(source / predictions_path.name)
    predictions[FAKE] = predictions["lstm"]
    predictions_path.unlink()  # a hard link to the committed file: write a new one
    predictions.to_csv(predictions_path, index=False)
    manifest["files"][predictions_path.name] = models.sha256_file(predictions_path)
    (folder / models.MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def shown(app) -> str:
    """Everything a page wrote, the options of its widgets and its charts' trace names and titles."""
    from .apptest_support import all_text

    parts = [all_text(app)]
    for kind in ("selectbox", "multiselect", "radio"):
        for widget in app.get(kind):
            parts.extend(str(option) for option in widget.options)
    parts.extend(str(frame.value.to_dict()) for frame in app.dataframe)
    parts.extend(str(chart.proto.spec) for chart in app.get("plotly_chart"))
    parts.extend(str(block.proto.body) for block in app.get("html"))
    return "\n".join(parts)


def main(folder: Path, result_path: Path) -> None:
    register_fake_model()
    from .conftest import MODELS_DIR

    os.environ["RNNDEMO_MODELS_DIR"] = str(models_folder_with_fake(MODELS_DIR, folder))
    from .apptest_support import open_page

    result = {}
    # Batch lists the models only for an uploaded file, which AppTest cannot upload: it is not opened here.
    for path in ("pages/home.py", "pages/compare.py", "pages/model_cards.py", "pages/inside.py"):
        app = open_page(path)  # Inside shows all its models side by side by default
        result[path] = {
            "exceptions": [str(error.value) for error in app.exception],
            "text": shown(app),
            "subheaders": [str(element.value) for element in app.subheader],
        }
    result_path.write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
