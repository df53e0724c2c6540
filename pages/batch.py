"""Batch check: upload reviews, every model predicts, download the results."""

import hashlib

import numpy as np
import pandas as pd
import streamlit as st

from rnndemo import evaluation, evaluation_plots, ui
from rnndemo.batch import (
    LABEL_VALUES_TEXT,
    UploadError,
    guess_label_column,
    guess_text_column,
    label_columns,
    parse_labels,
    results_frame,
)
from rnndemo.config import LIMITS
from rnndemo.evaluation import heldout_metrics
from rnndemo.explain import counted
from rnndemo.registry import DISPLAY_NAMES

NO_LABEL = "(none)"  # how the "no label column" choice reads; the choice itself is None, so no column can clash


def upload_or_stop(*, key: str):
    """The uploaded file; until there is one, what to upload, and the page stops."""
    upload = st.file_uploader("Reviews file", type=["csv", "txt"], key=f"{key}_upload")
    if upload is None:
        st.info(
            "No file yet. A CSV with a text column and a label column "
            f"({LABEL_VALUES_TEXT}) gives accuracy and a confusion matrix."
        )
        st.stop()
    return upload


def parsed_or_stop(*, raw: bytes, digest: str, file_name: str):
    """The file as a table, with what was cut to fit the limits; a file that cannot be read stops the page."""
    try:
        parsed = ui.parsed_upload(raw, digest, file_name)
    except UploadError as error:
        st.error("This file cannot be used.")
        st.text(str(error).capitalize() + ".")
        st.stop()
    if parsed.cut_cells:
        were = "was" if parsed.cut_cells == 1 else "were"
        st.warning(
            f"{counted(parsed.cut_cells, 'cell')} {were} longer than {LIMITS.max_text_characters:,} characters; "
            "each keeps its last characters (the part the models read)."
        )
    if parsed.truncated_rows:
        were = "was" if parsed.truncated_rows == 1 else "were"
        st.warning(
            f"Only the first {LIMITS.max_batch_rows:,} rows are checked; "
            f"{counted(parsed.truncated_rows, 'row')} {were} left out."
        )
    return parsed


def chosen_columns(*, frame: pd.DataFrame, key: str) -> tuple[str, str | None]:
    """The text column and the label column (or None) of a CSV, guessed first and chosen by the visitor.

    Label columns are offered by name (label, sentiment, …) or by values (all pos/neg, 1/0, …)."""
    columns = [str(column) for column in frame.columns]
    guess = guess_text_column(frame)
    if guess is None:
        st.error(
            "No column looks like review text (none is named text/review and none holds text of 10+ characters "
            "on average). Choose the text column below."
        )
    text_column = st.selectbox(
        "Text column", columns, index=columns.index(str(guess)) if guess is not None else 0, key=f"{key}_text_column"
    )
    candidates = label_columns(frame, text_column)
    label_guess = guess_label_column(frame, text_column)
    label_column = st.selectbox(
        "Label column (optional)",
        [None] + candidates,
        index=(1 + candidates.index(label_guess)) if label_guess is not None else 0,
        format_func=lambda column: NO_LABEL if column is None else column,
        key=f"{key}_label_column",
        help=f"Columns named like labels (sentiment, label, …) or holding only {LABEL_VALUES_TEXT}.",
    )
    if label_guess is None and candidates and label_column is None:  # say why none was chosen for the visitor
        st.info(
            f"{', '.join(ui.literal(str(column), 40) for column in candidates)}: named like a label column, but "
            f"not every value is one of {LABEL_VALUES_TEXT}, so none is chosen. Choose it above to see which "
            "values are not."
        )
    return text_column, label_column


def labels_or_none(*, frame: pd.DataFrame, label_column: str | None) -> np.ndarray | None:
    """The labels as 1/0 (NaN where empty); a column that is not labels gets a message, and accuracy is skipped."""
    if label_column is None:
        return None
    try:
        labels = parse_labels(frame[label_column])
    except UploadError as error:
        st.error("The label column cannot be used, so accuracy is skipped; predictions still run.")
        st.text(str(error).capitalize() + ".")
        return None
    unlabelled = int(np.isnan(labels).sum())
    if unlabelled:
        has, it = ("has", "it") if unlabelled == 1 else ("have", "them")
        st.info(f"{counted(unlabelled, 'row')} {has} an empty label; accuracy leaves {it} out.")
    return labels


