"""A count-based reference language model: interpolated Kneser–Ney n-grams over vocabulary ids.

The recurrent models read a review and give one verdict; a language model reads it and predicts
every next word. This module is the classical yardstick for that second task. Token ids follow
the vocabulary (0 = padding, 1 = out-of-vocabulary "[UNK]"), plus one extra id at the end,
`vocabulary_size - 1`, the end-of-review token. It also serves as the start context: a review is
read as `[END] * (order - 1) + ids + [END]`, and the predicted tokens are `ids + [END]`.

Smoothing is Chen & Goodman's interpolated Kneser–Ney with one fixed absolute discount `d` at
every order. With `c` the raw counts at the highest order and `N` the continuation counts below it
(how many distinct words precede an n-gram), for a trigram model:

    p3(w | a, b) = max(c(a,b,w) - d, 0) / c(a,b,·)  +  d · N1+(a,b,·) / c(a,b,·) · p2(w | b)
    p2(w | b)    = max(N(·,b,w) - d, 0) / N(·,b,·)  +  d · N1+(b,·)   / N(·,b,·) · p1(w)
    p1(w)        = max(N(·,w) - d, 0)   / N(·,·)    +  d · N1+(·)     / N(·,·)   · 1 / (V - 1)

where N1+(x,·) is the number of distinct words seen after x. A context never seen hands its
whole weight to the next lower order. The uniform distribution at the bottom covers every
predictable id 1..V-1, so none of them ever has probability 0, and padding always has exactly 0.
With `order=1` the single level uses raw counts: an absolutely discounted unigram interpolated
with the uniform distribution (the same discount idea, not add-one).

A fitted model is read-only (its arrays are not writeable), so threads may share it.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnndemo.vocab import PADDING_INDEX

MAX_ORDER = 3  # the contract asks for orders 1-3; trigram keys fit 64 bits for V up to ~2 million
FORMAT_VERSION = 1


@dataclass(frozen=True)
class _Level:
    """The n-grams of one length k, sorted by key = (context code) * V + word."""

    keys: np.ndarray  # (entries,) int64, strictly increasing
    discounted: np.ndarray  # (entries,) float64: max(count - d, 0) / context total
    contexts: np.ndarray  # (rows,) int64 context codes, strictly increasing
    row_starts: np.ndarray  # (rows + 1,) int64 offsets of each context's entries in `keys`
    backoff_weights: np.ndarray  # (rows,) float64: d * distinct words / context total


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _build_level(keys: np.ndarray, counts: np.ndarray, vocabulary_size: int, discount: float) -> _Level:
    """Group sorted n-gram keys by context and precompute what a lookup needs."""
    context_codes = keys // vocabulary_size
    contexts, starts = np.unique(context_codes, return_index=True)
    totals = np.add.reduceat(counts, starts).astype(np.float64)  # c(context, ·)
    distinct_words = np.diff(np.append(starts, len(keys)))  # N1+(context, ·)
    per_entry_total = np.repeat(totals, distinct_words)
    return _Level(
        keys=_read_only(keys),
        discounted=_read_only(np.maximum(counts - discount, 0.0) / per_entry_total),
        contexts=_read_only(contexts),
        row_starts=_read_only(np.append(starts, len(keys)).astype(np.int64)),
        backoff_weights=_read_only(discount * distinct_words / totals),
    )


def _continuation_counts(keys: np.ndarray, vocabulary_size: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """From distinct (length+1)-grams: each length-gram and how many distinct words preceded it."""
    return np.unique(keys % vocabulary_size**length, return_counts=True)


def _validate_reviews(reviews: list[list[int]], vocabulary_size: int) -> list[np.ndarray]:
    if not isinstance(reviews, list) or not all(isinstance(review, list) for review in reviews):
        raise ValueError("reviews must be a list of lists of token ids")
    arrays = [np.asarray(review, dtype=np.int64) if len(review) == 0 else np.asarray(review) for review in reviews]
    for array in arrays:
        if (
            array.ndim != 1
            or array.dtype.kind not in "iu"
            or (array.size and (array.min() < 1 or array.max() > vocabulary_size - 2))
        ):
            raise ValueError(
                f"review token ids must be integers in 1..{vocabulary_size - 2} "
                f"(0 is padding, {vocabulary_size - 1} is the end token)"
            )
    return arrays


def _windows(arrays: list[np.ndarray], order: int, vocabulary_size: int) -> np.ndarray:
    """(order, predicted tokens) ids: row order-1 is each predicted token, the rows above its context."""
    end = vocabulary_size - 1
    lengths = np.array([len(array) for array in arrays], dtype=np.int64)
    padded_lengths = lengths + order  # (order - 1) start tokens + ids + one end token
    review_starts = np.concatenate([[0], np.cumsum(padded_lengths)[:-1]]).astype(np.int64)
    stream = np.full(int(padded_lengths.sum()), end, dtype=np.int64)
    if lengths.sum():
        first_id = np.repeat(review_starts + order - 1, lengths)
        within = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        stream[first_id + within] = np.concatenate(arrays)
    predicted_lengths = lengths + 1
    within = np.arange(int(predicted_lengths.sum())) - np.repeat(
        np.cumsum(predicted_lengths) - predicted_lengths, predicted_lengths
    )
    predicted = np.repeat(review_starts + order - 1, predicted_lengths) + within
    return np.stack([stream[predicted - (order - 1) + offset] for offset in range(order)])


def _encode(rows: np.ndarray, vocabulary_size: int) -> np.ndarray:
    """Base-V code of each column of `rows` (tokens, positions), first row most significant."""
    codes = np.zeros(rows.shape[1], dtype=np.int64)
    for row in rows:
        codes = codes * vocabulary_size + row
    return codes


class NgramModel:
    """An interpolated Kneser–Ney language model over ids 0..V-1 (see the module docstring)."""

    def __init__(self, vocabulary_size: int, order: int, discount: float, keys: np.ndarray, counts: np.ndarray):
        """Build from the highest-order n-gram keys and raw counts; use `fit` or `load` instead."""
        _check_settings(vocabulary_size, order, discount)
        self.vocabulary_size = vocabulary_size
        self.order = order
        self.discount = discount
        self._top_keys = _read_only(np.asarray(keys, dtype=np.int64))
        self._top_counts = _read_only(np.asarray(counts, dtype=np.int64))
        # Level k (k = 1..order) holds k-grams: raw counts at the top, continuation counts below.
        levels = [_build_level(self._top_keys, self._top_counts.astype(np.float64), vocabulary_size, discount)]
        keys = self._top_keys
        for length in range(order - 1, 0, -1):
            keys, counts = _continuation_counts(keys, vocabulary_size, length)
            levels.insert(0, _build_level(keys, counts.astype(np.float64), vocabulary_size, discount))
        self._levels = tuple(levels)
        self._unigram = _read_only(self._unigram_distribution(levels[0]))

    def _unigram_distribution(self, level: _Level) -> np.ndarray:
        """p1 over all ids: the lowest level mixed with the uniform distribution over ids 1..V-1."""
        uniform = np.full(self.vocabulary_size, 1.0 / (self.vocabulary_size - 1))
        uniform[PADDING_INDEX] = 0.0
        probabilities = level.backoff_weights[0] * uniform
        probabilities[level.keys] += level.discounted
        return probabilities

    @classmethod
    def fit(cls, reviews: list[list[int]], vocabulary_size: int, order: int = 3, discount: float = 0.75) -> NgramModel:
        """Count the n-grams of `reviews` (ids in 1..V-2) and return the smoothed model."""
        _check_settings(vocabulary_size, order, discount)
        arrays = _validate_reviews(reviews, vocabulary_size)
        if not arrays:
            raise ValueError("fitting needs at least one review")
        keys, counts = np.unique(_encode(_windows(arrays, order, vocabulary_size), vocabulary_size), return_counts=True)
        return cls(vocabulary_size, order, discount, keys, counts)

    def _padded_context(self, context: list[int]) -> list[int]:
        if len(context) and np.asarray(context).dtype.kind not in "iu":
            raise ValueError("context ids must be integers")
        ids = np.asarray(list(context)[-(self.order - 1) :] if self.order > 1 else [], dtype=np.int64)
        if ids.size and (ids.min() < 1 or ids.max() > self.vocabulary_size - 1):
            raise ValueError(f"context ids must be in 1..{self.vocabulary_size - 1} (0 is padding)")
        end = self.vocabulary_size - 1
        return [end] * (self.order - 1 - len(ids)) + [int(token) for token in ids]

    def distribution(self, context: list[int]) -> np.ndarray:
        """p(next | last order-1 ids of `context`) over all V ids; a short context is left-padded with END."""
        ids = self._padded_context(context)
        probabilities = self._unigram.copy()
        for length, level in enumerate(self._levels[1:], start=2):
            code = 0
            for token in ids[len(ids) - (length - 1) :]:
                code = code * self.vocabulary_size + token
            row = int(np.searchsorted(level.contexts, code))
            if row == len(level.contexts) or level.contexts[row] != code:
                continue  # unseen context: the lower order keeps all the weight
            start, stop = level.row_starts[row], level.row_starts[row + 1]
            probabilities = level.backoff_weights[row] * probabilities
            probabilities[level.keys[start:stop] % self.vocabulary_size] += level.discounted[start:stop]
        return probabilities

    def _probabilities(self, windows: np.ndarray) -> np.ndarray:
        """p(predicted token | its context) for every column of `windows` (order, positions), vectorised."""
        probabilities = self._unigram[windows[-1]]
        for length, level in enumerate(self._levels[1:], start=2):
            keys = _encode(windows[self.order - length :], self.vocabulary_size)
            rows = np.searchsorted(level.contexts, keys // self.vocabulary_size)
            seen = rows < len(level.contexts)
            seen[seen] = level.contexts[rows[seen]] == keys[seen] // self.vocabulary_size
            entries = np.searchsorted(level.keys, keys)
            found = entries < len(level.keys)
            found[found] = level.keys[entries[found]] == keys[found]
            discounted = np.where(found, level.discounted[np.minimum(entries, len(level.keys) - 1)], 0.0)
            weights = level.backoff_weights[np.minimum(rows, len(level.contexts) - 1)]
            # Same operations, in the same order, as `distribution`, so both agree to the last bit.
            probabilities = np.where(seen, weights * probabilities + discounted, probabilities)
        return probabilities

    def surprisal(self, review_ids: list[int]) -> np.ndarray:
        """-ln p of each token of `review_ids + [END]`, each given everything before it."""
        windows = _windows(_validate_reviews([review_ids], self.vocabulary_size), self.order, self.vocabulary_size)
        return -np.log(self._probabilities(windows))

    def perplexity(self, reviews: list[list[int]]) -> tuple[float, int]:
        """exp(mean surprisal) over every predicted token of `reviews`, and how many tokens that is."""
        arrays = _validate_reviews(reviews, self.vocabulary_size)
        if not arrays:
            raise ValueError("perplexity needs at least one review")
        surprisals = -np.log(self._probabilities(_windows(arrays, self.order, self.vocabulary_size)))
        return float(np.exp(surprisals.mean())), int(surprisals.size)

    def save(self, path: str | Path) -> None:
        """Write the highest-order counts to a compressed .npz; lower orders are recomputed on load."""
        columns = np.stack(
            [
                (self._top_keys // self.vocabulary_size**power) % self.vocabulary_size
                for power in range(self.order - 1, -1, -1)
            ]
        )
        token_type = np.uint16 if self.vocabulary_size <= 2**16 else np.uint32
        # Each token column as a difference from the entry before: sorted keys make these mostly small.
        differences = np.diff(columns, axis=1, prepend=0).astype(token_type)
        with open(path, "wb") as handle:
            np.savez_compressed(
                handle,
                format_version=np.int64(FORMAT_VERSION),
                vocabulary_size=np.int64(self.vocabulary_size),
                order=np.int64(self.order),
                discount=np.float64(self.discount),
                token_differences=differences,
                counts=self._top_counts.astype(np.uint32),
            )

    @classmethod
    def load(cls, path: str | Path) -> NgramModel:
        """Read a model written by `save`; a malformed file raises ValueError (nothing is unpickled)."""
        try:
            archive = np.load(path, allow_pickle=False)
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise ValueError("it holds a single array, not an .npz archive")
            with archive:
                fields = {name: archive[name] for name in archive.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
            raise ValueError(f"{path} is not a readable n-gram model file ({error})") from None
        vocabulary_size, order, discount = _loaded_settings(fields, path)
        differences, counts = fields.get("token_differences"), fields.get("counts")
        if (
            differences is None
            or counts is None
            or differences.ndim != 2
            or differences.shape[0] != order
            or counts.shape != (differences.shape[1],)
            or differences.dtype.kind != "u"
            or counts.dtype.kind != "u"
        ):
            raise ValueError(f"{path}: token_differences must be ({order}, n) and counts (n,), both unsigned")
        modulus = 2 ** (8 * differences.dtype.itemsize)
        columns = np.cumsum(differences.astype(np.int64), axis=1) % modulus  # undo the wrapped differences
        keys = _encode(columns, vocabulary_size)
        if columns.size and (columns.min() < 1 or columns.max() > vocabulary_size - 1):
            raise ValueError(f"{path}: token ids must be in 1..{vocabulary_size - 1}")
        if np.any(np.diff(keys) <= 0) or (counts.size and counts.min() < 1) or counts.size == 0:
            raise ValueError(f"{path}: n-grams must be non-empty, distinct, sorted, with positive counts")
        return cls(vocabulary_size, order, discount, keys, counts.astype(np.int64))


def _check_settings(vocabulary_size: int, order: int, discount: float) -> None:
    if not isinstance(vocabulary_size, (int, np.integer)) or vocabulary_size < 3:
        raise ValueError("vocabulary_size must be an integer of at least 3 (padding, [UNK] and the end token)")
    if not isinstance(order, (int, np.integer)) or not 1 <= order <= MAX_ORDER:
        raise ValueError(f"order must be an integer from 1 to {MAX_ORDER}")
    if vocabulary_size**order >= 2**63:
        raise ValueError(
            f"vocabulary_size {vocabulary_size} is too large for order {order}: keys would overflow 64 bits"
        )
    if not 0.0 < float(discount) <= 1.0:
        raise ValueError("discount must be in (0, 1]: 0 would give unseen words probability 0")


def _loaded_settings(fields: dict[str, np.ndarray], path: str | Path) -> tuple[int, int, float]:
    """The scalar settings of a loaded file, checked."""
    names = ("format_version", "vocabulary_size", "order", "discount")
    if any(name not in fields or fields[name].shape != () for name in names):
        raise ValueError(f"{path}: needs scalar fields {', '.join(names)}")
    if int(fields["format_version"]) != FORMAT_VERSION:
        raise ValueError(f"{path}: format version {int(fields['format_version'])} is not {FORMAT_VERSION}")
    vocabulary_size, order, discount = int(fields["vocabulary_size"]), int(fields["order"]), float(fields["discount"])
    try:
        _check_settings(vocabulary_size, order, discount)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    return vocabulary_size, order, discount


class NgramNextWord:
    """An n-gram (and its lower orders) behind the neural language models' serving interface.

    `next_distribution(ids)` and `surprisal(ids)` read a review as `[END] + ids`, exactly as
    `language_model.LanguageModel` does, so pages and commands treat all three models alike.
    """

    def __init__(self, name: str, by_order: dict[int, NgramModel]):
        self.name = name
        self.by_order = dict(by_order)  # order -> model; the highest order serves
        self.model = self.by_order[max(self.by_order)]
        self.vocabulary_size = self.model.vocabulary_size
        self.end_index = self.vocabulary_size - 1

    def next_distribution(self, ids: list[int]) -> np.ndarray:
        """p(next | [END] + ids) over all V words (index 0 is exactly 0)."""
        return self.model.distribution([self.end_index, *ids])

    def surprisal(self, ids: list[int], include_end: bool = False) -> np.ndarray:
        """−ln p of each token of ids (and of END after them if `include_end`), in nats."""
        values = self.model.surprisal(list(ids))
        return values if include_end else values[:-1]

    def perplexity(self, reviews: list[list[int]]) -> tuple[float, int]:
        return self.model.perplexity(reviews)

    def context_limited_perplexity(self, reviews: list[list[int]], context: int | None) -> tuple[float, int]:
        """An n-gram of order n sees n − 1 tokens: with `context` k it is the model of order min(n, k + 1)."""
        order = max(self.by_order) if context is None else min(max(self.by_order), context + 1)
        return self.by_order[order].perplexity(reviews)
