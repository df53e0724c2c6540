"""Walkthrough: one text through the whole pipeline, in the lesson's order."""

import pandas as pd
import streamlit as st

from rnndemo import text as text_stage
from rnndemo import ui
from rnndemo.registry import DISPLAY_NAMES
from rnndemo.serving import EmptyTextError

ui.leave_legacy_router()
st.title("From a movie review to an RNN's verdict")
st.caption(
    "Paste a review and follow it through the Keras text-to-RNN pipeline, on real IMDB data and real trained models."
)
bundle = ui.bundle_or_stop()
ui.status_strip(bundle)
review = ui.text_input("home")

tokens = text_stage.tokenize(review)
if not tokens:
    st.warning(
        "This text has no words once cleaned (only punctuation, symbols or spaces). Paste a review with some words in it."
    )
    st.stop()

st.subheader("1. Raw → cleaned")
st.write("Lowercase, drop `<br />` tags and punctuation (apostrophes inside words stay), collapse spaces.")
st.page_link("pages/tokens.py", label="Try the cleaning options →")
cleaned = text_stage.clean_text(review)
st.code(cleaned[:2000] + ("…" if len(cleaned) > 2000 else ""), language=None, wrap_lines=True)

st.subheader("2. Tokens → indices")
st.write(
    f"The cleaned text splits into **{len(tokens):,} tokens**. The model's vocabulary numbers words by corpus frequency; 0 is padding, 1 is out-of-vocabulary."
)
st.page_link("pages/tokens.py", label="See all three index orders →")
sequence_length = int(bundle.manifest["sequence_length"])
encoded = bundle.vocabulary.encode(tokens, sequence_length)
preview = pd.DataFrame(
    [encoded.tokens[:20], [str(index) for index in encoded.ids[:20]]],
    index=["token", "index"],
    columns=[f"#{position}" for position in range(1, min(20, len(tokens)) + 1)],
)
st.dataframe(preview)
if encoded.cut_tokens:
    st.info(f"The model reads the last {sequence_length} tokens; {encoded.cut_tokens:,} tokens were cut.")

st.subheader("3. Indices → vectors")
st.write(
    "Each index selects a row of the embedding matrix: 50 numbers per word, starting from GloVe and tuned during training."
)
st.page_link("pages/embeddings.py", label="Explore neighbours and PCA plots →")

st.subheader("4. Vectors → RNN / LSTM → prediction")
st.write(
    "The recurrent layer reads the vectors one by one, updating its state h_t = f(x_t, h_{t-1}); a sigmoid turns the last state into p(positive)."
)
st.page_link("pages/compare.py", label="Compare RNN and LSTM token by token →")
st.page_link("pages/inside.py", label="Look inside: hidden states and gates →")
try:
    predictions = bundle.classify(review)
except EmptyTextError as error:
    st.warning(str(error))
    st.stop()
columns = st.columns(len(predictions))
for column, (name, prediction) in zip(columns, predictions.items()):
    column.metric(
        DISPLAY_NAMES.get(name, name),
        prediction.label,
        f"p(positive) = {prediction.probability_positive:.3f}",
        delta_color="off",
        delta_arrow="off",
    )
