"""Model cards: architecture, training, held-out metrics and the reviews the models get wrong."""

import numpy as np
import pandas as pd
import streamlit as st

from rnndemo import plots, ui
from rnndemo.evaluation import calibration_table, decide, load_heldout_predictions
from rnndemo.models import ModelFileError, architecture_summary
from rnndemo.registry import CLASSIFIER_NAMES, DISPLAY_NAMES, RECURRENT_NAMES

ui.leave_legacy_router()
st.title("Model cards")
st.caption(
    "Every number here was measured on reviews the models never saw in training or early stopping: "
    "the fixed IMDB test split and, out of domain, Rotten Tomatoes sentences."
)
bundle = ui.bundle_or_stop()
manifest = bundle.manifest
ui.status_strip(bundle)


@st.cache_data(max_entries=2, show_spinner="Reading held-out predictions…")
def heldout(models_dir: str, created: str) -> pd.DataFrame:
    return load_heldout_predictions(bundle)


try:
    predictions = heldout(str(bundle.models_dir), manifest.get("created", ""))
except ModelFileError as error:
    st.error(str(error))
    st.stop()
test = predictions[predictions["split"] == "imdb_test"]
available = [name for name in CLASSIFIER_NAMES if name in predictions.columns]

summary = []
for name in available:
    entry = manifest["models"].get(name) or manifest["baseline"]
    summary.append(
        {
            "model": DISPLAY_NAMES[name],
            "parameters": entry.get("parameters"),
            "epochs": entry.get("epochs"),
            "training seconds": entry.get("training_seconds"),
            "validation accuracy": entry.get("validation_accuracy"),
            "test accuracy": entry["test_accuracy"],
            "test AUC": entry["test_auc"],
            "Rotten Tomatoes accuracy": entry["rotten_tomatoes_accuracy"],
        }
    )
summary_table = pd.DataFrame(summary)
st.dataframe(summary_table, hide_index=True, key="cards_summary")
ui.csv_download(summary_table, "model_summary.csv", key="cards_download_summary")
split = manifest["split"]
st.caption(
    f"Split: {split['train']:,} train / {split['validation']:,} validation / {split['test']:,} test IMDB reviews "
    f"({split['duplicates_dropped']} duplicate texts dropped first); test sha256 {split['test_sha256'][:16]}…; "
    f"vocabulary {manifest['vocabulary_size']:,} entries, GloVe hits {manifest['glove_coverage']['hits']:,}, "
    f"misses {manifest['glove_coverage']['misses']:,}."
)

from sklearn.metrics import roc_auc_score, roc_curve  # noqa: E402

labels = test["label"].to_numpy()
curves = {}
for name in available:
    false_positive, true_positive, _ = roc_curve(labels, test[name])
    curves[name] = (false_positive, true_positive, roc_auc_score(labels, test[name]))
left, right = st.columns(2)
left.plotly_chart(plots.roc_figure(curves, DISPLAY_NAMES), key="cards_roc")
right.plotly_chart(
    plots.calibration_figure(
        {name: calibration_table(test[name].to_numpy(), labels) for name in available}, DISPLAY_NAMES
    ),
    key="cards_calibration",
)

for name in [n for n in RECURRENT_NAMES if n in manifest["models"]]:
    entry = manifest["models"][name]
    st.subheader(DISPLAY_NAMES[name])
    info, curves_column, confusion_column = st.columns([1, 2, 1.3])
    with info:
        st.write(
            f"**{entry['parameters']:,} parameters**, {entry['epochs']} epochs (best {entry.get('best_epoch', '?')}), "
            f"{entry['training_seconds']:.0f} s of training."
        )
        st.json(entry["hyperparameters"], expanded=False)
        if name in bundle.classifiers:
            st.dataframe(
                pd.DataFrame(architecture_summary(bundle.classifiers[name].model)),
                hide_index=True,
                key=f"cards_arch_{name}",
            )
        else:
            st.text(bundle.errors.get(name, "not loaded"))
    curves_column.plotly_chart(plots.training_curves(entry["history"]), key=f"cards_history_{name}")
    confusion_column.plotly_chart(
        plots.confusion_figure(entry["test"]["confusion_matrix"], "Confusion matrix (test)"),
        key=f"cards_confusion_{name}",
    )

st.subheader("Held-out reviews worth reading")
choice = st.radio(
    "Show",
    ["the recurrent models disagree", "confidently wrong (p > 0.9 for the wrong class)"],
    horizontal=True,
    **ui.option("cards_browse"),
)
frame = test.copy()
if choice.startswith("the recurrent") and set(RECURRENT_NAMES) <= set(frame.columns):
    selected = frame[decide(frame["rnn"]) != decide(frame["lstm"])]
else:  # the model matters only here, so its select is drawn only here
    model_for_errors = st.selectbox(
        "Model",
        [n for n in available if n != "baseline"],
        **ui.option("cards_error_model"),
        format_func=lambda name: DISPLAY_NAMES[name],
    )
    probability = frame[model_for_errors]
    selected = frame[np.where(frame["label"] == 1, probability < 0.1, probability > 0.9)]
selected = selected.assign(label=selected["label"].map({0: "negative", 1: "positive"}))
columns = ["label"] + [n for n in CLASSIFIER_NAMES if n in selected.columns] + ["text"]
st.write(f"{len(selected):,} of {len(frame):,} test reviews.")
st.dataframe(
    selected[columns],
    hide_index=True,
    key="cards_errors",
    column_config={"text": st.column_config.TextColumn(width="large")},
)
ui.csv_download(selected[columns], "heldout_reviews.csv", key="cards_download_errors")
if len(selected):
    if st.session_state.get("cards_pick", 1) > len(selected):  # the list just got shorter (another view or model)
        st.session_state["cards_pick"] = 1
    pick = st.number_input("Send review number … to the other pages", 1, len(selected), 1, **ui.option("cards_pick"))
    chosen = selected["text"].iloc[min(int(pick), len(selected)) - 1]
    st.caption(f"Review {int(pick)} of {len(selected):,}: " + ui.literal(chosen, 160))
    st.button("Use this review", key="cards_use", on_click=ui.set_text, args=(chosen,))
    if ui.current_text() == chosen:
        st.success("This review is the shared text now: open any page to follow it through the pipeline.")
