"""Embeddings: word → vector tables, nearest neighbours, PCA plots and analogies."""

import numpy as np
import pandas as pd
import streamlit as st

from rnndemo import embedding_plots, ui
from rnndemo.config import LIMITS
from rnndemo.embeddings import UnknownWordError, analogy_formula, pca_project, vector_tables
from rnndemo.text import tokenize

SENTIMENT_PRESET = "good great excellent wonderful superb bad awful terrible horrible worst boring brilliant"
TABLE_WORDS = 200  # unique words of the review in the lesson's tables
MAP_EXTRA_WORDS = 100  # of "More words" on the PCA map


def embedding_spaces(*, bundle, glove) -> dict:
    """Every vector space on offer, by its label: GloVe, then each model's trained embedding."""
    spaces = {"GloVe 6B-50d (400,000 words)": glove}
    for name, classifier in bundle.classifiers.items():
        label = f"{classifier.entry.get('display_name', name)} trained embedding ({len(bundle.vocabulary):,} words)"
        spaces[label] = classifier.embedding_space
    return spaces


def table_space(*, spaces: dict, key: str):
    """The space whose vectors fill the lesson's two tables."""
    st.subheader("The lesson's two tables")
    return spaces[st.selectbox("Vectors from", list(spaces), **ui.option(f"{key}_table_source"))]


def lesson_tables(*, words: list[str], space, is_glove: bool, bundle, key: str) -> None:
    """The review's words as word → vector and index → vector tables, with GloVe's coverage."""
    if not words:
        st.warning("This text has no words once cleaned. Paste a review with some words in it.")
        return
    table, by_index = vector_tables(words, bundle.vocabulary, space)
    hits = int(table["has vector"].sum())
    coverage = bundle.manifest["glove_coverage"]
    st.write(
        f"{hits} of {len(table)} unique words of this text have a vector here ({hits / len(table):.0%}); "
        f"the vocabulary covers {coverage['hits']:,} words with GloVe "
        f"and {coverage['misses']:,} without (those started random)."
    )
    word_tab, index_tab = st.tabs(["word → vector", "index → vector"])
    with word_tab:
        ui.dataframe(table.drop(columns=["vocabulary index"]), hide_index=True, height=280, key=f"{key}_word_table")
        ui.csv_download(table, "word_vectors.csv", key=f"{key}_download_words")
    with index_tab:
        if 1 in set(by_index["vocabulary index"]):
            st.caption(
                "Index 1 stands for every out-of-vocabulary word: the model reads that one row for each of them."
                if not is_glove
                else "Index 1 (out of vocabulary) has no GloVe vector; the model's row 1 started random."
            )
        ui.dataframe(by_index, hide_index=True, height=280, key=f"{key}_index_table")
        ui.csv_download(by_index, "index_vectors.csv", key=f"{key}_download_index")


def word_input(column, label: str, default: str, *, key: str) -> str:
    """A one-word box in `column`, read as the vocabularies spell words (trimmed, lowercase)."""
    return column.text_input(label, default, **ui.option(key), max_chars=LIMITS.max_word_characters).strip().lower()


def neighbour_options(*, key: str) -> tuple[str, str, int]:
    """The query word, the metric and k."""
    st.subheader("Nearest neighbours, side by side")
    query_column, metric_column, k_column = st.columns([2, 1, 1])
    query = word_input(query_column, "Word", "good", key=f"{key}_query")
    metric = metric_column.radio("Metric", ["cosine", "euclidean"], horizontal=True, **ui.option(f"{key}_metric"))
    k = k_column.slider("k", 3, 30, 10, **ui.option(f"{key}_k"))
    return query, metric, k


def neighbour_table(*, label: str, space, query: str, metric: str, k: int, key: str) -> list | None:
    """One space's k nearest neighbours of the query as a table (None, with a message, if it has none)."""
    st.caption(label)
    if not query:
        st.info("Type a word.")
        return None
    try:
        neighbors = space.neighbors(query, k=k, metric=metric)
    except UnknownWordError as error:
        ui.unknown_word_warning(error)
        return None
    score = "similarity" if metric == "cosine" else "distance"
    frame = pd.DataFrame({"word": [n.word for n in neighbors], score: [round(getattr(n, score), 4) for n in neighbors]})
    ui.dataframe(frame, hide_index=True, key=f"{key}_neighbors_{label[:12]}")
    ui.csv_download(frame, "neighbors.csv", key=f"{key}_download_neighbors_{label[:12]}")
    return neighbors


def neighbour_overlap(*, results: dict, k: int) -> None:
    """How many neighbours each pair of spaces shares."""
    word_sets = {label: {n.word for n in neighbors} for label, neighbors in results.items()}
    labels = list(word_sets)
    overlaps = [
        f"{a.split(' (')[0]} ∩ {b.split(' (')[0]}: {len(word_sets[a] & word_sets[b])} of {k}"
        for i, a in enumerate(labels)
        for b in labels[i + 1 :]
    ]
    st.write("Overlap of the neighbour lists — " + "; ".join(overlaps))


def _apply_sentiment_preset(extra_key: str) -> None:
    """Button callback: the preset's words go into "More words", where the visitor can still edit them."""
    st.session_state[extra_key] = SENTIMENT_PRESET


def short_space_name(label: str) -> str:
    """ "GloVe 6B-50d (400,000 words)" → "GloVe 6B-50d"; "LSTM trained embedding (20,000 words)" → "LSTM · trained".
    A short name maps to itself (AppTest sets a select by the text it shows)."""
    return label.split(" (")[0].replace(" trained embedding", " · trained")


