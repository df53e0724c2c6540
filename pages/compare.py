"""SimpleRNN vs LSTM vs GRU: each cached model's verdict, side by side, and its running prediction; beside them
the DFN and the 1-D CNN, which do not read in order, and the measured word-order test."""

import pandas as pd
import streamlit as st

from rnndemo import evaluation_plots, order_test, token_plots, ui
from rnndemo.models import ModelFileError, readout_of
from rnndemo.registry import DISPLAY_NAMES, RECURRENT_NAMES, SHORT_NAMES
from rnndemo.serving import EmptyTextError


def predictions_or_stop(*, bundle, review: str) -> dict:
    """Every model's prediction; a text without words gets a message and the page stops."""
    try:
        return bundle.classify(review)
    except EmptyTextError as error:
        st.warning(str(error).capitalize() + ".")
        st.stop()


def verdict(*, name: str, prediction, entry: dict, truth, compact: bool) -> None:
    """One model's verdict (marked right or wrong when the label is known), its probability bar,
    held-out accuracy and latency; compact (no heading) in presenter mode."""
    if not compact:
        # A small heading: at 1280 px a quarter of the page is ~200 px, and "TF-IDF baseline" as a subheader wrapped.
        st.markdown(f"#### {SHORT_NAMES.get(name, name)}")  # no help icon: it wrapped onto a line of its own
    st.metric(
        DISPLAY_NAMES.get(name, name) if compact else "verdict",
        prediction.label + ui.verdict_mark(prediction.label, truth),
        f"p(positive) = {prediction.probability_positive:.3f}",
        delta_color="off",
        delta_arrow="off",
        help="probability ≥ 0.5 means positive; ✓ or ✗: right or wrong against the review's true label",
    )
    st.progress(prediction.probability_positive, text=f"p(positive) {prediction.probability_positive:.1%}")
    st.caption(
        f"held-out accuracy {entry.get('test_accuracy', float('nan')):.1%} · "
        f"{ui.latency_caption(name, prediction.latency_ms)}"
    )


def verdicts(*, predictions: dict, manifest: dict, truth, compact: bool) -> None:
    """The verdicts side by side, one column per model."""
    columns = st.columns(len(predictions))
    for column, (name, prediction) in zip(columns, predictions.items()):
        with column:
            verdict(
                name=name,
                prediction=prediction,
                entry=manifest["models"].get(name) or manifest.get("baseline", {}),
                truth=truth,
                compact=compact,
            )


def agreement(*, predictions: dict, recurrent: dict) -> None:
    """Whether the recurrent models agree with each other, and with the baseline."""
    labels = {name: prediction.label for name, prediction in recurrent.items() if name in RECURRENT_NAMES}
    if len(set(labels.values())) > 1:
        st.warning(
            "The models disagree: "
            + ", ".join(f"{DISPLAY_NAMES[name]} says {label}" for name, label in labels.items())
            + "."
        )
    elif labels:
        relation = (
            "agree"
            if "baseline" not in predictions or predictions["baseline"].label in labels.values()
            else "agree with each other but not with the baseline"
        )
        st.success(f"The recurrent models {relation}: {next(iter(labels.values()))}.")


def running_predictions(*, recurrent: dict, readouts: dict[str, str], key: str) -> None:
    """Each recurrent model's prediction after every token, as one chart; `readouts`: each model's readout."""
    ui.plotly_chart(
        token_plots.trajectory_chart(
            {name: p.trajectory for name, p in recurrent.items()},
            {name: p.tokens for name, p in recurrent.items()},
            DISPLAY_NAMES,
        ),
        key=f"{key}_trajectory",
    )
    averaging = [DISPLAY_NAMES[name] for name in recurrent if readouts.get(name) == "mean"]
    last_state = [DISPLAY_NAMES[name] for name in recurrent if readouts.get(name) == "last"]
    reads = []
    if last_state:
        reads.append(f"for the {' and '.join(last_state)}, to the state hₜ, p = σ(w·hₜ + b)")
    if averaging:
        reads.append(f"for the {' and '.join(averaging)}, to the mean of the states h₁ … hₜ")
    if "dfn" in recurrent:
        reads.append(f"for the {DISPLAY_NAMES['dfn']}, after its hidden layer, to the mean of the word vectors so far")
    if "cnn" in recurrent:
        reads.append(f"for the {DISPLAY_NAMES['cnn']}, to the maximum of each 3-, 4- and 5-word feature so far")
    st.caption(
        "Each point is the model's answer if the review ended at that token: the Dense layer applied, through "
        f"its sigmoid, {'; '.join(reads)}. The last point is the verdict."
    )


