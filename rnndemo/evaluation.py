"""Held-out evaluation, recomputed from the model files (never copied from the manifest)."""

from __future__ import annotations

import numpy as np

from rnndemo.text import tokenize

DECISION_THRESHOLD = 0.5  # p(positive) at or above it is "positive" (every page, command and metric)


def decide(probabilities: np.ndarray) -> np.ndarray:
    """1 (positive) where p(positive) >= DECISION_THRESHOLD, else 0; NaN (no prediction) counts as 0."""
    return (np.asarray(probabilities, dtype=np.float64) >= DECISION_THRESHOLD).astype(int)


def accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(decide(probabilities) == (np.asarray(labels) == 1)))


def heldout_metrics(probabilities: np.ndarray, labels: np.ndarray) -> dict:
    """Accuracy, AUC, log-loss and the confusion matrix of held-out probabilities."""
    from sklearn.metrics import confusion_matrix, log_loss, roc_auc_score

    return {
        "accuracy": round(accuracy(probabilities, labels), 4),
        "auc": round(float(roc_auc_score(labels, probabilities)), 4),
        "log_loss": round(float(log_loss(labels, np.clip(probabilities, 1e-7, 1 - 1e-7))), 4),
        "confusion_matrix": confusion_matrix(labels, decide(probabilities), labels=[0, 1]).tolist(),
        "n": int(len(labels)),
    }


def bundle_probabilities(bundle, texts: list[str], progress=None) -> dict[str, np.ndarray]:
    """Probability of 'positive' from every loaded model for many texts (NaN for a text with no words)."""
    results = {}
    names = bundle.names()
    for position, name in enumerate(names):
        if name == "baseline":
            joined = [" ".join(tokenize(text)) for text in texts]
            results[name] = np.asarray(bundle.baseline.predict_proba(joined), dtype=np.float64)
            results[name][[not text for text in joined]] = (
                np.nan
            )  # no words: no prediction (as for the recurrent models)
        else:
            results[name] = bundle.classifiers[name].predict_texts(texts)
        if progress is not None:
            progress((position + 1) / len(names), name)
    return results


def evaluate_bundle(bundle, limit: int | None = None) -> dict[str, dict]:
    """Accuracy, AUC, log-loss and confusion matrix on the IMDB test split, and Rotten Tomatoes accuracy."""
    from rnndemo import data  # imported here: serving imports this module for `decide`, and needs no pandas

    splits = data.load_splits()
    test = splits.test if limit is None else splits.test.iloc[:limit]
    rotten = splits.rotten_tomatoes if limit is None else splits.rotten_tomatoes.iloc[:limit]
    test_probabilities = bundle_probabilities(bundle, test["text"].tolist())
    rotten_probabilities = bundle_probabilities(bundle, rotten["text"].tolist())
    results = {}
    for name, probabilities in test_probabilities.items():
        metrics = heldout_metrics(probabilities, test["label"].to_numpy())
        metrics["rotten_tomatoes_accuracy"] = round(accuracy(rotten_probabilities[name], rotten["label"].to_numpy()), 4)
        metrics["rotten_tomatoes_n"] = int(len(rotten))
        results[name] = metrics
    return results


def load_heldout_predictions(bundle):
    """The held-out probabilities saved at training time (verified), joined with the review texts (a DataFrame)."""
    import pandas as pd

    from rnndemo import data, models

    path = models.verified_path(bundle.models_dir, bundle.manifest, models.PREDICTIONS_FILE)
    frame = pd.read_csv(path)
    splits = data.load_splits()
    texts = {
        "imdb_test": splits.test["text"],
        "rotten_tomatoes": splits.rotten_tomatoes["text"],
        "imdb_validation": splits.validation["text"],
    }
    frame["text"] = [texts[split].iloc[row] for split, row in zip(frame["split"], frame["row"])]
    return frame


def calibration_table(probabilities: np.ndarray, labels: np.ndarray, bins: int = 10):
    """Mean predicted probability vs observed positive rate, per probability bin."""
    import pandas as pd

    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    rows = []
    for bin_index in range(bins):
        selected = which == bin_index
        if selected.any():
            rows.append(
                {
                    "bin": f"{edges[bin_index]:.1f}-{edges[bin_index + 1]:.1f}",
                    "mean_predicted": float(probabilities[selected].mean()),
                    "observed_positive_rate": float(labels[selected].mean()),
                    "count": int(selected.sum()),
                }
            )
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
