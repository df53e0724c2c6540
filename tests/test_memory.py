"""The memory experiment's textbook model (issue 22): a last-state SimpleRNN trained for the experiment only,
verified like every artifact, never served, measured first; its committed numbers recomputed from its file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from rnndemo import memory, models, registry, serving, shapes
from rnndemo.evaluation import decide
from rnndemo.text import tokenize

from .apptest_support import open_page
from .conftest import MODELS_DIR

MANIFEST = json.loads((MODELS_DIR / "manifest.json").read_text(encoding="utf-8"))
RESULT = json.loads((MODELS_DIR / "memory_experiment.json").read_text(encoding="utf-8"))
FILE = "rnn_last.keras"


@pytest.fixture(scope="module")
def last_state(bundle):
    """The committed last-state SimpleRNN, loaded through the library's verified path."""
    return serving.load_experiment_classifiers(bundle)["rnn_last"]


def test_the_last_state_simplernn_is_hashed_in_the_manifest_and_not_served(bundle):
    """A lecturer's textbook RNN is in the folder, checked by its sha256, and the served models are unchanged."""
    entry = MANIFEST["experiment_models"]["rnn_last"]
    assert entry["file"] == FILE and MANIFEST["files"][FILE] == models.sha256_file(MODELS_DIR / FILE)
    assert entry["hyperparameters"]["readout"] == "last"
    assert entry["hyperparameters"]["selected_by"] == MANIFEST["models"]["rnn"]["hyperparameters"]["selected_by"]
    served = MANIFEST["models"]["rnn"]["hyperparameters"]
    for key in (
        "units",
        "embedding_dim",
        "spatial_dropout",
        "output_dropout",
        "learning_rate",
        "initialised_from",
        "selected_by",
    ):
        assert entry["hyperparameters"][key] == served[key], key
    assert "rnn_last" not in MANIFEST["models"] and "rnn_last" not in bundle.classifiers
    assert "rnn_last" not in registry.CLASSIFIER_NAMES  # Compare, predict and the model cards never list it


@pytest.mark.slow
def test_the_last_state_file_loads_as_a_last_state_simplernn(last_state, bundle):
    model = last_state.model
    assert models.body_kind(model) == "SimpleRNN" and models.readout_of(model) == "last"
    assert model.get_layer("embedding").input_dim == len(bundle.vocabulary)


def test_a_tampered_last_state_file_is_refused_by_name(tmp_path, bundle):
    """A copy whose rnn_last.keras was changed is refused, naming the file, by the loader and by the experiment."""
    folder = tmp_path / "models"
    folder.mkdir()
    for name in ("manifest.json", "vocabulary.json", FILE):
        shutil.copy2(MODELS_DIR / name, folder / name)
    with open(folder / FILE, "r+b") as handle:
        handle.seek(200)
        handle.write(b"tampered!")
    copy = serving.Bundle(folder, MANIFEST, bundle.vocabulary)
    with pytest.raises(models.ModelFileError, match=r"rnn_last\.keras does not match its sha256"):
        serving.load_experiment_classifiers(copy)
    with pytest.raises(models.ModelFileError, match=r"rnn_last\.keras does not match its sha256"):
        memory.measured_classifiers(copy)


def test_an_unknown_experiment_model_in_the_manifest_is_not_loaded(bundle):
    """Only the registry's experiment models are read from the manifest's table, whatever else it lists."""
    manifest = MANIFEST | {"experiment_models": {"evil": MANIFEST["experiment_models"]["rnn_last"]}}
    assert serving.load_experiment_classifiers(serving.Bundle(MODELS_DIR, manifest, bundle.vocabulary)) == {}


def test_the_committed_result_measures_the_last_state_simplernn_first():
    assert list(RESULT["models"])[:1] == ["rnn_last"]
    assert set(RESULT["models"]) == {"rnn_last", "rnn", "lstm", "gru"}
    assert RESULT["models"]["rnn_last"]["readout"] == "last" and RESULT["models"]["rnn"]["readout"] == "mean"
    assert RESULT["contrast_summary"] == memory.contrast_sentence(RESULT)


@pytest.mark.slow
def test_the_last_state_accuracy_rows_are_recomputed_from_its_file(last_state, bundle):
    """The committed accuracy of the last-state SimpleRNN at every filler length, recomputed here: the first
    correctly classified test reviews of each label, the same neutral filler, hits counted independently."""
    test = memory.data.load_splits().test
    labels = test["label"].to_numpy()
    seen = [bundle.vocabulary.encode_tokens(tokenize(text))[-400:] for text in test["text"]]
    rows = RESULT["models"]["rnn_last"]["accuracy"]
    per_label = rows[0]["n"] // 2
    correct = decide(last_state.predict_ids(seen)) == (labels == 1)
    chosen = [row for label in (0, 1) for row in np.flatnonzero(correct & (labels == label))[:per_label]]
    filler = memory.neutral_filler(bundle.vocabulary, bundle.baseline, max(RESULT["distances"]))
    for row in rows:
        probabilities = last_state.predict_ids_unbounded([seen[index] + filler[: row["distance"]] for index in chosen])
        hits = int(np.sum((probabilities >= 0.5) == (labels[chosen] == 1)))
        assert (row["n"], row["accuracy"]) == (len(chosen), hits / len(chosen)), row["distance"]
    assert rows[0]["accuracy"] == 1.0  # every chosen review was right before any filler


