"""Model cards: architecture, training, held-out metrics and the reviews the models get wrong."""

import numpy as np
import pandas as pd
import streamlit as st

from rnndemo import evaluation_plots, language_model_plots, ui
from rnndemo.evaluation import calibration_table, decide, load_heldout_predictions
from rnndemo.explain import readable_rows
from rnndemo.models import ModelFileError, architecture_summary
from rnndemo.next_word import PERPLEXITY_DECIMALS, perplexity_table
from rnndemo.registry import CLASSIFIER_NAMES, DISPLAY_NAMES, LANGUAGE_DISPLAY_NAMES, NEURAL_NAMES, RECURRENT_NAMES

VIEWS = ["the recurrent models disagree", "confidently wrong (p > 0.9 for the wrong class)"]


# Keyed by the models folder and its manifest's creation time, so retrained models get fresh predictions;
# the bundle itself (underscored) is not hashed.
@st.cache_data(max_entries=2, show_spinner="Reading held-out predictions…")
def heldout(models_dir: str, created: str, _bundle) -> pd.DataFrame:
    """Every model's predictions on the held-out reviews (read once per models folder, shared by every visitor)."""
    return load_heldout_predictions(_bundle)


def heldout_or_stop(bundle) -> pd.DataFrame:
    """Every model's held-out predictions; a file that fails its check stops the page."""
    try:
        return heldout(str(bundle.models_dir), bundle.manifest.get("created", ""), bundle)
    except ModelFileError as error:
        st.error(str(error))
        st.stop()


def start_of(entry: dict) -> str:
    """Where a model's weights started, in a few words (the manifest names the file and its hash too)."""
    start = entry.get("hyperparameters", {}).get("initialised_from")
    return "–" if start is None else start.split(" (")[0]


def summary_row(*, name: str, entry: dict) -> dict:
    """One model's line of the summary table: the held-out scores first (what a visitor compares), then how it
    was trained; every cell readable ("–" where a model has no such number, thousands separators)."""
    if "parameters" in entry:
        size = f"{entry['parameters']:,} weights"
    else:
        size = f"{entry.get('hyperparameters', {}).get('max_features', 0):,} features"
    epochs = f"{entry['epochs']} (best {entry.get('best_epoch', '?')})" if "epochs" in entry else "–"
    row = {
        "model": DISPLAY_NAMES[name],
        "test accuracy": entry["test_accuracy"],
        "test AUC": entry["test_auc"],
        "validation accuracy": entry.get("validation_accuracy"),
        "Rotten Tomatoes accuracy": entry["rotten_tomatoes_accuracy"],
        "size": size,
        "epochs": epochs,
        "started from": start_of(entry),
        "training seconds": entry.get("training_seconds"),
    }
    return readable_rows([row], {"training seconds": 1})[0]


def summary(*, available: list[str], manifest: dict, key: str) -> None:
    """Every model's size, training and held-out scores in one table, and how the data was split."""
    table = pd.DataFrame(
        [summary_row(name=name, entry=manifest["models"].get(name) or manifest["baseline"]) for name in available]
    )
    st.dataframe(table, hide_index=True, key=f"{key}_summary", width="stretch")
    ui.csv_download(table, "model_summary.csv", key=f"{key}_download_summary")
    split, coverage = manifest["split"], manifest["glove_coverage"]
    st.caption(
        f"Split: {split['train']:,} train / {split['validation']:,} validation / {split['test']:,} test IMDB reviews "
        f"({split['duplicates_dropped']} duplicate texts dropped first); test sha256 {split['test_sha256'][:16]}…; "
        f"vocabulary {manifest['vocabulary_size']:,} entries, GloVe hits {coverage['hits']:,}, "
        f"misses {coverage['misses']:,}."
    )


def roc_and_calibration(*, test: pd.DataFrame, available: list[str], key: str) -> None:
    """ROC curves and calibration of every model on the IMDB test split, side by side."""
    # Imported where it is used, as the library does: only this section needs sklearn.
    from sklearn.metrics import roc_auc_score, roc_curve

    labels = test["label"].to_numpy()
    curves = {}
    for name in available:
        false_positive, true_positive, _ = roc_curve(labels, test[name])
        curves[name] = (false_positive, true_positive, roc_auc_score(labels, test[name]))
    calibration = {name: calibration_table(test[name].to_numpy(), labels) for name in available}
    left, right = st.columns(2)
    with left:
        ui.plotly_chart(evaluation_plots.roc_figure(curves, DISPLAY_NAMES), key=f"{key}_roc")
    with right:
        ui.plotly_chart(evaluation_plots.calibration_figure(calibration, DISPLAY_NAMES), key=f"{key}_calibration")


def model_facts(*, entry: dict) -> None:
    """Size, training time and hyperparameters of one recurrent model."""
    st.write(
        f"**{entry['parameters']:,} parameters**, {entry['epochs']} epochs (best {entry.get('best_epoch', '?')}), "
        f"{entry['training_seconds']:,.0f} s of training; started from "
        f"{entry.get('hyperparameters', {}).get('initialised_from', 'GloVe')}."
    )


def architecture_table(*, name: str, bundle, key: str) -> None:
    """The model's layers at full width (a narrow column clipped the shapes), counts with thousands separators."""
    if name not in bundle.classifiers:
        st.text(bundle.errors.get(name, "not loaded"))
        return
    table = pd.DataFrame(architecture_summary(bundle.classifiers[name].model))
    table["parameters"] = table["parameters"].map("{:,}".format)
    st.dataframe(table, hide_index=True, key=f"{key}_arch_{name}", width="stretch")
    st.caption(
        "Keras shapes: None is a size set only when the model runs, first the number of reviews in a batch, "
        "then the number of tokens."
    )


