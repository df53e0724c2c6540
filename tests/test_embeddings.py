"""GloVe loading, neighbours against brute force, analogy, spellings and PCA against scikit-learn."""

import numpy as np
import pytest

from rnndemo.embeddings import EmbeddingSpace, UnknownWordError, glove_matrix_for, pca_project


def tiny_space():
    words = ["", "[UNK]", "good", "great", "bad", "awful", "film"]
    matrix = np.array([[0, 0], [0.1, 0.1], [1, 0.1], [0.9, 0.2], [-1, 0.1], [-0.8, -0.1], [0.1, 1]], dtype=np.float32)
    return EmbeddingSpace("tiny", words, matrix, skip_rows=2)


def test_real_glove_shape_and_first_vector(glove):
    assert len(glove) == 400_000 and glove.dimension == 50
    np.testing.assert_allclose(glove.vector("the")[:3], [0.418, 0.24968, -0.41242], rtol=0, atol=1e-6)
    assert isinstance(glove.matrix, np.memmap)


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
    assert glove.analogy("king", "man", "woman", k=1)[0].word == "queen"


def test_unknown_word_suggests_close_spellings(glove):
    with pytest.raises(UnknownWordError) as raised:
        glove.vector("moviee")
    assert "movie" in raised.value.suggestions
    assert "movie" in str(raised.value)


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
