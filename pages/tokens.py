"""Text → tokens → indices: cleaning options, tokens, unique words and the three index orders."""

import numpy as np
import pandas as pd
import streamlit as st

from rnndemo import text as text_stage
from rnndemo import ui
from rnndemo.vocab import OOV_INDEX

SHOWN_CHARACTERS = 5000  # the code blocks show the start of a long text; the tables below hold every token
SHOWN_TOKENS = 2000  # of the text with its out-of-vocabulary words marked (each token is one HTML span)


def cleaning_options(*, key: str) -> text_stage.CleaningOptions:
    """The four cleaning steps as checkboxes, with a warning when they differ from the models' cleaning."""
    st.subheader("Cleaning")
    columns = st.columns(4)
    options = text_stage.CleaningOptions(
        lowercase=columns[0].checkbox("lowercase", True, **ui.option(f"{key}_lowercase")),
        remove_line_breaks=columns[1].checkbox("replace <br /> with spaces", True, **ui.option(f"{key}_line_breaks")),
        remove_punctuation=columns[2].checkbox(
            "remove punctuation",
            True,
            **ui.option(f"{key}_punctuation"),
            help="keeps the apostrophe inside words: it's, don't",  # in a quarter of the page the label was cut
        ),
        collapse_whitespace=columns[3].checkbox("collapse whitespace", True, **ui.option(f"{key}_whitespace")),
    )
    if options != text_stage.CleaningOptions():
        st.warning(
            "The models were trained with every cleaning step on. The indices below follow your options, "
            "but the model pages always clean the default way, so the model sees different tokens from these."
        )
    return options


def raw_and_cleaned(*, review: str, cleaned: str) -> None:
    """The text before and after cleaning, side by side (shown as code: never parsed as Markdown)."""
    raw_column, clean_column = st.columns(2)
    for column, caption, text in ((raw_column, "Raw text", review), (clean_column, "Cleaned text", cleaned)):
        column.caption(caption)
        column.code(
            text[:SHOWN_CHARACTERS] + ("…" if len(text) > SHOWN_CHARACTERS else ""), language=None, wrap_lines=True
        )


def tokens_or_stop(cleaned: str) -> list[str]:
    """The cleaned text split on whitespace; an empty text gets a message and the page stops."""
    tokens = cleaned.split()
    if not tokens:
        st.warning("No tokens: the cleaned text is empty. Paste a review with some words in it.")
        st.stop()
    return tokens


def token_tables(*, tokens: list[str], key: str) -> None:
    """Every token by position, and the unique words by count."""
    st.subheader(f"Tokens ({len(tokens):,})")
    st.write("Tokens are the cleaned text split on whitespace.")
    counts = pd.DataFrame(text_stage.word_counts(tokens), columns=["word", "count"])
    token_column, unique_column = st.columns([2, 1])
    with token_column:
        token_table = pd.DataFrame({"position": range(1, len(tokens) + 1), "token": tokens})
        st.dataframe(token_table, hide_index=True, height=300, key=f"{key}_token_table")
        ui.csv_download(token_table, "tokens.csv", key=f"{key}_download_tokens")
    with unique_column:
        st.caption(f"{len(counts):,} unique words, most frequent first")
        st.dataframe(counts, hide_index=True, height=300, key=f"{key}_unique_table")
        ui.csv_download(counts, "unique_words.csv", key=f"{key}_download_unique")


def index_order(*, key: str) -> str:
    """Which of the three numberings the index table uses."""
    st.subheader("Indices")
    return st.radio(
        "Number the words by",
        ["first appearance (as on the slides)", "frequency in this text", "the model's vocabulary"],
        horizontal=True,
        **ui.option(f"{key}_order"),
    )


def padding_side(*, key: str) -> str:
    """Where the zeros of padding go ("pre" or "post")."""
    return st.radio("Padding", ["pre", "post"], horizontal=True, **ui.option(f"{key}_padding"))


def numbered(*, order: str, tokens: list[str], encoded, vocabulary_size: int) -> list[int]:
    """Each token's index in the chosen order, with one sentence on how that order numbers words."""
    if order.startswith("first"):
        st.write("Each new word gets the next number; a repeated word reuses its number.")
        return text_stage.index_by_appearance(tokens)[1]
    if order.startswith("frequency"):
        st.write("The most frequent word in this text is 1; ties go to the word that appears first.")
        return text_stage.index_by_frequency(tokens)[1]
    st.write(
        f"The model's vocabulary ranks {vocabulary_size:,} entries by frequency in the training reviews: "
        "0 is padding, 1 is out-of-vocabulary (OOV)."
    )
    return encoded.ids