# Toggles, not collapsed expanders: an expander's tables are still built and drawn on every
# rerun, which costs every visitor's browser on every paste; a toggle builds them only when asked.
def running_predictions_table(*, recurrent: dict, key: str) -> None:
    """On request, the running predictions as a table: one row per token, one column per model."""
    if not st.toggle("Show the running predictions as a table", **ui.option(f"{key}_show_running_predictions")):
        return
    first = next(iter(recurrent.values()))
    table = pd.DataFrame({"position": range(1, len(first.tokens) + 1), "token": first.tokens, "index": first.ids})
    for name, prediction in recurrent.items():
        table[f"p(positive) {DISPLAY_NAMES[name]}"] = [round(value, 4) for value in prediction.trajectory]
    ui.dataframe(table, hide_index=True, key=f"{key}_table")
    ui.csv_download(table, "running_predictions.csv", key=f"{key}_download")


def baseline_terms(*, baseline, review: str, key: str) -> None:
    """On request, the TF-IDF terms that pushed the baseline's logit most."""
    if not st.toggle("Show why the baseline decided so (top TF-IDF terms)", **ui.option(f"{key}_show_baseline_terms")):
        return
    ui.dataframe(
        pd.DataFrame(baseline.contributions(review), columns=["term", "contribution to the logit"]),
        hide_index=True,
        key=f"{key}_baseline_terms",
    )


def order_test_claim(*, bundle, key: str) -> None:
    """The lesson's claim with its measured number, computed from the committed word-order test; on request,
    the test as a chart and a table."""
    try:
        result = order_test.load_order_test(bundle.models_dir, bundle.manifest)
    except ModelFileError as error:
        st.warning("The word-order test's file was refused.")
        st.text(str(error))
        return
    if result is None:
        st.info("The word-order test has not been computed for these models; run `python -m rnndemo order-test`.")
        return
    st.markdown(f"**{order_test.claim(result, DISPLAY_NAMES)}**")
    if not st.toggle("Show the word-order test for every model", **ui.option(f"{key}_show_order_test")):
        return
    ui.plotly_chart(
        evaluation_plots.order_test_figure(result, DISPLAY_NAMES, order_test.CONDITION_NAMES), key=f"{key}_order_test"
    )
    lost = order_test.drops(result)
    table = pd.DataFrame(
        {
            "model": [DISPLAY_NAMES.get(name, name) for name in result["models"]],
            "as written": [scores["original"] for scores in result["models"].values()],
        }
        | {
            f"points lost, {order_test.CONDITION_NAMES[condition]}": [lost[name][condition] for name in lost]
            for condition in order_test.CONDITIONS[1:]
        }
    )
    ui.dataframe(table, hide_index=True, key=f"{key}_order_table")
    st.caption(
        f"Test accuracy on the {result['n']:,} held-out test reviews, each reordered with its own seeded shuffle "
        "(the same for every model); only the words a model reads are reordered. The DFN averages its word "
        "vectors, so no reordering can change its answer."
    )


SWAPPED = "swapped"  # the reorder state of a swap of two chosen words


