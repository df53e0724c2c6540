"""The sanity reference: TF-IDF (words and bigrams) + logistic regression, with scikit-learn.

Saved as plain JSON (terms, idf, coefficients), never pickled, and rebuilt into
real scikit-learn objects on load, so loading runs no stored code.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from rnndemo.text import tokenize


@dataclass(frozen=True)
class BaselineConfig:
    """The baseline's hyper-parameters; the manifest records exactly these."""

    ngram_range: tuple[int, int] = (1, 2)  # words and word pairs
    max_features: int = 30_000  # most frequent terms kept
    min_df: int = 2  # a term must appear in two training reviews
    sublinear_tf: bool = True  # 1 + log(tf): repeated words count less
    C: float = 4.0  # inverse L2 strength of the logistic regression (sklearn's name)

    def to_json(self) -> dict:
        return {key: (list(value) if isinstance(value, tuple) else value) for key, value in asdict(self).items()}


BASELINE = BaselineConfig()


class Baseline:
    """A fitted TfidfVectorizer + LogisticRegression pair."""

    def __init__(self, vectorizer, classifier):
        """A fitted pair (fit and load build it): the shared, loaded baseline is never changed afterwards."""
        self.vectorizer = vectorizer
        self.classifier = classifier
        # get_feature_names_out() rebuilds all 30,000 names on every call (3.5-6.5 ms, a fifth of the compare
        # page's CPU under a class); the fitted vocabulary never changes, so they are built once here.
        self.terms = vectorizer.get_feature_names_out()

    @classmethod
    def fit(cls, texts: list[str], labels: np.ndarray, config: BaselineConfig = BASELINE, seed: int = 0) -> Baseline:
        from sklearn.linear_model import LogisticRegression

        vectorizer = _vectorizer(config, max_features=config.max_features)
        features = vectorizer.fit_transform(texts)
        classifier = LogisticRegression(C=config.C, max_iter=1000, random_state=seed)
        classifier.fit(features, np.asarray(labels))
        return cls(vectorizer, classifier)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Probability of 'positive' for each text."""
        return self.classifier.predict_proba(self.vectorizer.transform(texts))[:, 1]

    def contributions(self, text: str, top: int = 8) -> list[tuple[str, float]]:
        """The terms of `text` that pushed the logit most, with their signed contribution."""
        row = self.vectorizer.transform([text])
        coefficients = self.classifier.coef_[0]
        terms = self.terms
        pairs = [
            (str(terms[column]), float(value * coefficients[column])) for column, value in zip(row.indices, row.data)
        ]
        return sorted(pairs, key=lambda pair: -abs(pair[1]))[:top]

    def save(self, path: Path) -> None:
        terms = self.terms.tolist()
        payload = {
            "terms": terms,
            "idf": self.vectorizer.idf_.round(7).tolist(),
            "coefficients": self.classifier.coef_[0].round(7).tolist(),
            "intercept": float(self.classifier.intercept_[0]),
            "max_features": len(terms),
        }
        Path(path).write_text(json.dumps(payload), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Baseline:
        from sklearn.linear_model import LogisticRegression

        payload = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(payload, dict):
            raise ValueError("a baseline file is a JSON object")
        terms, idf, coefficients = payload["terms"], payload["idf"], payload["coefficients"]
        if not (
            isinstance(terms, list)
            and all(isinstance(term, str) for term in terms)
            and len(terms) == len(idf) == len(coefficients) > 0
        ):
            raise ValueError("terms, idf and coefficients must be lists of one length")
        idf, coefficients = _finite(idf, "idf"), _finite(coefficients, "coefficients")
        vectorizer = _vectorizer(BASELINE, vocabulary=terms)
        vectorizer.idf_ = idf
        classifier = LogisticRegression()
        classifier.coef_ = coefficients[np.newaxis, :]
        classifier.intercept_ = _finite([payload["intercept"]], "intercept")
        classifier.classes_ = np.asarray([0, 1])
        return cls(vectorizer, classifier)


def _finite(values, name: str) -> np.ndarray:
    """`values` as a flat float array; ValueError when one is not a finite number (a NaN weight turns every
    prediction into NaN, which the pages cannot draw)."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or not np.isfinite(array).all():
        raise ValueError(f"the baseline's {name} must be a list of finite numbers")
    return array


def _vectorizer(config: BaselineConfig, max_features: int | None = None, vocabulary: list[str] | None = None):
    from sklearn.feature_extraction.text import TfidfVectorizer

    # The same cleaning and tokens as the recurrent models see.
    return TfidfVectorizer(
        tokenizer=tokenize,
        lowercase=False,
        token_pattern=None,
        ngram_range=config.ngram_range,
        min_df=config.min_df,
        sublinear_tf=config.sublinear_tf,
        max_features=max_features,
        vocabulary=vocabulary,
        dtype=np.float64,
    )
