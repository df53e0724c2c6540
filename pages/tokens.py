"""Text → tokens → indices: cleaning options, tokens, unique words and the three index orders."""

import pandas as pd
import streamlit as st

from rnndemo import text as text_stage
from rnndemo import ui
from rnndemo.vocab import OOV_INDEX

ui.leave_legacy_router()
st.title("Text → tokens → indices")
bundle = ui.bundle_or_stop()
review = ui.text_input("tokens")

st.subheader("Cleaning")
columns = st.columns(4)
options = text_stage.CleaningOptions(
    lowercase=columns[0].checkbox("lowercase", True, **ui.option("tokens_lowercase")),
    remove_line_breaks=columns[1].checkbox("replace <br /> with spaces", True, **ui.option("tokens_line_breaks")),
    remove_punctuation=columns[2].checkbox(
        "remove punctuation (keep it's, don't)", True, **ui.option("tokens_punctuation")
    ),
    collapse_whitespace=columns[3].checkbox("collapse whitespace", True, **ui.option("tokens_whitespace")),
)
if options != text_stage.CleaningOptions():
    st.warning(
        "The models were trained with every cleaning step on. The indices below follow your options, "
        "but the model pages always clean the default way, so the model sees different tokens from these."
    )
raw_column, clean_column = st.columns(2)
raw_column.caption("Raw text")
raw_column.code(review[:5000] + ("…" if len(review) > 5000 else ""), language=None, wrap_lines=True)
cleaned = text_stage.clean_text(review, options)
clean_column.caption("Cleaned text")
clean_column.code(cleaned[:5000] + ("…" if len(cleaned) > 5000 else ""), language=None, wrap_lines=True)

tokens = cleaned.split()
if not tokens:
    st.warning("No tokens: the cleaned text is empty. Paste a review with some words in it.")
    st.stop()
st.subheader(f"Tokens ({len(tokens):,})")
st.write("Tokens are the cleaned text split on whitespace.")
counts = pd.DataFrame(text_stage.word_counts(tokens), columns=["word", "count"])
token_column, unique_column = st.columns([2, 1])
with token_column:
    token_table = pd.DataFrame({"position": range(1, len(tokens) + 1), "token": tokens})
    st.dataframe(token_table, hide_index=True, height=300, key="tokens_token_table")
    ui.csv_download(token_table, "tokens.csv", key="tokens_download_tokens")
with unique_column:
    st.caption(f"{len(counts):,} unique words, most frequent first")
    st.dataframe(counts, hide_index=True, height=300, key="tokens_unique_table")
    ui.csv_download(counts, "unique_words.csv", key="tokens_download_unique")

st.subheader("Indices")
order = st.radio(
    "Number the words by",
    ["first appearance (as on the slides)", "frequency in this text", "the model's vocabulary"],
    horizontal=True,
    **ui.option("tokens_order"),
)
sequence_length = int(bundle.manifest["sequence_length"])
encoded = bundle.vocabulary.encode(
    tokens,
    sequence_length,
    truncating="pre",
    padding=st.radio("Padding", ["pre", "post"], horizontal=True, **ui.option("tokens_padding")),
)
if order.startswith("first"):
    _, ids = text_stage.index_by_appearance(tokens)
    st.write("Each new word gets the next number; a repeated word reuses its number.")
elif order.startswith("frequency"):
    _, ids = text_stage.index_by_frequency(tokens)
    st.write("The most frequent word in this text is 1; ties go to the word that appears first.")
else:
    ids = encoded.ids
    st.write(
        f"The model's vocabulary ranks {len(bundle.vocabulary):,} entries by frequency in the training reviews: "
        "0 is padding, 1 is out-of-vocabulary (OOV)."
    )
index_table = pd.DataFrame({"position": range(1, len(tokens) + 1), "token": tokens, "index": ids})
if order.startswith("the model"):
    index_table["out of vocabulary"] = [index == OOV_INDEX for index in ids]
    oov = int(index_table["out of vocabulary"].sum())
    st.metric("Out-of-vocabulary tokens (index 1)", f"{oov:,} of {len(tokens):,}")
st.dataframe(index_table, hide_index=True, height=300, key="tokens_index_table")
ui.csv_download(index_table, "indices.csv", key="tokens_download_indices")

st.subheader(f"What the model sees: exactly {sequence_length} numbers")
if encoded.cut_tokens:
    st.info(
        f"The model reads the last {sequence_length} tokens; {encoded.cut_tokens:,} tokens were cut from the start."
    )
else:
    st.write(
        f"The text has {len(tokens)} tokens, so {sequence_length - len(tokens)} zeros of padding fill the rest; the model skips them (mask_zero)."
    )
seen = pd.DataFrame(
    {"slot": range(1, sequence_length + 1), "index": encoded.padded, "token": bundle.vocabulary.decode(encoded.padded)}
)
seen["token"] = [("(padding)" if index == 0 else token) for index, token in zip(seen["index"], seen["token"])]
st.dataframe(seen, hide_index=True, height=250, key="tokens_seen_table")
ui.csv_download(seen, "model_input.csv", key="tokens_download_seen")