def out_of_vocabulary(*, tokens: list[str], ids: list[int]) -> None:
    """How many tokens are out of the vocabulary, and which: marked in red in the text, and listed."""
    unknown = [position for position, index in enumerate(ids) if index == OOV_INDEX]
    st.metric("Out-of-vocabulary tokens (index 1)", f"{len(unknown):,} of {len(tokens):,}")
    shown = min(len(tokens), SHOWN_TOKENS)
    unknown_shown = [ids[position] == OOV_INDEX for position in range(shown)]
    scores = np.where(unknown_shown, -1.0, 0.0)  # red at full strength, the others uncoloured
    titles = [f"index {index}" + (" (out of vocabulary)" if index == OOV_INDEX else "") for index in ids[:shown]]
    ui.show_html(ui.highlighted_tokens(tokens[:shown], scores, scale=1.0, titles=titles))
    cut = ""
    if shown < len(tokens):
        cut = f" (the first {SHOWN_TOKENS:,} tokens of {len(tokens):,} are shown; the table below has them all)"
    if unknown:
        listed = ", ".join(f"{ui.literal(tokens[position], 40)} (token {position + 1})" for position in unknown[:20])
        more = f" and {len(unknown) - 20:,} more" if len(unknown) > 20 else ""
        st.caption(f"Red: out of vocabulary, read by the model as index 1{cut}: {listed}{more}.")
    else:
        st.caption(f"Every token is in the model's vocabulary{cut}.")


def index_table(*, tokens: list[str], ids: list[int], count_oov: bool, key: str) -> None:
    """Position, token and index; for the model's vocabulary also which tokens are out of vocabulary."""
    table = pd.DataFrame({"position": range(1, len(tokens) + 1), "token": tokens, "index": ids})
    if count_oov:
        table["out of vocabulary"] = [index == OOV_INDEX for index in ids]
        out_of_vocabulary(tokens=tokens, ids=ids)
    st.dataframe(table, hide_index=True, height=300, key=f"{key}_index_table")
    ui.csv_download(table, "indices.csv", key=f"{key}_download_indices")


def model_input(*, encoded, token_count: int, sequence_length: int, vocabulary, key: str) -> None:
    """The fixed-length row of indices the model reads: cut at the start or padded with zeros."""
    st.subheader(f"What the model sees: exactly {sequence_length} numbers")
    if encoded.cut_tokens:
        ui.truncation_notice(sequence_length, encoded.cut_tokens)
    else:
        st.write(
            f"The text has {token_count} tokens, so {sequence_length - token_count} zeros of padding fill the rest; "
            "the model skips them (mask_zero)."
        )
    seen = pd.DataFrame(
        {"slot": range(1, sequence_length + 1), "index": encoded.padded, "token": vocabulary.decode(encoded.padded)}
    )
    seen["token"] = [("(padding)" if index == 0 else token) for index, token in zip(seen["index"], seen["token"])]
    st.dataframe(seen, hide_index=True, height=250, key=f"{key}_seen_table")
    ui.csv_download(seen, "model_input.csv", key=f"{key}_download_seen")


ui.leave_legacy_router()
st.title("Text → tokens → indices")
bundle = ui.bundle_or_stop()
review = ui.text_input("tokens")

cleaned = text_stage.clean_text(review, cleaning_options(key="tokens"))
raw_and_cleaned(review=review, cleaned=cleaned)
tokens = tokens_or_stop(cleaned)
token_tables(tokens=tokens, key="tokens")

order = index_order(key="tokens")
sequence_length = int(bundle.manifest["sequence_length"])
encoded = bundle.vocabulary.encode(tokens, sequence_length, truncating="pre", padding=padding_side(key="tokens"))
ids = numbered(order=order, tokens=tokens, encoded=encoded, vocabulary_size=len(bundle.vocabulary))
index_table(tokens=tokens, ids=ids, count_oov=order.startswith("the model"), key="tokens")
model_input(
    encoded=encoded,
    token_count=len(tokens),
    sequence_length=sequence_length,
    vocabulary=bundle.vocabulary,
    key="tokens",
)