def _reorder(condition: str) -> None:
    """Button callback: reorder the shared text's words (a new shuffle on every press)."""
    previous = st.session_state.get("compare_reorder") or {}
    st.session_state["compare_reorder"] = {
        "condition": condition,
        "seed": previous.get("seed", 0) + 1,
        "text": ui.current_text(),
    }


def _swap(key: str) -> None:
    """Button callback: swap the two words chosen in the position inputs (checked when the row is drawn)."""
    previous = st.session_state.get("compare_reorder") or {}
    st.session_state["compare_reorder"] = {
        "condition": SWAPPED,
        "seed": previous.get("seed", 0),
        "positions": (int(st.session_state[f"{key}_swap_first"]), int(st.session_state[f"{key}_swap_second"])),
        "text": ui.current_text(),
    }


def swap_controls(*, tokens: list[str], key: str) -> None:
    """Two position inputs, each with the word it points at, and the Swap button."""
    first, second = st.columns(2)
    for column, which, label, default in (
        (first, "first", "Swap the word at position", 1),
        (second, "second", "with the word at position", 2),
    ):
        position = column.number_input(
            label, min_value=1, max_value=max(len(tokens), 2), value=default, step=1, **ui.option(f"{key}_swap_{which}")
        )
        word = f"“{tokens[position - 1]}”" if 1 <= position <= len(tokens) else "past the end of the review"
        column.caption(f"{position}: {word}")
    st.button("Swap these two words", key=f"{key}_swap", on_click=_swap, args=(key,))


def variant_of(*, state: dict, review: str, tokens: list[str], sequence_length: int) -> tuple[str, str] | None:
    """The reordered text the row scores and its column's name; None (with the reason shown) when a swap's
    positions do not fit the review."""
    if state["condition"] != SWAPPED:
        variant = order_test.variant_text(review, state["condition"], state["seed"], sequence_length)
        return variant, order_test.CONDITION_NAMES[state["condition"]]
    first, second = state["positions"]
    try:
        swapped = order_test.swap_words(tokens, first, second)
    except ValueError as error:
        st.warning(str(error))
        return None
    return " ".join(swapped), f"words {first} and {second} swapped"


def reorder_row(*, bundle, review: str, predictions: dict, key: str) -> None:
    """Shuffle or reverse this text's words, or swap two chosen words; each model's verdict on the reordering
    beside its verdict on the text as written, and a sentence that says which verdicts changed."""
    st.subheader("Does the order of the words matter to each model?")
    shuffle, reverse = st.columns(2)
    shuffle.button("Shuffle the words", key=f"{key}_shuffle", on_click=_reorder, args=("shuffled",), width="stretch")
    reverse.button("Reverse the words", key=f"{key}_reverse", on_click=_reorder, args=("reversed",), width="stretch")
    sequence_length = int(bundle.manifest["sequence_length"])
    tokens = order_test.words_read(review, sequence_length)
    if len(tokens) >= 2:
        swap_controls(tokens=tokens, key=key)
    else:
        st.caption(order_test.swap_problem(tokens, 1, 2))
    state = st.session_state.get("compare_reorder")
    if not state or state["text"] != ui.current_text():
        st.caption(
            "Shuffle or reverse the words of the review above, or swap two of them, and see which models change "
            "their minds. Positions count the words the models read."
        )
        return
    shown = variant_of(state=state, review=review, tokens=tokens, sequence_length=sequence_length)
    if shown is None:
        return
    variant, column_name = shown
    st.caption(f"The review, {column_name}:")
    # st.text shows its text as typed, so the code span of ui.literal would show its backticks.
    st.text(variant if len(variant) <= 1_000 else variant[:1_000] + "…")
    after = bundle.classify(variant, list(predictions))
    rows = [
        {
            "model": DISPLAY_NAMES.get(name, name),
            "as written": f"{prediction.label} ({prediction.probability_positive:.3f})",
            column_name: f"{after[name].label} ({after[name].probability_positive:.3f})",
        }
        for name, prediction in predictions.items()
    ]
    ui.dataframe(pd.DataFrame(rows), hide_index=True, key=f"{key}_reorder_table")
    before = {name: prediction.probability_positive for name, prediction in predictions.items()}
    st.caption(order_test.change_sentence(before, {n: p.probability_positive for n, p in after.items()}, DISPLAY_NAMES))


