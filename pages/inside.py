"""Inside the RNN: the unfolded graph, hidden states, LSTM gates, word importance and the memory experiment."""

import numpy as np
import streamlit as st

from rnndemo import plots, ui
from rnndemo.memory import load_memory_experiment
from rnndemo.models import ModelFileError
from rnndemo.registry import DISPLAY_NAMES, RECURRENT_NAMES
from rnndemo.serving import EmptyTextError

ui.leave_legacy_router()
st.title("Inside the RNN")
st.caption(
    "Three claims of the lesson, checked on the real cached models: the state h summarises what was read; "
    "a plain RNN has a short memory; an LSTM learns what to forget and what to keep."
)
bundle = ui.bundle_or_stop()
review = ui.text_input("inside", height=120)
available = [name for name in RECURRENT_NAMES if name in bundle.classifiers]
if not available:
    st.error("No recurrent model is loaded.")
    st.stop()
shown = st.radio(
    "Models",
    ["both", *available],
    horizontal=True,
    **ui.option("inside_model"),
    format_func=lambda name: "both, side by side" if name == "both" else DISPLAY_NAMES[name],
)
names = available if shown == "both" else [shown]

inspections, importances = {}, {}
try:
    with st.spinner("Running the models step by step…"):
        for name in names:
            inspections[name], importances[name] = ui.inspect_text(str(bundle.models_dir), name, review)
except EmptyTextError as error:
    st.warning(str(error).capitalize() + ".")
    st.stop()

first = inspections[names[0]]
if first.cut_tokens:
    st.info(
        f"The models read the last {len(first.tokens)} tokens; {first.cut_tokens:,} tokens were cut from the start."
    )

st.subheader("1. One function, unfolded over time")
st.write(
    "At every token the same function f takes the word's vector x_t and the previous state h_{t−1} and returns h_t. "
    "Only the last state reaches the classifier; each box's colour is the prediction if the review ended there."
)
st.plotly_chart(plots.unfolded_graph(first.tokens, first.trajectory.tolist()), key="inside_unfolded")

st.subheader("2. Hidden states h_t")
st.write("Rows are units, columns are tokens. A unit that changes colour at a word has reacted to it.")
columns = st.columns(len(names))
for column, name in zip(columns, names):
    with column:
        inspection = inspections[name]
        st.plotly_chart(
            plots.heatmap(
                inspection.hidden, inspection.tokens, f"{DISPLAY_NAMES[name]}: h_t ({inspection.hidden.shape[1]} units)"
            ),
            key=f"inside_hidden_{name}",
        )

if "lstm" in inspections and inspections["lstm"].gates is not None:
    st.subheader("3. LSTM gates and cell state")
    st.write(
        "Reading guide: a **forget** gate near 0 wipes that unit's memory at this word, near 1 keeps it; "
        "an **input** gate near 1 writes the new candidate into the cell; an **output** gate near 1 lets the cell show in h_t. "
        "The cell state c_t is the LSTM's long-term memory."
    )
    inspection = inspections["lstm"]
    gate_columns = st.columns(2)
    for position, gate in enumerate(("forget", "input", "output")):
        with gate_columns[position % 2]:
            st.plotly_chart(
                plots.heatmap(
                    inspection.gates[gate], inspection.tokens, f"{gate} gate", colorscale="Viridis", zrange=(0, 1)
                ),
                key=f"inside_gate_{gate}",
            )
    with gate_columns[1]:
        limit = float(max(1.0, np.abs(inspection.cell).max()))
        st.plotly_chart(
            plots.heatmap(inspection.cell, inspection.tokens, "cell state c_t", zrange=(-limit, limit)),
            key="inside_cell",
        )
    mean_forget = inspection.gates["forget"].mean(axis=1)
    lowest = int(np.argmin(mean_forget))
    st.caption(
        f"Mean forget gate over units: {mean_forget.mean():.2f}; it is lowest ({mean_forget[lowest]:.2f}) at token {lowest + 1}."
    )

st.subheader("4. Which words mattered")
st.write(
    "Occlusion: how much p(positive) drops when one token is removed (green pushed towards positive, red towards negative). "
    "All removals run as one batch."
)
for name in names:
    tokens, importance = inspections[name].tokens, importances[name]
    strongest = np.argsort(-np.abs(importance))[:3]
    st.caption(
        f"{DISPLAY_NAMES[name]} (p(positive) = {inspections[name].trajectory[-1]:.3f}); strongest: "
        + ", ".join(f"{ui.literal(tokens[i], 30)} {importance[i]:+.3f}" for i in strongest)
    )
    ui.show_html(ui.highlighted_tokens(tokens, importance))
with st.expander("Importance as bars (hover for the token)"):
    for name in names:
        st.plotly_chart(
            plots.importance_bars(inspections[name].tokens, importances[name], DISPLAY_NAMES[name]),
            key=f"inside_importance_{name}",
        )

st.subheader("5. Is the plain RNN's memory short? (measured)")
try:
    result = load_memory_experiment(bundle.models_dir, bundle.manifest)
except ModelFileError as error:
    st.warning("The memory experiment's file was refused.")
    st.text(str(error))
    st.stop()
if result is None:
    st.info("The memory experiment has not been computed for these models; run `python -m rnndemo memory`.")
else:
    # Text from a file is treated like visitor text: shown, never parsed as Markdown.
    st.text(result["design"].split("\n\n")[1] if "\n\n" in result["design"] else result["design"])
    left, right = st.columns(2)
    with left:
        st.plotly_chart(plots.memory_accuracy_figure(result, DISPLAY_NAMES), key="inside_memory_accuracy")
        st.text(str(result.get("accuracy_summary", "")))
    with right:
        st.plotly_chart(plots.memory_gradient_figure(result, DISPLAY_NAMES), key="inside_memory_gradient")
        st.text(str(result.get("gradient_summary", "")))