@pytest.mark.slow
def test_the_experiment_on_tiny_data_measures_the_given_experiment_model_first(last_state, bundle):
    """Three reviews per label, two filler lengths: the experiment model comes first, its rows recomputed."""
    tiny = serving.Bundle(MODELS_DIR, MANIFEST, bundle.vocabulary, {"gru": bundle.classifiers["gru"]}, bundle.baseline)
    result = memory.run_memory_experiment(
        tiny,
        reviews_per_label=3,
        gradient_reviews=2,
        gradient_length=30,
        distances=(0, 40),
        experiment={"rnn_last": last_state},
    )
    assert list(result["models"]) == ["rnn_last", "gru"]
    assert result["models"]["rnn_last"]["readout"] == "last" and result["models"]["gru"]["readout"] == "last"
    assert [row["n"] for row in result["models"]["rnn_last"]["accuracy"]] == [6, 6]
    assert result["models"]["rnn_last"]["accuracy"][0]["accuracy"] == 1.0
    assert len(result["models"]["rnn_last"]["gradient"]["mean_norm"]) == 30
    assert result["contrast_summary"].startswith(
        "With 40 neutral tokens after the review, the plain SimpleRNN (last state) keeps "
    )
    assert shapes.shape_problem(result, memory.MEMORY_EXPERIMENT_SHAPE) is None


def _result(plain: float, lstm: float, gru: float, mean: float) -> dict:
    def rows(share: float) -> list[dict]:
        return [{"distance": 0, "accuracy": 1.0}, {"distance": 400, "accuracy": share}]

    return {
        "models": {
            "rnn_last": {"readout": "last", "accuracy": rows(plain)},
            "rnn": {"readout": "mean", "accuracy": rows(mean)},
            "lstm": {"readout": "last", "accuracy": rows(lstm)},
            "gru": {"readout": "last", "accuracy": rows(gru)},
        }
    }


@pytest.mark.parametrize(
    ("shares", "verdict"),
    [
        ((0.5, 0.6, 0.7, 0.8), "as the slide says, the plain RNN forgets first"),
        ((0.9, 0.6, 0.7, 0.8), "unlike the slide, the plain RNN keeps more than the gated models here"),
        ((0.65, 0.6, 0.7, 0.8), "the plain RNN falls between the gated models here"),
    ],
)
def test_the_contrast_sentence_says_what_the_numbers_say(shares, verdict):
    sentence = memory.contrast_sentence(_result(*shares))
    assert verdict in sentence
    assert sentence.startswith(
        f"With 400 neutral tokens after the review, the plain SimpleRNN (last state) keeps {shares[0]:.1%}"
    )
    assert sentence.endswith(f"The SimpleRNN (mean of states) keeps {shares[3]:.1%} there.")


def test_a_plain_rnn_whose_accuracy_comes_back_later_is_said_to_be_not_monotone():
    """At 100 filler tokens every verdict on one side (50%), at 200 back at 94.5%: the sentence names the rebound
    and its likely cause; a curve that only falls, or rises by less than 0.2, gets no such clause."""

    def result(plain: list[float], same: bool) -> dict:
        rows = [
            {"distance": distance, "accuracy": share} | ({"share_predicted_positive": 0.0} if same else {})
            for distance, share in zip((0, 100, 200, 400), plain)
        ]
        gated = [
            {"distance": distance, "accuracy": share}
            for distance, share in zip((0, 100, 200, 400), (1, 0.95, 0.9, 0.5))
        ]
        return {
            "models": {
                "rnn_last": {"readout": "last", "accuracy": rows},
                "lstm": {"readout": "last", "accuracy": gated},
            }
        }

    sentence = memory.contrast_sentence(result([1.0, 0.5, 0.945, 0.5], same=True))
    assert sentence.startswith("With 100 neutral tokens after the review, the plain SimpleRNN (last state) keeps 50.0%")
    assert (
        "The plain SimpleRNN (last state)'s curve is not monotone: at 200 tokens it is back at 94.5%, so at 100 its "
        "state still carried the review" in sentence
    )
    assert sentence.endswith("At 400 tokens: the SimpleRNN (last state) 50.0%, the LSTM 50.0%.")
    assert "not monotone" not in memory.contrast_sentence(result([1.0, 0.5, 0.69, 0.5], same=True))
    assert "not monotone" not in memory.contrast_sentence(result([1.0, 0.5, 0.5, 0.5], same=True))
    assert "so at 100 it had not forgotten the review" in memory.contrast_sentence(
        result([1.0, 0.5, 0.9, 0.5], same=False)
    )