def rows_with_words(*, probabilities: dict, row_count: int) -> np.ndarray:
    """Which rows the models scored (a row without words gets no probability), saying how many did not."""
    has_words = ~np.isnan(next(iter(probabilities.values()))) if probabilities else np.ones(row_count, dtype=bool)
    if not has_words.all():
        empty = int((~has_words).sum())
        it, its = ("it", "its") if empty == 1 else ("them", "their")
        st.warning(
            f"{counted(empty, 'row')} {'has' if empty == 1 else 'have'} no words once cleaned; no model predicts {it} "
            f'({its} probability is empty and {its} label is "no words"), and accuracy leaves {it} out.'
        )
    return has_words


def results_table(
    *, frame: pd.DataFrame, text_column: str, labels: np.ndarray | None, probabilities: dict, key: str
) -> None:
    """The visitor's rows with each model's probability, label and (given labels) right or wrong, and their CSV."""
    results = results_frame(frame, probabilities, labels)
    ui.dataframe(
        results,
        hide_index=True,
        key=f"{key}_results",
        column_config={text_column: st.column_config.TextColumn(width="large")},
    )
    st.caption(
        "The download keeps your columns as they are and adds, per model, p_positive, label and, "
        "if you chose a label column, right_or_wrong. A cell that starts like a spreadsheet formula "
        "gets a leading ' so that it cannot run."
    )
    ui.csv_download(results, "batch_predictions.csv", key=f"{key}_download")


def model_against_labels(*, name: str, values: np.ndarray, labels: np.ndarray, scored: np.ndarray, key: str) -> None:
    """One model's accuracy on the labelled rows with words (`scored`), and its confusion matrix when both
    classes occur."""
    if not scored.any():
        st.metric(DISPLAY_NAMES.get(name, name), "–", help="no labelled row has words")
        return
    known = labels[scored].astype(int)  # `scored` rows all have a label
    accuracy = evaluation.accuracy(values[scored], known)
    st.metric(
        DISPLAY_NAMES.get(name, name),
        f"{accuracy:.1%}",
        help=f"accuracy on {counted(int(scored.sum()), 'labelled row')} with words",
    )
    if len(set(known)) == 2:
        metrics = heldout_metrics(values[scored], known)
        ui.plotly_chart(
            evaluation_plots.confusion_figure(metrics["confusion_matrix"], f"AUC {metrics['auc']:.3f}"),
            key=f"{key}_confusion_{name}",
        )


def against_labels(*, labels: np.ndarray, probabilities: dict, scored: np.ndarray, key: str) -> None:
    """Every model against the visitor's labels, side by side (rows without a label are left out)."""
    st.subheader("Against your labels")
    scored = scored & ~np.isnan(labels)
    for column, (name, values) in zip(st.columns(len(probabilities)), probabilities.items()):
        with column:
            model_against_labels(name=name, values=values, labels=labels, scored=scored, key=key)


ui.leave_legacy_router()
st.title("Batch check")
st.caption(
    f"Upload a CSV (choose the text column and, optionally, a label column) or a .txt file with one review per line. "
    f"Limits: {LIMITS.max_upload_megabytes} MB and {LIMITS.max_batch_rows:,} rows; UTF-8 or UTF-16 text."
)
bundle = ui.bundle_or_stop()
upload = upload_or_stop(key="batch")
raw = upload.getvalue()
digest = hashlib.sha256(raw).hexdigest()
parsed = parsed_or_stop(raw=raw, digest=digest, file_name=upload.name)
if parsed.kind == "csv":
    text_column, label_column = chosen_columns(frame=parsed.frame, key="batch")
else:  # a .txt file: one review per line, no labels
    text_column, label_column = "text", None
labels = labels_or_none(frame=parsed.frame, label_column=label_column)
probabilities = ui.upload_probabilities(raw, digest, upload.name, text_column, str(bundle.models_dir))
scored = rows_with_words(probabilities=probabilities, row_count=len(parsed.frame))
results_table(frame=parsed.frame, text_column=text_column, labels=labels, probabilities=probabilities, key="batch")
if labels is not None and not np.isnan(labels).all():
    against_labels(labels=labels, probabilities=probabilities, scored=scored, key="batch")
