"""Inside the RNN: the unfolded graph, hidden states, LSTM and GRU gates, word importance and the memory experiment."""

import numpy as np
import streamlit as st

from rnndemo import plots, ui
from rnndemo.memory import load_memory_experiment
from rnndemo.models import ModelFileError
from rnndemo.registry import DISPLAY_NAMES, RECURRENT_NAMES
from rnndemo.serving import EmptyTextError


def recurrent_models_or_stop(bundle) -> list[str]:
    """The loaded recurrent models; without any the page has nothing to show and stops."""
    available = [name for name in RECURRENT_NAMES if name in bundle.classifiers]
    if not available:
        st.error("No recurrent model is loaded.")
        st.stop()
    return available


def chosen_models(*, available: list[str], key: str) -> list[str]:
    """The models to inspect: one of them, or all side by side."""
    shown = st.radio(
        "Models",
        ["all", *available],
        horizontal=True,
        **ui.option(f"{key}_model"),
        format_func=lambda name: "all, side by side" if name == "all" else DISPLAY_NAMES[name],
    )
    return available if shown == "all" else [shown]


def inspections_or_stop(*, bundle, names: list[str], review: str) -> tuple[dict, dict]:
    """Each model's states and gates, and each token's importance; a text without words stops the page."""
    inspections, importances = {}, {}
    try:
        with st.spinner("Running the models step by step…"):
            for name in names:
                inspections[name], importances[name] = ui.inspect_text(str(bundle.models_dir), name, review)
    except EmptyTextError as error:
        st.warning(str(error).capitalize() + ".")
        st.stop()
    return inspections, importances


def unfolded(*, inspection, key: str) -> None:
    """Section 1: the recurrence drawn as one box per token."""
    st.subheader("1. One function, unfolded over time")
    st.write(
        "At every token the same function f takes the word's vector x_t and the previous state h_{t−1} "
        "and returns h_t. "
        + (
            "The classifier reads the mean of all the states; "
            if inspection.readout == "mean"
            else "Only the last state reaches the classifier; "
        )
        + "each box's colour is the prediction if the review ended there."
    )
    st.plotly_chart(plots.unfolded_graph(inspection.tokens, inspection.trajectory.tolist()), key=f"{key}_unfolded")


def hidden_states(*, inspections: dict, key: str) -> None:
    """Section 2: each model's hidden state after every token, side by side."""
    st.subheader("2. Hidden states h_t")
    st.write("Rows are units, columns are tokens. A unit that changes colour at a word has reacted to it.")
    columns = st.columns(len(inspections))
    for column, (name, inspection) in zip(columns, inspections.items()):
        with column:
            st.plotly_chart(
                plots.heatmap(
                    inspection.hidden,
                    inspection.tokens,
                    f"{DISPLAY_NAMES[name]}: h_t ({inspection.hidden.shape[1]} units)",
                ),
                key=f"{key}_hidden_{name}",
            )


def lstm_gates(*, inspection, key: str) -> None:
    """Section 3: the LSTM's three gates and its cell state, token by token."""
    st.subheader("3. LSTM gates and cell state")
    st.write(
        "Reading guide: a **forget** gate near 0 wipes that unit's memory at this word, near 1 keeps it; "
        "an **input** gate near 1 writes the new candidate into the cell; "
        "an **output** gate near 1 lets the cell show in h_t. "
        "The cell state c_t is the LSTM's long-term memory."
    )
    gate_columns = st.columns(2)
    for position, gate in enumerate(("forget", "input", "output")):
        with gate_columns[position % 2]:
            st.plotly_chart(
                plots.heatmap(
                    inspection.gates[gate], inspection.tokens, f"{gate} gate", colorscale="Viridis", zrange=(0, 1)
                ),
                key=f"{key}_gate_{gate}",
            )
    with gate_columns[1]:
        limit = float(max(1.0, np.abs(inspection.cell).max()))
        st.plotly_chart(
            plots.heatmap(inspection.cell, inspection.tokens, "cell state c_t", zrange=(-limit, limit)),
            key=f"{key}_cell",
        )
    forget_summary(inspection=inspection)