def model_card(*, name: str, entry: dict, bundle, key: str) -> None:
    """One recurrent model: its facts, training curves and test confusion matrix."""
    st.subheader(DISPLAY_NAMES[name])
    info, curves_column, confusion_column = st.columns([1, 2, 1.3])
    with info:
        model_facts(entry=entry)
    with curves_column:
        ui.plotly_chart(evaluation_plots.training_curves(entry["history"]), key=f"{key}_history_{name}")
    with confusion_column:
        ui.plotly_chart(
            evaluation_plots.confusion_figure(entry["test"]["confusion_matrix"], "Confusion matrix (test)"),
            key=f"{key}_confusion_{name}",
        )
    with st.expander(f"{DISPLAY_NAMES[name]}: layers and hyperparameters"):
        architecture_table(name=name, bundle=bundle, key=key)
        # Full width: in the narrow facts column the JSON wrapped one word a line.
        st.json(entry["hyperparameters"], expanded=True)


def reviews_in_view(*, test: pd.DataFrame, available: list[str], key: str) -> pd.DataFrame:
    """The test reviews of the chosen view: where the recurrent models disagree, or where one is confidently wrong."""
    st.subheader("Held-out reviews worth reading")
    choice = st.radio("Show", VIEWS, horizontal=True, **ui.option(f"{key}_browse"))
    if choice.startswith("the recurrent") and set(RECURRENT_NAMES) <= set(test.columns):
        verdicts = pd.DataFrame({name: decide(test[name]) for name in RECURRENT_NAMES})
        selected = test[verdicts.nunique(axis=1) > 1]  # at least two recurrent models give different labels
    else:  # the model matters only here, so its select is drawn only here
        model_for_errors = st.selectbox(
            "Model",
            [n for n in available if n != "baseline"],
            **ui.option(f"{key}_error_model"),
            format_func=lambda name: DISPLAY_NAMES[name],
        )
        probability = test[model_for_errors]
        selected = test[np.where(test["label"] == 1, probability < 0.1, probability > 0.9)]
    return selected.assign(label=selected["label"].map({0: "negative", 1: "positive"}))


def review_table(*, selected: pd.DataFrame, total: int, key: str) -> None:
    """The selected reviews with every model's probability."""
    columns = ["label"] + [n for n in CLASSIFIER_NAMES if n in selected.columns] + ["text"]
    st.write(f"{len(selected):,} of {total:,} test reviews.")
    ui.dataframe(
        selected[columns],
        hide_index=True,
        key=f"{key}_errors",
        column_config={"text": st.column_config.TextColumn(width="large")},
    )
    ui.csv_download(selected[columns], "heldout_reviews.csv", key=f"{key}_download_errors")


def language_model_cards(*, manifest: dict) -> None:
    """The next-word models: held-out perplexity, training budget and the validation curve."""
    section = manifest.get("language_models")
    if not section:
        return
    st.subheader("Language models (next word)")
    table = pd.DataFrame(readable_rows(perplexity_table(section, LANGUAGE_DISPLAY_NAMES), PERPLEXITY_DECIMALS))
    st.dataframe(table, hide_index=True, key="cards_lm")
    ui.plotly_chart(
        language_model_plots.language_model_training_figure(section, LANGUAGE_DISPLAY_NAMES), key="cards_lm_training"
    )
    st.caption(
        "Perplexity on the test split (lower is better), every predicted token counted. Both recurrent models "
        "trained on the same number of tokens and kept their best weights on a fixed validation subset."
    )


def send_review(*, selected: pd.DataFrame, key: str) -> None:
    """Pick one of the selected reviews and make it the shared text of every page."""
    pick_key = f"{key}_pick"
    if st.session_state.get(pick_key, 1) > len(selected):  # the list just got shorter (another view or model)
        st.session_state[pick_key] = 1
    pick = st.number_input("Send review number … to the other pages", 1, len(selected), **ui.option(pick_key))
    chosen = selected["text"].iloc[min(int(pick), len(selected)) - 1]
    st.caption(f"Review {int(pick)} of {len(selected):,}: " + ui.literal(chosen, 160))
    st.button("Use this review", key=f"{key}_use", on_click=ui.use_review, args=(chosen,))
    if ui.current_text() == chosen:
        st.success("This review is the shared text now: open any page to follow it through the pipeline.")


ui.leave_legacy_router()
st.title("Model cards")
st.caption(
    "Every number here was measured on reviews the models never saw in training or early stopping: "
    "the fixed IMDB test split and, out of domain, Rotten Tomatoes sentences."
)
bundle = ui.bundle_or_stop()
ui.status_strip(bundle)

predictions = heldout_or_stop(bundle)
test = predictions[predictions["split"] == "imdb_test"]
available = [name for name in CLASSIFIER_NAMES if name in predictions.columns]
summary(available=available, manifest=bundle.manifest, key="cards")
roc_and_calibration(test=test, available=available, key="cards")
for name in [n for n in NEURAL_NAMES if n in bundle.manifest["models"]]:
    model_card(name=name, entry=bundle.manifest["models"][name], bundle=bundle, key="cards")
language_model_cards(manifest=bundle.manifest)
selected = reviews_in_view(test=test, available=available, key="cards")
review_table(selected=selected, total=len(test), key="cards")
if len(selected):
    send_review(selected=selected, key="cards")