def minimal_pairs(*, bundle, key: str) -> None:
    """Curated pairs of sentences whose word order flips the meaning: each model's verdict on both, and buttons
    that load either sentence into the review box."""
    st.subheader("Minimal pairs: the order of the words flips the meaning")
    chosen = st.selectbox(
        "Pair",
        range(len(order_test.MINIMAL_PAIRS)),
        format_func=lambda index: " / ".join(text for text, _ in order_test.MINIMAL_PAIRS[index]),
        **ui.option(f"{key}_pair"),
    )
    pair = order_test.MINIMAL_PAIRS[chosen]
    columns = st.columns(2)
    for position, (column, (sentence, label)) in enumerate(zip(columns, pair)):
        column.button(
            f"Load “{sentence}” ({label})",
            key=f"{key}_pair_load_{position}",
            on_click=ui.use_review,
            args=(sentence,),
            width="stretch",
        )
    # Lines, not a table: the page draws its tables only when asked (each costs every visitor's browser).
    for sentence, label in pair:
        verdicts = ui.curated_verdicts(str(bundle.models_dir), sentence)
        st.markdown(f"“{sentence}” ({label}): " + pair_verdicts(verdicts=verdicts, label=label))
    st.caption("The labels are ours, by reading: a pair tests order only if a model gets both right.")


def pair_verdicts(*, verdicts: dict, label: str) -> str:
    """Each model's verdict on one curated sentence, marked right or wrong against its label, in one line."""
    return " · ".join(
        f"{SHORT_NAMES.get(name, name)} {prediction.label} {'✓' if prediction.label == label else '✗'}"
        for name, prediction in verdicts.items()
    )


ui.leave_legacy_router()
st.title("SimpleRNN vs LSTM vs GRU")
# In presenter mode the verdicts are drawn here, above the review box, so that they fit the projector's screen.
top = st.container()
st.caption(
    "The SimpleRNN, the LSTM and the GRU read the same tokens; beside them a feed-forward network (DFN), which "
    "averages the word vectors and so ignores their order, and a 1-D CNN, which reads 3 to 5 words at a time. "
    "The TF-IDF + logistic regression baseline is the sanity reference."
)
bundle = ui.bundle_or_stop()
review = ui.text_input("compare")

predictions = predictions_or_stop(bundle=bundle, review=review)
recurrent = {name: prediction for name, prediction in predictions.items() if name != "baseline"}
cut_tokens = max((prediction.cut_tokens for prediction in recurrent.values()), default=0)
if cut_tokens:
    ui.truncation_notice(int(bundle.manifest["sequence_length"]), cut_tokens)
truth = ui.true_label(ui.current_text())
with top if ui.presenting() else st.container():
    verdicts(predictions=predictions, manifest=bundle.manifest, truth=truth, compact=ui.presenting())
    ui.label_callout(predictions=predictions, truth=truth, baseline=bundle.baseline, review=review)
ui.why_cards(bundle=bundle, review=review, predictions=predictions, truth=truth, key="compare")
agreement(predictions=predictions, recurrent=recurrent)
if recurrent:
    readouts = {name: readout_of(bundle.classifiers[name].model) for name in recurrent}
    running_predictions(recurrent=recurrent, readouts=readouts, key="compare")
    running_predictions_table(recurrent=recurrent, key="compare")
if bundle.baseline is not None:
    baseline_terms(baseline=bundle.baseline, review=review, key="compare")
order_test_claim(bundle=bundle, key="compare")
reorder_row(bundle=bundle, review=review, predictions=predictions, key="compare")
minimal_pairs(bundle=bundle, key="compare")