def gru_gates(*, inspection, key: str) -> None:
    """Section 3b: the GRU's update and reset gates, token by token."""
    st.subheader("3b. GRU gates")
    st.write(
        "The GRU has no separate cell: h_t = z·h_{t−1} + (1 − z)·h̃. Reading guide: an **update** gate z near 1 "
        "keeps that unit's state through this word, near 0 replaces it with the candidate h̃; a **reset** gate "
        "near 0 lets the candidate ignore the previous state."
    )
    gate_columns = st.columns(2)
    for column, gate in zip(gate_columns, ("update", "reset")):
        with column:
            st.plotly_chart(
                plots.heatmap(
                    inspection.gates[gate], inspection.tokens, f"{gate} gate", colorscale="Viridis", zrange=(0, 1)
                ),
                key=f"{key}_gru_gate_{gate}",
            )
    mean_update = inspection.gates["update"].mean(axis=1)  # (time,): averaged over units
    lowest = int(np.argmin(mean_update))
    st.caption(
        f"Mean update gate over units: {mean_update.mean():.2f}; it is lowest ({mean_update[lowest]:.2f}), "
        f"so the state is rewritten most, at token {lowest + 1} ({ui.literal(inspection.tokens[lowest], 30)})."
    )


def forget_summary(*, inspection) -> None:
    """Where the LSTM forgets most, in one sentence."""
    mean_forget = inspection.gates["forget"].mean(axis=1)  # (time,): averaged over units
    lowest = int(np.argmin(mean_forget))
    st.caption(
        f"Mean forget gate over units: {mean_forget.mean():.2f}; "
        f"it is lowest ({mean_forget[lowest]:.2f}) at token {lowest + 1}."
    )


def word_importance(*, inspections: dict, importances: dict, key: str) -> None:
    """Section 4: occlusion importance, as highlighted tokens per model and, folded away, as bars."""
    st.subheader("4. Which words mattered")
    st.write(
        "Occlusion: how much p(positive) drops when one token is removed "
        "(green pushed towards positive, red towards negative). All removals run as one batch."
    )
    for name, inspection in inspections.items():
        tokens, importance = inspection.tokens, importances[name]
        strongest = np.argsort(-np.abs(importance))[:3]
        st.caption(
            f"{DISPLAY_NAMES[name]} (p(positive) = {inspection.trajectory[-1]:.3f}); strongest: "
            + ", ".join(f"{ui.literal(tokens[i], 30)} {importance[i]:+.3f}" for i in strongest)
        )
        ui.show_html(ui.highlighted_tokens(tokens, importance))
    with st.expander("Importance as bars (hover for the token)"):
        for name, inspection in inspections.items():
            st.plotly_chart(
                plots.importance_bars(inspection.tokens, importances[name], DISPLAY_NAMES[name]),
                key=f"{key}_importance_{name}",
            )


def memory_result_or_stop(bundle) -> dict | None:
    """The measured memory experiment (None if never computed); a file that fails its check stops the page."""
    try:
        return load_memory_experiment(bundle.models_dir, bundle.manifest)
    except ModelFileError as error:
        st.warning("The memory experiment's file was refused.")
        st.text(str(error))
        st.stop()


def memory_experiment(*, bundle, key: str) -> None:
    """Section 5: accuracy and gradient against distance, for every recurrent model."""
    st.subheader("5. Is the plain RNN's memory short? (measured)")
    result = memory_result_or_stop(bundle)
    if result is None:
        st.info("The memory experiment has not been computed for these models; run `python -m rnndemo memory`.")
        return
    # Text from a file is treated like visitor text: shown, never parsed as Markdown.
    st.text(result["design"].split("\n\n")[1] if "\n\n" in result["design"] else result["design"])
    left, right = st.columns(2)
    with left:
        st.plotly_chart(plots.memory_accuracy_figure(result, DISPLAY_NAMES), key=f"{key}_memory_accuracy")
        st.text(str(result.get("accuracy_summary", "")))
    with right:
        st.plotly_chart(plots.memory_gradient_figure(result, DISPLAY_NAMES), key=f"{key}_memory_gradient")
        st.text(str(result.get("gradient_summary", "")))


ui.leave_legacy_router()
st.title("Inside the RNN")
st.caption(
    "Three claims of the lesson, checked on the real cached models: the state h summarises what was read; "
    "a plain RNN has a short memory; an LSTM learns what to forget and what to keep."
)
bundle = ui.bundle_or_stop()
review = ui.text_input("inside", height=120)
names = chosen_models(available=recurrent_models_or_stop(bundle), key="inside")
inspections, importances = inspections_or_stop(bundle=bundle, names=names, review=review)

first = inspections[names[0]]
if first.cut_tokens:
    ui.truncation_notice(int(bundle.manifest["sequence_length"]), first.cut_tokens)
unfolded(inspection=first, key="inside")
hidden_states(inspections=inspections, key="inside")
if "lstm" in inspections and inspections["lstm"].gates is not None:
    lstm_gates(inspection=inspections["lstm"], key="inside")
if "gru" in inspections and inspections["gru"].gates is not None:
    gru_gates(inspection=inspections["gru"], key="inside")
word_importance(inspections=inspections, importances=importances, key="inside")
memory_experiment(bundle=bundle, key="inside")