def map_options(*, spaces: dict, key: str) -> tuple[str, int, str]:
    """The map's space, its dimensions and the visitor's extra words (with a preset)."""
    map_source = st.selectbox(
        "Space",
        list(spaces),
        **ui.option(f"{key}_map_source"),
        format_func=short_space_name,  # the column is narrow; the map's title names the space in full
    )
    dimensions = st.radio("Dimensions", [2, 3], horizontal=True, **ui.option(f"{key}_dimensions"))
    extra = st.text_input("More words (space-separated)", "", max_chars=1000, **ui.option(f"{key}_extra"))
    st.button(
        "Sentiment words preset",
        key=f"{key}_preset",
        on_click=_apply_sentiment_preset,
        args=(f"{key}_extra",),
        help="good/great vs bad/awful: GloVe puts good near bad (they share contexts); "
        "the trained embedding pulls them apart.",
    )
    return map_source, dimensions, extra


def map_words(*, space, query: str, metric: str, k: int, extra: str) -> tuple[list[str], list[str], list[str]]:
    """The words to place (the query, its neighbours, the extra words), their groups, and words without a vector."""
    words, groups = [], []
    if query and query in space:
        words.append(query)
        groups.append("query")
        for neighbor in space.neighbors(query, k=k, metric=metric):
            words.append(neighbor.word)
            groups.append("neighbour")
    missing = []
    for word in dict.fromkeys(extra.lower().split()[:MAP_EXTRA_WORDS]):
        if word in space and word not in words:
            words.append(word)
            groups.append("your words")
        elif word not in space:
            missing.append(word)
    return words, groups, missing


def pca_map(*, space, words: list[str], groups: list[str], missing: list[str], dimensions: int, key: str) -> None:
    """The words projected on their first principal components."""
    if missing:
        st.caption("No vector here for: " + ", ".join(ui.literal(word, 40) for word in missing[:20]))
    if len(words) < 3:
        st.info("The map needs at least three known words: type a query word or add words.")
        return
    vectors = np.stack([space.vector(word) for word in words])  # (words, embedding_dim)
    coordinates, ratios = pca_project(vectors, dimensions)
    ui.plotly_chart(
        embedding_plots.pca_scatter(words, coordinates, groups, ratios, f"PCA of {space.name}"), key=f"{key}_pca"
    )


def neighbour_lists(*, spaces: dict, key: str) -> tuple[str, str, int]:
    """The query's neighbours in every space, side by side, and how much the lists overlap."""
    query, metric, k = neighbour_options(key=key)
    results = {}
    for column, (label, space) in zip(st.columns(len(spaces)), spaces.items()):
        with column:
            neighbors = neighbour_table(label=label, space=space, query=query, metric=metric, k=k, key=key)
        if neighbors is not None:
            results[label] = neighbors
    if len(results) >= 2:
        neighbour_overlap(results=results, k=k)
    return query, metric, k


def pca_section(*, spaces: dict, query: str, metric: str, k: int, key: str) -> None:
    """The query, its neighbours and the visitor's words on a PCA map of one space."""
    st.subheader("PCA map")
    map_column, options_column = st.columns([3, 1])
    with options_column:
        map_source, dimensions, extra = map_options(spaces=spaces, key=key)
    with map_column:
        space = spaces[map_source]
        words, groups, missing = map_words(space=space, query=query, metric=metric, k=k, extra=extra)
        pca_map(space=space, words=words, groups=groups, missing=missing, dimensions=dimensions, key=key)


@st.fragment
def neighbours_and_map(*, spaces: dict, key: str) -> None:
    """Neighbours and the PCA map; a change here reruns only this part of the page."""
    query, metric, k = neighbour_lists(spaces=spaces, key=key)
    pca_section(spaces=spaces, query=query, metric=metric, k=k, key=key)


@st.fragment
def analogy(*, spaces: dict, key: str) -> None:
    """a − b + c in a chosen space; a change here reruns only this part of the page."""
    st.subheader("Analogy: a − b + c")
    a_column, b_column, c_column, source_column = st.columns(4)
    a = word_input(a_column, "a", "king", key=f"{key}_a")
    b = word_input(b_column, "− b", "man", key=f"{key}_b")
    c = word_input(c_column, "+ c", "woman", key=f"{key}_c")
    space = spaces[
        source_column.selectbox(
            "Space", list(spaces), **ui.option(f"{key}_analogy_source"), format_func=short_space_name
        )
    ]
    if not (a and b and c):
        return
    try:
        answers = space.analogy(a, b, c, k=5)
    except UnknownWordError as error:
        ui.unknown_word_warning(error)
        return
    if not answers:
        st.info("This space has no other word to answer with.")
        return
    best, *others = answers
    # One code span for the whole formula: its spaces show exactly as written, and no word is read as Markdown.
    st.markdown(f"{ui.literal(analogy_formula(a, b, c, best.word))} (cosine similarity {best.similarity:.3f})")
    if others:
        st.caption("Next nearest: " + ", ".join(f"{ui.literal(n.word)} ({n.similarity:.3f})" for n in others))


ui.leave_legacy_router()
st.title("Words become vectors")
bundle = ui.bundle_or_stop()
glove = ui.load_glove()
spaces = embedding_spaces(bundle=bundle, glove=glove)
review = ui.text_input("embeddings", height=100)

space = table_space(spaces=spaces, key="embeddings")
words = list(dict.fromkeys(tokenize(review)))[:TABLE_WORDS]
lesson_tables(words=words, space=space, is_glove=space is glove, bundle=bundle, key="embeddings")
neighbours_and_map(spaces=spaces, key="embeddings")
analogy(spaces=spaces, key="embeddings")
