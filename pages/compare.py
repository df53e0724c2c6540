"""RNN vs LSTM: each cached model's verdict, side by side, and its running prediction."""

import pandas as pd
import streamlit as st

from rnndemo import plots, ui
from rnndemo.registry import DISPLAY_NAMES
from rnndemo.serving import EmptyTextError

ui.leave_legacy_router()
st.title("SimpleRNN vs LSTM")
st.caption(
    "The SimpleRNN and the LSTM read the same tokens; the TF-IDF + logistic regression baseline is the sanity reference."
)
bundle = ui.bundle_or_stop()
review = ui.text_input("compare")

try:
    predictions = bundle.classify(review)
except EmptyTextError as error:
    st.warning(str(error).capitalize() + ".")
    st.stop()

recurrent = {name: prediction for name, prediction in predictions.items() if name != "baseline"}
cut = max((prediction.cut_tokens for prediction in recurrent.values()), default=0)
if cut:
    st.info(
        f"The models read the last {bundle.manifest['sequence_length']} tokens; {cut:,} tokens were cut from the start."
    )

columns = st.columns(len(predictions))
for column, (name, prediction) in zip(columns, predictions.items()):
    entry = bundle.manifest["models"].get(name) or bundle.manifest.get("baseline", {})
    with column:
        st.subheader(DISPLAY_NAMES.get(name, name))
        column.metric(
            "verdict",
            prediction.label,
            f"p(positive) = {prediction.probability_positive:.3f}",
            delta_color="off",
            delta_arrow="off",
            help="probability ≥ 0.5 means positive",
        )
        st.progress(prediction.probability_positive, text=f"p(positive) {prediction.probability_positive:.1%}")
        st.caption(
            f"held-out accuracy {entry.get('test_accuracy', float('nan')):.1%} · {ui.latency_caption(name, prediction.latency_ms)}"
        )

labels = {name: prediction.label for name, prediction in recurrent.items()}
if len(set(labels.values())) > 1:
    st.warning(
        "The models disagree: "
        + ", ".join(f"{DISPLAY_NAMES[name]} says {label}" for name, label in labels.items())
        + "."
    )
elif labels:
    agreement = (
        "agree"
        if "baseline" not in predictions or predictions["baseline"].label in labels.values()
        else "agree with each other but not with the baseline"
    )
    st.success(f"The recurrent models {agreement}: {next(iter(labels.values()))}.")

if recurrent:
    st.plotly_chart(
        plots.trajectory_chart(
            {name: p.trajectory for name, p in recurrent.items()},
            {name: p.tokens for name, p in recurrent.items()},
            DISPLAY_NAMES,
        ),
        key="compare_trajectory",
    )
    st.caption(
        "Each point is the model's answer if the review ended at that token: the Dense layer applied to the "
        "state h_t, through its sigmoid, p = σ(w·h_t + b). The last point is the verdict."
    )
# Toggles, not collapsed expanders: an expander's tables are still built and drawn on every
# rerun, which costs every visitor's browser on every paste; a toggle builds them only when asked.
if recurrent and st.toggle("Show the running predictions as a table", **ui.option("compare_show_running_predictions")):
    first = next(iter(recurrent.values()))
    table = pd.DataFrame({"position": range(1, len(first.tokens) + 1), "token": first.tokens, "index": first.ids})
    for name, prediction in recurrent.items():
        table[f"p(positive) {DISPLAY_NAMES[name]}"] = [round(value, 4) for value in prediction.trajectory]
    st.dataframe(table, hide_index=True, key="compare_table")
    ui.csv_download(table, "running_predictions.csv", key="compare_download")
if bundle.baseline is not None and st.toggle(
    "Show why the baseline decided so (top TF-IDF terms)", **ui.option("compare_show_baseline_terms")
):
    terms = bundle.baseline.contributions(review)
    st.dataframe(
        pd.DataFrame(terms, columns=["term", "contribution to the logit"]),
        hide_index=True,
        key="compare_baseline_terms",
    )
