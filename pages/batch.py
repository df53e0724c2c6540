"""Batch check: upload reviews, every model predicts, download the results."""

import hashlib

import numpy as np
import pandas as pd
import streamlit as st

from rnndemo import evaluation, plots, ui
from rnndemo.batch import UploadError, guess_text_column, parse_labels
from rnndemo.config import LIMITS
from rnndemo.evaluation import decide, heldout_metrics
from rnndemo.registry import DISPLAY_NAMES

ui.leave_legacy_router()
st.title("Batch check")
st.caption(
    f"Upload a CSV (choose the text column and, optionally, a label column) or a .txt file with one review per line. "
    f"Limits: {LIMITS.max_upload_megabytes} MB and {LIMITS.max_batch_rows:,} rows; UTF-8 or UTF-16 text."
)
bundle = ui.bundle_or_stop()
upload = st.file_uploader("Reviews file", type=["csv", "txt"], key="batch_upload")
if upload is None:
    st.info(
        "No file yet. A CSV with columns text,label (label 0/1 or negative/positive) gives accuracy and a confusion matrix."
    )
    st.stop()

raw = upload.getvalue()
digest = hashlib.sha256(raw).hexdigest()
try:
    parsed = ui.parsed_upload(raw, digest, upload.name)
except UploadError as error:
    st.error("This file cannot be used.")
    st.text(str(error).capitalize() + ".")
    st.stop()
frame = parsed.frame
if parsed.cut_cells:
    st.warning(
        f"{parsed.cut_cells:,} cells were longer than {LIMITS.max_text_characters:,} characters; "
        "each keeps its last characters (the part the models read)."
    )
if parsed.truncated_rows:
    st.warning(
        f"Only the first {LIMITS.max_batch_rows:,} rows are checked; {parsed.truncated_rows:,} rows were left out."
    )

columns = [str(column) for column in frame.columns]
guess = guess_text_column(frame)
if parsed.kind == "csv":
    if guess is None:
        st.error(
            "No column looks like review text (none is named text/review and none holds text of 10+ characters on average). "
            "Choose the text column below."
        )
    text_column = st.selectbox(
        "Text column", columns, index=columns.index(str(guess)) if guess is not None else 0, key="batch_text_column"
    )
    label_choice = st.selectbox(
        "Label column (optional)",
        ["(none)"] + [c for c in columns if c != text_column],
        index=(1 + [c for c in columns if c != text_column].index("label"))
        if "label" in columns and text_column != "label"
        else 0,
        key="batch_label_column",
    )
else:
    text_column, label_choice = "text", "(none)"

texts = frame[text_column].astype(str).tolist()
labels = None
if label_choice != "(none)":
    try:
        labels = parse_labels(frame[label_choice])
    except UploadError as error:
        st.error("The label column cannot be used, so accuracy is skipped; predictions still run.")
        st.text(str(error).capitalize() + ".")
probabilities = ui.upload_probabilities(raw, digest, upload.name, text_column, str(bundle.models_dir))
has_words = ~np.isnan(next(iter(probabilities.values()))) if probabilities else np.ones(len(texts), dtype=bool)
if not has_words.all():
    st.warning(
        f"{int((~has_words).sum()):,} rows have no words once cleaned; no model predicts them "
        '(their probability is empty and their label is "no words"), and accuracy leaves them out.'
    )

results = pd.DataFrame({"text": texts})
if labels is not None:
    results["label"] = labels
for name, values in probabilities.items():
    results[f"p_positive_{name}"] = np.round(values, 6)
    results[f"label_{name}"] = np.where(
        np.isnan(values), "no words", np.where(decide(values) == 1, "positive", "negative")
    )
st.dataframe(
    results, hide_index=True, key="batch_results", column_config={"text": st.column_config.TextColumn(width="large")}
)
ui.csv_download(results, "batch_predictions.csv", key="batch_download")

if labels is not None and len(set(labels)) >= 1:
    st.subheader("Against your labels")
    metric_columns = st.columns(len(probabilities))
    for column, (name, values) in zip(metric_columns, probabilities.items()):
        with column:
            scored = has_words
            if not scored.any():
                st.metric(DISPLAY_NAMES.get(name, name), "–", help="no labelled row has words")
                continue
            accuracy = evaluation.accuracy(values[scored], labels[scored])
            st.metric(
                DISPLAY_NAMES.get(name, name),
                f"{accuracy:.1%}",
                help=f"accuracy on {int(scored.sum()):,} labelled rows with words",
            )
            if len(set(labels[scored])) == 2:
                metrics = heldout_metrics(values[scored], labels[scored])
                st.plotly_chart(
                    plots.confusion_figure(metrics["confusion_matrix"], f"AUC {metrics['auc']:.3f}"),
                    key=f"batch_confusion_{name}",
                )