def test_the_mean_readout_sentence_names_every_filler_length():
    result = _result(0.5, 0.6, 0.7, 0.8)
    result["models"]["rnn"]["accuracy"].insert(1, {"distance": 100, "accuracy": 0.925})
    sentence = memory.mean_readout_sentence(result)
    assert sentence == "The SimpleRNN (mean of states) keeps 92.5% at 100, 80.0% at 400 filler tokens."
    assert memory.mean_readout_sentence({"models": {"lstm": {"readout": "last", "accuracy": []}}}) == ""


def test_the_mean_readout_simplernn_is_named_as_such():
    names = memory.display_names(_result(0.5, 0.6, 0.7, 0.8))
    assert names == {
        "rnn_last": "SimpleRNN (last state)",
        "rnn": "SimpleRNN (mean of states)",
        "lstm": "LSTM",
        "gru": "GRU",
    }


def test_the_memory_charts_draw_the_last_state_simplernn_first_with_short_axis_titles():
    from rnndemo import memory_plots

    names = memory.display_names(RESULT)
    for figure in (
        memory_plots.memory_accuracy_figure(RESULT, names),
        memory_plots.memory_gradient_figure(RESULT, names),
    ):
        assert [trace.name for trace in figure.data][:2] == ["SimpleRNN (last state)", "SimpleRNN (mean of states)"]
        assert [trace.line.dash for trace in figure.data][:2] == ["solid", "dash"]
        for axis in (figure.layout.xaxis, figure.layout.yaxis):
            assert len(axis.title.text) <= 24, axis.title.text  # fits a 360 px phone column (see the browser test)


@pytest.mark.slow
def test_the_inside_page_shows_the_textbook_curve_first():
    """A lecturer scrolls to the memory section: the slide's plain RNN comes first, the mean readout is the fix."""
    app = open_page("pages/inside.py")
    assert not app.exception
    charts = [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]
    memory_charts = [
        chart
        for chart in charts
        if str(chart["layout"].get("title", {}).get("text", "")).startswith(("Accuracy as filler", "Vanishing"))
    ]
    assert len(memory_charts) == 2
    for chart in memory_charts:
        assert [trace["name"] for trace in chart["data"]] == [
            "SimpleRNN (last state)",
            "SimpleRNN (mean of states)",
            "LSTM",
            "GRU",
        ]
    texts = [str(element.value) for element in app.text]
    assert RESULT["contrast_summary"] in texts
    markdown = "\n".join(str(element.value) for element in app.markdown)
    assert "**The textbook contrast.** The first curve, the **SimpleRNN (last state)**" in markdown
    captions = "\n".join(str(element.value) for element in app.caption)
    assert "The dashed SimpleRNN (mean of states) is **a fix a practitioner would use**, for a while." in captions
    assert memory.MEAN_READOUT_REASON in captions
    held = [f"{row['accuracy']:.1%} at {row['distance']}" for row in RESULT["models"]["rnn"]["accuracy"][1:]]
    assert f"The SimpleRNN (mean of states) keeps {', '.join(held)} filler tokens." in captions
    # The contrast is told before the charts: its sentence precedes the accuracy summary on the page.
    assert texts.index(RESULT["contrast_summary"]) < texts.index(RESULT["accuracy_summary"])


def test_a_folder_without_the_experiment_model_measures_the_served_ones(bundle):
    """An older folder (no experiment table) still runs the experiment, with the served models only."""
    manifest = {key: value for key, value in MANIFEST.items() if key != "experiment_models"}
    older = serving.Bundle(Path(MODELS_DIR), manifest, bundle.vocabulary, dict(bundle.classifiers), bundle.baseline)
    assert list(memory.measured_classifiers(older)) == ["rnn", "lstm", "gru"]


def memory_chart_specs(app) -> dict[str, dict]:
    """The page's two memory charts, as sent to the browser, by their title's first words."""
    specs = {}
    for chart in app.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        title = str(spec["layout"].get("title", {}).get("text", ""))
        for start in ("Accuracy as filler", "Vanishing"):
            if title.startswith(start):
                specs[start] = spec
    return specs


@pytest.mark.slow
def test_the_memory_charts_are_built_once_and_shared_and_presenter_mode_never_changes_them_for_others():
    """Every session gets the figure the plots module builds from the file; a presenter's larger type is a figure
    of its own, and a visitor who opens the page afterwards still gets the plain one (the shared figure is never
    changed in place)."""
    import plotly.io

    from rnndemo import memory_plots, plots

    names = memory.display_names(RESULT)
    built = {
        "Accuracy as filler": plots.make_readable(memory_plots.memory_accuracy_figure(RESULT, names)),
        "Vanishing": plots.make_readable(memory_plots.memory_gradient_figure(RESULT, names)),
    }
    first = memory_chart_specs(open_page("pages/inside.py"))
    presenting = memory_chart_specs(open_page("pages/inside.py", query={"present": "1"}))
    after = memory_chart_specs(open_page("pages/inside.py"))
    assert set(first) == set(built)
    for title, figure in built.items():
        assert first[title] == json.loads(plotly.io.to_json(figure, validate=False))
        assert after[title] == first[title]
        assert presenting[title]["layout"]["font"]["size"] > first[title]["layout"]["font"]["size"]
        assert presenting[title]["data"] == first[title]["data"]
