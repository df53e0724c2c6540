"""Embeddings: word → vector tables, nearest neighbours, PCA plots and analogies."""

import numpy as np
import pandas as pd
import streamlit as st

from rnndemo import plots, ui
from rnndemo.config import LIMITS
from rnndemo.embeddings import UnknownWordError, pca_project, vector_tables
from rnndemo.text import tokenize

SENTIMENT_PRESET = "good great excellent wonderful superb bad awful terrible horrible worst boring brilliant"

ui.leave_legacy_router()
st.title("Words become vectors")
bundle = ui.bundle_or_stop()
glove = ui.load_glove()
spaces = {"GloVe 6B-50d (400,000 words)": glove}
for name, classifier in bundle.classifiers.items():
    spaces[f"{classifier.entry.get('display_name', name)} trained embedding ({len(bundle.vocabulary):,} words)"] = (
        classifier.embedding_space
    )
review = ui.text_input("embeddings", height=100)

st.subheader("The lesson's two tables")
source_label = st.selectbox("Vectors from", list(spaces), **ui.option("embeddings_table_source"))
space = spaces[source_label]
unique_words = list(dict.fromkeys(tokenize(review)))[:200]
if not unique_words:
    st.warning("This text has no words once cleaned. Paste a review with some words in it.")
else:
    table, by_index = vector_tables(unique_words, bundle.vocabulary, space)
    hits = int(table["has vector"].sum())
    st.write(
        f"{hits} of {len(table)} unique words of this text have a vector here ({hits / len(table):.0%}); "
        f"the vocabulary covers {bundle.manifest['glove_coverage']['hits']:,} words with GloVe "
        f"and {bundle.manifest['glove_coverage']['misses']:,} without (those started random)."
    )
    word_tab, index_tab = st.tabs(["word → vector", "index → vector"])
    with word_tab:
        st.dataframe(table.drop(columns=["vocabulary index"]), hide_index=True, height=280, key="embeddings_word_table")
        ui.csv_download(table, "word_vectors.csv", key="embeddings_download_words")
    with index_tab:
        if 1 in set(by_index["vocabulary index"]):
            st.caption(
                "Index 1 stands for every out-of-vocabulary word: the model reads that one row for each of them."
                if space is not glove
                else "Index 1 (out of vocabulary) has no GloVe vector; the model's row 1 started random."
            )
        st.dataframe(by_index, hide_index=True, height=280, key="embeddings_index_table")
        ui.csv_download(by_index, "index_vectors.csv", key="embeddings_download_index")


def _apply_sentiment_preset() -> None:
    """Button callback: the preset's words go into "More words", where the visitor can still edit them."""
    st.session_state["embeddings_extra"] = SENTIMENT_PRESET


@st.fragment
def neighbours_and_map() -> None:
    """Neighbours and the PCA map; a change here reruns only this part of the page."""
    st.subheader("Nearest neighbours, side by side")
    query_column, metric_column, k_column = st.columns([2, 1, 1])
    query = (
        query_column.text_input("Word", "good", **ui.option("embeddings_query"), max_chars=LIMITS.max_word_characters)
        .strip()
        .lower()
    )
    metric = metric_column.radio("Metric", ["cosine", "euclidean"], horizontal=True, **ui.option("embeddings_metric"))
    k = k_column.slider("k", 3, 30, 10, **ui.option("embeddings_k"))
    results = {}
    columns = st.columns(len(spaces))
    for column, (label, space) in zip(columns, spaces.items()):
        with column:
            st.caption(label)
            if not query:
                st.info("Type a word.")
                continue
            try:
                neighbors = space.neighbors(query, k=k, metric=metric)
            except UnknownWordError as error:
                ui.unknown_word_warning(error)
                continue
            results[label] = neighbors
            frame = pd.DataFrame(
                {
                    "word": [n.word for n in neighbors],
                    "similarity" if metric == "cosine" else "distance": [
                        round(n.similarity if metric == "cosine" else n.distance, 4) for n in neighbors
                    ],
                }
            )
            st.dataframe(frame, hide_index=True, key=f"embeddings_neighbors_{label[:12]}")
            ui.csv_download(frame, "neighbors.csv", key=f"embeddings_download_neighbors_{label[:12]}")
    if len(results) >= 2:
        word_sets = {label: {n.word for n in neighbors} for label, neighbors in results.items()}
        labels = list(word_sets)
        overlaps = [
            f"{a.split(' (')[0]} ∩ {b.split(' (')[0]}: {len(word_sets[a] & word_sets[b])} of {k}"
            for i, a in enumerate(labels)
            for b in labels[i + 1 :]
        ]
        st.write("Overlap of the neighbour lists — " + "; ".join(overlaps))

    st.subheader("PCA map")
    map_column, options_column = st.columns([3, 1])
    with options_column:
        map_source = st.selectbox("Space", list(spaces), **ui.option("embeddings_map_source"))
        dimensions = st.radio("Dimensions", [2, 3], horizontal=True, **ui.option("embeddings_dimensions"))
        extra = st.text_input("More words (space-separated)", "", max_chars=1000, **ui.option("embeddings_extra"))
        st.button(
            "Sentiment words preset",
            key="embeddings_preset",
            on_click=_apply_sentiment_preset,
            help="good/great vs bad/awful: GloVe puts good near bad (they share contexts); the trained embedding pulls them apart.",
        )
    with map_column:
        space = spaces[map_source]
        words, groups = [], []
        if query and query in space:
            words.append(query)
            groups.append("query")
            for neighbor in space.neighbors(query, k=k, metric=metric):
                words.append(neighbor.word)
                groups.append("neighbour")
        missing = []
        for word in dict.fromkeys(extra.lower().split()[:100]):
            if word in space and word not in words:
                words.append(word)
                groups.append("your words")
            elif word not in space:
                missing.append(word)
        if missing:
            st.caption("No vector here for: " + ", ".join(ui.literal(word, 40) for word in missing[:20]))
        if len(words) >= 3:
            vectors = np.stack([space.vector(word) for word in words])
            coordinates, ratios = pca_project(vectors, dimensions)
            st.plotly_chart(
                plots.pca_scatter(words, coordinates, groups, ratios, f"PCA of {space.name}"), key="embeddings_pca"
            )
        else:
            st.info("The map needs at least three known words: type a query word or add words.")


@st.fragment
def analogy() -> None:
    st.subheader("Analogy: a − b + c")
    a_column, b_column, c_column, analogy_source = st.columns(4)
    a = (
        a_column.text_input("a", "king", **ui.option("embeddings_a"), max_chars=LIMITS.max_word_characters)
        .strip()
        .lower()
    )
    b = (
        b_column.text_input("− b", "man", **ui.option("embeddings_b"), max_chars=LIMITS.max_word_characters)
        .strip()
        .lower()
    )
    c = (
        c_column.text_input("+ c", "woman", **ui.option("embeddings_c"), max_chars=LIMITS.max_word_characters)
        .strip()
        .lower()
    )
    analogy_space = spaces[analogy_source.selectbox("Space", list(spaces), **ui.option("embeddings_analogy_source"))]
    if a and b and c:
        try:
            answers = analogy_space.analogy(a, b, c, k=5)
            st.write(
                f"{ui.literal(a)} − {ui.literal(b)} + {ui.literal(c)} ≈ "
                + ", ".join(f"{ui.literal(n.word)} ({n.similarity:.3f})" for n in answers)
            )
        except UnknownWordError as error:
            ui.unknown_word_warning(error)


neighbours_and_map()
analogy()
