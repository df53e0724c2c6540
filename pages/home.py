"""Walkthrough: one text through the whole pipeline, in the lesson's order."""

import pandas as pd
import streamlit as st

from rnndemo import text as text_stage
from rnndemo import ui
from rnndemo.registry import DISPLAY_NAMES
from rnndemo.serving import EmptyTextError

PREVIEW_CHARACTERS = 2000  # of the cleaned text; the tokens page shows it all
PREVIEW_TOKENS = 20  # of the token → index table


def tokens_or_stop(review: str) -> list[str]:
    """The review's tokens; a text without words gets a message and the page stops."""
    tokens = text_stage.tokenize(review)
    if not tokens:
        st.warning(
            "This text has no words once cleaned (only punctuation, symbols or spaces). "
            "Paste a review with some words in it."
        )
        st.stop()
    return tokens


def step_heading(heading: str, explanation: str, links: dict[str, str]) -> None:
    """A step of the walkthrough: its heading, what it does in words, and the pages that show it in full
    (page file -> link label)."""
    st.subheader(heading)
    st.write(explanation)
    for page, label in links.items():
        st.page_link(page, label=label)


def raw_to_cleaned(*, review: str) -> None:
    """Step 1: the cleaned text."""
    step_heading(
        "1. Raw → cleaned",
        "Lowercase, drop `<br />` tags and punctuation (apostrophes inside words stay), collapse spaces.",
        {"pages/tokens.py": "Try the cleaning options →"},
    )
    cleaned = text_stage.clean_text(review)
    st.code(
        cleaned[:PREVIEW_CHARACTERS] + ("…" if len(cleaned) > PREVIEW_CHARACTERS else ""),
        language=None,
        wrap_lines=True,
    )


def tokens_to_indices(*, tokens: list[str], vocabulary, sequence_length: int) -> None:
    """Step 2: the first tokens and their indices in the model's vocabulary."""
    step_heading(
        "2. Tokens → indices",
        f"The cleaned text splits into **{len(tokens):,} tokens**. The model's vocabulary numbers words by "
        "corpus frequency; 0 is padding, 1 is out-of-vocabulary.",
        {"pages/tokens.py": "See all three index orders →"},
    )
    encoded = vocabulary.encode(tokens, sequence_length)
    preview = pd.DataFrame(
        [encoded.tokens[:PREVIEW_TOKENS], [str(index) for index in encoded.ids[:PREVIEW_TOKENS]]],
        index=["token", "index"],
        columns=[f"#{position}" for position in range(1, min(PREVIEW_TOKENS, len(tokens)) + 1)],
    )
    st.dataframe(preview)
    if encoded.cut_tokens:
        ui.truncation_notice(sequence_length, encoded.cut_tokens)


def indices_to_vectors() -> None:
    """Step 3: the embedding lookup, in words."""
    step_heading(
        "3. Indices → vectors",
        "Each index selects a row of the embedding matrix: 50 numbers per word, "
        "starting from GloVe and tuned during training.",
        {"pages/embeddings.py": "Explore neighbours and PCA plots →"},
    )


def vectors_to_prediction() -> None:
    """Step 4: the recurrent layer and the sigmoid, in words."""
    step_heading(
        "4. Vectors → SimpleRNN / LSTM / GRU → prediction",
        "The recurrent layer reads the vectors one by one, updating its state hₜ = f(xₜ, hₜ₋₁); "
        "a sigmoid turns the last state (for the SimpleRNN, the mean of all its states) into p(positive).",
        {
            "pages/compare.py": "Compare SimpleRNN, LSTM and GRU token by token →",
            "pages/inside.py": "Look inside: hidden states and gates →",
            "pages/race.py": "Train them yourself: a live race on a task that needs memory →",
        },
    )


def sequences_as_output() -> None:
    """Step 5: the same recurrent layer with a sequence as output: the language model."""
    step_heading(
        "5. The same RNN, a sequence as output: the next word",
        "Give the recurrent layer an output at every step instead of one at the end, train it to predict the "
        "next word, and it becomes a language model that can continue your review word by word.",
        {"pages/language_model.py": "Predict and generate the next word →"},
    )


def predictions_or_stop(*, bundle, review: str) -> dict:
    """Every model's prediction; a text the models refuse gets the refusal and the page stops."""
    try:
        return bundle.classify(review)
    except EmptyTextError as error:
        st.warning(str(error))
        st.stop()


def verdicts(*, predictions: dict, truth) -> None:
    """Each model's verdict and probability, side by side; ✓ or ✗ when the review's true label is known."""
    columns = st.columns(len(predictions))
    for column, (name, prediction) in zip(columns, predictions.items()):
        column.metric(
            DISPLAY_NAMES.get(name, name),
            prediction.label + ui.verdict_mark(prediction.label, truth),
            f"p(positive) = {prediction.probability_positive:.3f}",
            delta_color="off",
            delta_arrow="off",
        )


ui.leave_legacy_router()
st.title("From a movie review to an RNN's verdict")
# In presenter mode the verdicts are drawn here, at the top, so that they fit the projector's screen.
top = st.container()
st.caption(
    "Paste a review and follow it through the Keras text-to-RNN pipeline, on real IMDB data and real trained models."
)
bundle = ui.bundle_or_stop()
if not ui.presenting():  # the held-out accuracies are on Model cards; a projector needs the room
    ui.status_strip(bundle)
review = ui.text_input("home")

tokens = tokens_or_stop(review)
raw_to_cleaned(review=review)
tokens_to_indices(tokens=tokens, vocabulary=bundle.vocabulary, sequence_length=int(bundle.manifest["sequence_length"]))
indices_to_vectors()
vectors_to_prediction()
predictions = predictions_or_stop(bundle=bundle, review=review)
truth = ui.true_label(ui.current_text())
with top if ui.presenting() else st.container():
    verdicts(predictions=predictions, truth=truth)
    ui.label_callout(predictions=predictions, truth=truth, baseline=bundle.baseline, review=review)
ui.why_cards(bundle=bundle, review=review, predictions=predictions, truth=truth, key="home")
sequences_as_output()
