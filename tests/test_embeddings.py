"""GloVe loading, neighbours against brute force, analogy, spellings and PCA against scikit-learn."""

import numpy as np
import pytest

from rnndemo.embeddings import (
    EmbeddingSpace,
    UnknownWordError,
    analogy_formula,
    edit_distance,
    glove_matrix_for,
    load_glove,
    pca_project,
)
from rnndemo.vocab import Vocabulary

from .conftest import MODELS_DIR


def tiny_space():
    words = ["", "[UNK]", "good", "great", "bad", "awful", "film"]
    matrix = np.array([[0, 0], [0.1, 0.1], [1, 0.1], [0.9, 0.2], [-1, 0.1], [-0.8, -0.1], [0.1, 1]], dtype=np.float32)
    return EmbeddingSpace("tiny", words, matrix, skip_rows=2)


@pytest.mark.slow
def test_real_glove_shape_and_first_vector(glove):
    assert len(glove) == 400_000 and glove.dimension == 50
    np.testing.assert_allclose(glove.vector("the")[:3], [0.418, 0.24968, -0.41242], rtol=0, atol=1e-6)
    assert isinstance(glove.matrix, np.memmap)


@pytest.mark.slow
@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_glove_neighbors_match_brute_force(glove, metric):
    query_word = "movie"
    matrix = np.asarray(glove.matrix, dtype=np.float64)
    query = matrix[glove.index[query_word]]
    if metric == "cosine":
        scores = matrix @ query / (np.linalg.norm(matrix, axis=1) * np.linalg.norm(query) + 1e-30)
    else:
        scores = -np.linalg.norm(matrix - query, axis=1)
    scores[glove.index[query_word]] = -np.inf
    expected = np.argsort(-scores, kind="stable")[:10]
    ours = glove.neighbors(query_word, k=10, metric=metric)
    assert [n.word for n in ours] == [glove.words[row] for row in expected]
    np.testing.assert_allclose([n.similarity for n in ours], scores[expected], atol=1e-4)


def test_neighbors_skip_padding_rows_and_the_word_itself():
    space = tiny_space()
    neighbors = space.neighbors("good", k=10)
    assert [n.word for n in neighbors][:1] == ["great"]
    assert {"good", "", "[UNK]"}.isdisjoint(n.word for n in neighbors)
    assert len(neighbors) == 4


def test_analogy_king_queen(glove):
    answer = glove.analogy("king", "man", "woman", k=1)[0].word
    assert analogy_formula("king", "man", "woman", answer) == "king \u2212 man + woman \u2248 queen"


def test_unknown_word_suggests_close_spellings(glove):
    with pytest.raises(UnknownWordError) as raised:
        glove.vector("moviee")
    assert "movie" in raised.value.suggestions
    assert "movie" in str(raised.value)


@pytest.mark.parametrize(
    ("first", "second", "distance"),
    [
        ("movie", "movie", 0),
        ("moive", "movie", 1),  # two neighbouring letters swapped: one edit
        ("moive", "move", 1),
        ("film", "flim", 1),
        ("kitten", "sitting", 3),
        ("ca", "abc", 3),  # optimal string alignment: no edits inside a swapped pair
        ("", "abc", 3),
    ],
)
def test_edit_distance(first, second, distance):
    assert edit_distance(first, second, limit=5) == distance == edit_distance(second, first, limit=5)


def test_edit_distance_stops_above_the_limit():
    assert edit_distance("awful", "wonderful", limit=2) == 3
    assert edit_distance("abcdef", "badcfe", limit=2) == 3  # three swaps


def test_close_spellings_rank_by_edits_then_by_frequency():
    """Rows are in frequency order: fewer edits win, and among equal edits the more frequent word."""
    words = ["", "[UNK]", "the", "more", "move", "movies", "mode", "movie", "motive", "mover", "moist", "monkey"]
    space = EmbeddingSpace("tiny", words, np.zeros((len(words), 2), dtype=np.float32), skip_rows=2)
    # 1 edit: move, movie, motive (frequency order); 2 edits: more, movies, mode, mover, moist. None for monkey.
    assert space.close_spellings("moive", count=10) == [
        "move",
        "movie",
        "motive",
        "more",
        "movies",
        "mode",
        "mover",
        "moist",
    ]
    assert space.close_spellings("moive", count=2) == ["move", "movie"]
    assert space.close_spellings(" MOVEI ") == ["move", "movie", "mover", "more", "movies"]  # trimmed, lowercase
    assert space.close_spellings("mpve") == ["move"]  # 4 letters: 1 edit at most (mode would need 2)
    # A frequency list of its own (e.g. the reviews') reorders equal distances; unlisted words follow.
    reviews = EmbeddingSpace(
        "tiny", words, np.zeros((len(words), 2), dtype=np.float32), skip_rows=2, frequency_words=["movie", "zzz"]
    )
    assert reviews.close_spellings("moive", count=3) == ["movie", "move", "motive"]


@pytest.mark.slow
def test_moive_suggests_movie_first_in_every_space_the_app_offers(glove):
    """In the reviews' vocabulary (the trained embeddings' rows) and in GloVe as the app loads it."""
    vocabulary = Vocabulary.load(MODELS_DIR / "vocabulary.json")
    trained = EmbeddingSpace("reviews", vocabulary.words, np.zeros((len(vocabulary), 1), dtype=np.float32), skip_rows=2)
    ranked_glove = load_glove(frequency_words=vocabulary.words)
    for space in (trained, ranked_glove):
        with pytest.raises(UnknownWordError) as raised:
            space.vector("moive")
        assert raised.value.suggestions[0] == "movie", space.name
        assert "Did you mean: movie, " in str(raised.value)


def test_coverage_and_glove_matrix_for():
    space = tiny_space()
    matrix, hits, misses = glove_matrix_for(["", "[UNK]", "good", "zebra"], space)
    assert (hits, misses) == (1, 1)
    np.testing.assert_array_equal(matrix[2], space.matrix[2])
    assert not matrix[0].any()
    assert space.coverage(["good", "nope", "film"]) == (2, 1)


def test_pca_matches_sklearn():
    from sklearn.decomposition import PCA

    vectors = np.random.default_rng(0).normal(size=(20, 50))
    coordinates, ratios = pca_project(vectors, 3)
    reference = PCA(n_components=3, random_state=0).fit(vectors)
    np.testing.assert_allclose(coordinates, reference.transform(vectors), atol=1e-9)
    np.testing.assert_allclose(ratios, reference.explained_variance_ratio_)
