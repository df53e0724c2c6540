"""Held-out evaluation, recomputed from the model files (never copied from the manifest)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnndemo.text import tokenize

DECISION_THRESHOLD = 0.5  # p(positive) at or above it is "positive" (every page, command and metric)


def decide(probabilities: np.ndarray) -> np.ndarray:
    """1 (positive) where p(positive) >= DECISION_THRESHOLD, else 0; NaN (no prediction) counts as 0."""
    return (np.asarray(probabilities, dtype=np.float64) >= DECISION_THRESHOLD).astype(int)


def verdict(probability: float) -> str:
    """ "positive" or "negative": `decide` for one probability, in words (NaN is "negative", as in `decide`)."""
    return "positive" if decide(probability) else "negative"


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
    """The held-out probabilities saved at training time (verified), joined with the review texts (a DataFrame).

    ModelFileError names the file when it is not shaped as the model cards read it (`heldout_problem`).
    """
    import pandas as pd

    from rnndemo import data, models
    from rnndemo.registry import CLASSIFIER_NAMES

    path = models.verified_path(bundle.models_dir, bundle.manifest, models.PREDICTIONS_FILE)
    splits = data.load_splits()
    texts = {
        "imdb_test": splits.test["text"],
        "rotten_tomatoes": splits.rotten_tomatoes["text"],
        "imdb_validation": splits.validation["text"],
    }
    try:
        frame = pd.read_csv(path)
    except (ValueError, OSError) as error:  # pandas' parser and empty-file errors are ValueErrors
        models.LOGGER.warning("unreadable %s: %s", path, error)
        problem = "not a CSV file"
    else:
        names = [name for name in CLASSIFIER_NAMES if name in frame.columns or name in bundle.names()]
        problem = heldout_problem(frame, names, {split: len(values) for split, values in texts.items()})
    if problem:
        raise models.ModelFileError(
            f"{models.PREDICTIONS_FILE} is not shaped like held-out predictions ({problem}); {models.REBUILD_HINT}"
        )
    frame["text"] = [texts[split].iloc[row] for split, row in zip(frame["split"], frame["row"])]
    return frame


def heldout_problem(frame, names: list[str], split_sizes: dict[str, int]) -> str | None:
    """What keeps `frame` from being read as held-out predictions of the models `names`, or None.

    The model cards index each text by (split, row), draw ROC curves of the IMDB test rows (both labels needed)
    and compare every model's column with 0.1 and 0.9.
    """
    import pandas as pd

    missing = [column for column in ("split", "row", "label", *names) if column not in frame.columns]
    if missing:
        return f"no column {missing[0]!r}"
    if not frame["split"].isin(list(split_sizes)).all():
        return "an unknown split"
    rows, sizes = pd.to_numeric(frame["row"], errors="coerce"), frame["split"].map(split_sizes)
    if not (frame["row"].dtype.kind == "i" and ((rows >= 0) & (rows < sizes)).all()):
        return "a row outside its split"
    if not frame["label"].isin([0, 1]).all() or set(frame.loc[frame["split"] == "imdb_test", "label"]) != {0, 1}:
        return "labels other than 0 and 1, or IMDB test rows without both"
    for name in names:
        if not pd.to_numeric(frame[name], errors="coerce").between(0, 1).all():
            return f"{name!r} must hold probabilities from 0 to 1"
    return None


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


@dataclass(frozen=True)
class Crossing:
    """The running prediction moved to the other side of the threshold after reading one token."""

    position: int  # 1-based position of the token after which p is on the new side
    token: str
    side: str  # "positive" or "negative": where p went


@dataclass(frozen=True)
class VerdictStory:
    """What one model did with one labelled text, read off its own running prediction."""

    label: str  # the true label: "positive" or "negative"
    verdict: str  # the model's: "positive" or "negative"
    probability: float  # its final p(positive)
    first_side: str | None  # where p was after the first token (None without a trajectory: the baseline)
    crossings: tuple[Crossing, ...]  # every move across the threshold, in order
    closest: tuple[int, str, float] | None  # (position, token, p) nearest to the other verdict, when it never crossed
    tokens_read: int

    @property
    def correct(self) -> bool:
        return self.verdict == self.label


def crossing_positions(trajectory) -> np.ndarray:
    """Indices (from 0) of the tokens after which the running prediction is on the other side of the
    decision threshold than after the token before: the one definition of "crossed 0.5"."""
    positive = decide(np.asarray(trajectory, dtype=np.float64))
    return np.flatnonzero(positive[1:] != positive[:-1]) + 1


def verdict_story(
    label: int, probability: float, trajectory: list[float] | None = None, tokens: list[str] | None = None
) -> VerdictStory:
    """Where a model's running prediction crossed p = 0.5, and how it ended, against the text's true label.

    `trajectory[i]` is p(positive) after `tokens[i]`; leave both out for a model without one (the baseline).
    """
    trajectory = [] if trajectory is None else [float(value) for value in trajectory]
    tokens = [] if tokens is None else list(tokens)
    if len(tokens) != len(trajectory):
        raise ValueError(f"{len(trajectory)} running predictions for {len(tokens)} tokens")
    crossings = tuple(
        Crossing(int(position) + 1, tokens[position], verdict(trajectory[position]))
        for position in crossing_positions(trajectory)
    )
    closest = None
    if trajectory and not crossings:
        # Never crossed: the token that brought it nearest to changing its mind.
        pick = max if verdict(trajectory[0]) == "negative" else min
        position = pick(range(len(trajectory)), key=lambda index: trajectory[index])
        closest = (position + 1, tokens[position], trajectory[position])
    return VerdictStory(
        label="positive" if label == 1 else "negative",
        verdict=verdict(probability),
        probability=float(probability),
        first_side=verdict(trajectory[0]) if trajectory else None,
        crossings=crossings,
        closest=closest,
        tokens_read=len(trajectory),
    )


def _quote_plain(token: str) -> str:
    return f"“{token}”"


def describe_verdict(story: VerdictStory, quote=_quote_plain) -> str:
    """One or two sentences on what the model did and why, from its own running prediction.

    `quote` formats a token for where the sentence is shown (the app passes one that keeps Markdown out)."""
    outcome = "right" if story.correct else "wrong"
    head = f"{outcome}: {story.verdict}, p(positive) = {story.probability:.2f}."
    if story.first_side is None:
        return f"{head} It reads the words without their order, so it has no running prediction."
    if not story.crossings:
        position, token, probability = story.closest
        above_or_below = "above" if story.first_side == "positive" else "below"
        return (
            f"{head} Its running prediction stayed {above_or_below} 0.5 for all {story.tokens_read} "
            f"token{'s' if story.tokens_read != 1 else ''}; "
            f"it came closest to changing its mind at token {position}, {quote(token)} (p = {probability:.2f})."
        )
    last = story.crossings[-1]
    if len(story.crossings) == 1:
        how = f"It started {story.first_side} and went {last.side} at token {last.position}, {quote(last.token)}"
    else:
        how = (
            f"It started {story.first_side} and crossed the 0.5 line {len(story.crossings)} times; the last time "
            f"it went {last.side}, at token {last.position}, {quote(last.token)}"
        )
    tail = story.tokens_read - last.position
    if tail == 0:
        return f"{head} {how}, the very last token."
    return f"{head} {how}, and stayed there for the last {tail} token{'s' if tail != 1 else ''}."
