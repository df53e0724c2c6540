"""SimpleRNN vs LSTM vs GRU: each cached model's verdict, side by side, and its running prediction."""

import pandas as pd
import streamlit as st

from rnndemo import plots, ui
from rnndemo.models import readout_of
from rnndemo.registry import DISPLAY_NAMES, SHORT_NAMES
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
    labels = {name: prediction.label for name, prediction in recurrent.items()}
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
        plots.trajectory_chart(
            {name: p.trajectory for name, p in recurrent.items()},
            {name: p.tokens for name, p in recurrent.items()},
            DISPLAY_NAMES,
        ),
        key=f"{key}_trajectory",
    )
    averaging = [DISPLAY_NAMES[name] for name in recurrent if readouts.get(name) == "mean"]
    last_state = [DISPLAY_NAMES[name] for name in recurrent if readouts.get(name) != "mean"]
    reads = []
    if last_state:
        reads.append(f"for the {' and '.join(last_state)}, to the state hₜ, p = σ(w·hₜ + b)")
    if averaging:
        reads.append(f"for the {' and '.join(averaging)}, to the mean of the states h₁ … hₜ")
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


ui.leave_legacy_router()
st.title("SimpleRNN vs LSTM vs GRU")
# In presenter mode the verdicts are drawn here, above the review box, so that they fit the projector's screen.
top = st.container()
st.caption(
    "The SimpleRNN, the LSTM and the GRU read the same tokens; "
    "the TF-IDF + logistic regression baseline is the sanity reference."
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
