"""Held-out evaluation, recomputed from the model files (never copied from the manifest)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rnndemo import data
from rnndemo.text import tokenize
from rnndemo.training import _accuracy, heldout_metrics


def bundle_probabilities(bundle, texts: list[str], progress=None) -> dict[str, np.ndarray]:
    """Probability of 'positive' from every loaded model for many texts (NaN for a text with no words)."""
    results = {}
    names = bundle.names()
    for position, name in enumerate(names):
        if name == "baseline":
            joined = [" ".join(tokenize(text)) for text in texts]
            results[name] = np.asarray(bundle.baseline.predict_proba(joined), dtype=np.float64)
            results[name][[not text for text in joined]] = np.nan  # no words: no prediction (as for the recurrent models)
        else:
            results[name] = bundle.classifiers[name].predict_texts(texts)
        if progress is not None:
            progress((position + 1) / len(names), name)
    return results


def evaluate_bundle(bundle, limit: int | None = None) -> dict[str, dict]:
    """Accuracy, AUC, log-loss and confusion matrix on the IMDB test split, and Rotten Tomatoes accuracy."""
    splits = data.load_splits()
    test = splits.test if limit is None else splits.test.iloc[:limit]
    rotten = splits.rotten_tomatoes if limit is None else splits.rotten_tomatoes.iloc[:limit]
    test_probabilities = bundle_probabilities(bundle, test["text"].tolist())
    rotten_probabilities = bundle_probabilities(bundle, rotten["text"].tolist())
    results = {}
    for name, probabilities in test_probabilities.items():
        metrics = heldout_metrics(probabilities, test["label"].to_numpy())
        metrics["rotten_tomatoes_accuracy"] = round(_accuracy(rotten_probabilities[name], rotten["label"].to_numpy()), 4)
        metrics["rotten_tomatoes_n"] = int(len(rotten))
        results[name] = metrics
    return results


def load_heldout_predictions(bundle) -> pd.DataFrame:
    """The held-out probabilities saved at training time (verified), joined with the review texts."""
    from rnndemo import models

    path = models.verified_path(bundle.models_dir, bundle.manifest, models.PREDICTIONS_FILE)
    frame = pd.read_csv(path)
    splits = data.load_splits()
    texts = {"imdb_test": splits.test["text"], "rotten_tomatoes": splits.rotten_tomatoes["text"], "imdb_validation": splits.validation["text"]}
    frame["text"] = [texts[split].iloc[row] for split, row in zip(frame["split"], frame["row"])]
    return frame


def calibration_table(probabilities: np.ndarray, labels: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Mean predicted probability vs observed positive rate, per probability bin."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    rows = []
    for bin_index in range(bins):
        selected = which == bin_index
        if selected.any():
            rows.append({"bin": f"{edges[bin_index]:.1f}-{edges[bin_index + 1]:.1f}", "mean_predicted": float(probabilities[selected].mean()),
                         "observed_positive_rate": float(labels[selected].mean()), "count": int(selected.sum())})
    return pd.DataFrame(rows)


def wilson_interval(successes: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion."""
    if total == 0:
        return (0.0, 1.0)
    proportion = successes / total
    denominator = 1 + z**2 / total
    centre = (proportion + z**2 / (2 * total)) / denominator
    half = z * np.sqrt(proportion * (1 - proportion) / total + z**2 / (4 * total**2)) / denominator
    return (float(centre - half), float(centre + half))
