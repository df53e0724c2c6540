"""The "short memory" experiment: how far from the end can the sentiment be?

Design. For each model, take held-out IMDB test reviews the model classifies
correctly (balanced by label), then append N tokens of neutral filler after the
review, for N in 0, 25, 50, 100, 200 and 400, and measure accuracy. The whole sequence is fed (no
truncation), so the review is never cut: only its distance from the end grows.
Filler is real text: validation-split reviews with every word the TF-IDF
baseline weighs as sentiment-bearing (|coefficient| >= 0.3) removed, so an
independent model finds it neutral. Also measured: the norm of the gradient of
the last state's logit (w·h_T + b, the classifier's weights applied to the final
state) w.r.t. the input embedding at each position, by distance from the end:
how much the recurrence itself still depends on a word (the vanishing gradient).
The accuracy curve is the whole model's, readout included: a model that reads the
mean of its states can keep early words in the verdict after its state has lost them.
So the textbook plain RNN, a SimpleRNN that classifies its last state, is trained
for this experiment alone (never served) and measured first; the served SimpleRNN,
which classifies the mean of its states, is measured beside it as a practitioner's fix.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from rnndemo import data, models, shapes
from rnndemo.evaluation import decide, wilson_interval
from rnndemo.registry import DISPLAY_NAMES, EXPERIMENT_DISPLAY_NAMES, RECURRENT_KINDS, RECURRENT_NAMES
from rnndemo.text import tokenize
from rnndemo.vocab import PADDING_INDEX

DISTANCES = (0, 25, 50, 100, 200, 400)

_ACCURACY_ROW = {key: shapes.NUMBER for key in ("distance", "accuracy", "ci_low", "ci_high")}
_GRADIENT = {"distance": shapes.NUMBERS, "mean_norm": shapes.SOME_NUMBERS}
# What the Inside page reads of the experiment (rnndemo.shapes.shape_problem's shapes).
MEMORY_EXPERIMENT_SHAPE = {
    "design": shapes.TEXT,
    "models": shapes.Each(
        {"accuracy": shapes.ListOf(_ACCURACY_ROW), "gradient": _GRADIENT, "readout": shapes.MayBeAbsent(shapes.TEXT)}
    ),
    "contrast_summary": shapes.MayBeAbsent(shapes.TEXT),
    "accuracy_summary": shapes.MayBeAbsent(shapes.TEXT),
    "gradient_summary": shapes.MayBeAbsent(shapes.TEXT),
}

NEUTRAL_COEFFICIENT = 0.3
TEXTBOOK = "rnn_last"  # the plain last-state SimpleRNN, trained for this experiment only
# Why the mean readout resists filler, in one sentence (the page shows it beside the practitioner's fix).
MEAN_READOUT_REASON = (
    "It classifies the mean of all its states h₁ … h_T, so the states it wrote while reading the review stay in "
    "that mean: filler dilutes them rather than overwriting them, as it overwrites a last state, until enough "
    "filler outvotes them."
)
REBOUND = 0.2  # a later rise of the plain RNN's accuracy by at least this much is named: its curve is not monotone


def display_names(result: dict) -> dict[str, str]:
    """Each measured model's name in the experiment: the served ones' display names, the experiment's own models',
    and " (mean of states)" after a model that classifies the mean of its states (the practitioner's fix)."""
    names = DISPLAY_NAMES | EXPERIMENT_DISPLAY_NAMES
    return {
        name: names.get(name, name) + (" (mean of states)" if values.get("readout") == "mean" else "")
        for name, values in result["models"].items()
    }


def measured_classifiers(bundle, experiment: dict | None = None) -> dict:
    """The classifiers the experiment measures, in the order it shows them: the experiment's own models first
    (the textbook last-state SimpleRNN; loaded verified from the folder unless given), then the served recurrent
    ones. ModelFileError when an experiment model the manifest lists fails its check."""
    from rnndemo.serving import load_experiment_classifiers

    experiment = load_experiment_classifiers(bundle) if experiment is None else experiment
    served = {name: bundle.classifiers[name] for name in RECURRENT_NAMES if name in bundle.classifiers}
    return experiment | served  # the DFN and CNN have no memory


def neutral_filler(vocabulary, baseline, length: int, seed: int = 0) -> list[int]:
    """`length` ids of real validation text with sentiment-bearing words removed."""
    weights = dict(zip(baseline.vectorizer.get_feature_names_out(), baseline.classifier.coef_[0]))
    texts = data.load_splits().validation["text"].sample(frac=1.0, random_state=seed)
    filler: list[int] = []
    for text in texts:
        for token in tokenize(text):
            if abs(weights.get(token, 0.0)) < NEUTRAL_COEFFICIENT and vocabulary.lookup(token) > 1:
                filler.append(vocabulary.lookup(token))
        if len(filler) >= length:
            return filler[:length]
    return filler


def embedding_gradients(classifier, id_rows: np.ndarray) -> np.ndarray:
    """|d (w·h_T + b) / d e_t| for every position t of equal-length sequences (batch, time): the last state's
    dependence on each input through the recurrence alone, whatever the model's readout."""
    import tensorflow as tf

    embedding = classifier.model.get_layer("embedding")
    recurrent = classifier.sequence_model.get_layer("recurrent_sequence")  # every state; the last is h_T
    kernel, bias = classifier.model.get_layer("classifier").get_weights()
    ids = tf.constant(id_rows, dtype=tf.int32)
    embedded = embedding(ids)
    mask = tf.not_equal(ids, PADDING_INDEX)
    with tf.GradientTape() as tape:
        tape.watch(embedded)
        last_state = recurrent(embedded, mask=mask, training=False)[:, -1, :]  # (batch, units)
        logit = tf.matmul(last_state, kernel) + bias  # (batch, 1)
    gradient = tape.gradient(logit, embedded)  # (batch, time, embedding_dim)
    return tf.norm(gradient, axis=-1).numpy()


def run_memory_experiment(
    bundle,
    reviews_per_label: int = 100,
    gradient_reviews: int = 64,
    gradient_length: int = 400,
    distances: tuple[int, ...] = DISTANCES,
    progress: Callable[[str, float], None] | None = None,
    experiment: dict | None = None,
) -> dict:
    """Accuracy vs filler distance, and gradient norm vs distance from the end, for every recurrent model: the
    experiment's own (`experiment`, name -> serving.Classifier; default: the folder's) first, then the served."""
    progress = progress or (lambda message, fraction: None)
    started = time.perf_counter()
    splits = data.load_splits()
    test = splits.test
    id_lists = [bundle.vocabulary.encode_tokens(tokenize(text)) for text in test["text"]]
    sequence_length = int(bundle.manifest.get("sequence_length", 400))
    filler = neutral_filler(bundle.vocabulary, bundle.baseline, max(distances))
    labels = test["label"].to_numpy()
    result = {"design": __doc__.strip(), "distances": list(distances), "models": {}, "filler_tokens": len(filler)}
    measured = measured_classifiers(bundle, experiment)
    names = list(measured)
    for model_position, name in enumerate(names):
        classifier = measured[name]
        seen = [ids[-sequence_length:] for ids in id_lists]
        correct = decide(classifier.predict_ids(seen)) == (labels == 1)
        chosen = []
        for label in (0, 1):
            candidates = np.flatnonzero(correct & (labels == label))
            chosen.extend(candidates[:reviews_per_label].tolist())
        accuracy_rows = []
        for step, distance in enumerate(distances):
            sequences = [seen[row] + filler[:distance] for row in chosen]
            probabilities = classifier.predict_ids_unbounded(sequences)
            hits = int(np.sum(decide(probabilities) == (labels[chosen] == 1)))
            low, high = wilson_interval(hits, len(chosen))
            accuracy_rows.append(
                {
                    "distance": distance,
                    "accuracy": hits / len(chosen),
                    "ci_low": low,
                    "ci_high": high,
                    "n": len(chosen),
                    "mean_confidence": float(np.mean(np.where(labels[chosen] == 1, probabilities, 1 - probabilities))),
                    "share_predicted_positive": float(np.mean(decide(probabilities))),
                }
            )
            progress(
                f"{name}: {distance} filler tokens", (model_position + (step + 1) / (len(distances) + 1)) / len(names)
            )
        long_rows = [row for row, ids in enumerate(id_lists) if len(ids) >= gradient_length][:gradient_reviews]
        gradient_batch = np.asarray([id_lists[row][-gradient_length:] for row in long_rows], dtype=np.int32)
        norms = embedding_gradients(classifier, gradient_batch)[:, ::-1]  # column d = distance d from the end
        result["models"][name] = {
            "readout": models.readout_of(classifier.model),
            "accuracy": accuracy_rows,
            "gradient": {
                "distance": list(range(gradient_length)),
                "mean_norm": norms.mean(axis=0).tolist(),
                "median_norm": np.median(norms, axis=0).tolist(),
                "n": len(long_rows),
            },
        }
        progress(f"{name}: gradients", (model_position + 1) / len(names))
    result["seconds"] = round(time.perf_counter() - started, 1)
    result.update(summarize(result))
    return result


def summarize(result: dict) -> dict[str, str]:
    """One sentence per curve, written from the numbers (whatever they say)."""
    names = display_names(result)
    accuracy_parts, gradient_parts = [], []
    for name, values in result["models"].items():
        rows = values["accuracy"]
        steps = ", ".join(f"{row['accuracy']:.0%} at {row['distance']}" for row in rows)
        accuracy_parts.append(f"{names.get(name, name)}: {steps}")
        norms = np.asarray(values["gradient"]["mean_norm"])
        far = min(len(norms) - 1, 100)
        ratio = norms[far] / norms[0] if norms[0] > 0 else float("nan")
        gradient_parts.append(
            f"{names.get(name, name)}'s gradient {far} tokens from the end is {ratio:.1e} times "
            "its size at the last token"
        )
    accuracy = "Accuracy by filler tokens appended — " + "; ".join(accuracy_parts) + "."
    models = result["models"]
    if len(models) >= 2:
        # The widest spread between the best and the worst model at any one distance.
        table = np.array([[row["accuracy"] for row in values["accuracy"]] for values in models.values()])
        gaps = table.max(axis=0) - table.min(axis=0)
        widest = int(np.argmax(gaps))
        if gaps[widest] >= 0.05:
            at = {name: values["accuracy"][widest]["accuracy"] for name, values in models.items()}
            better, worse = max(at, key=at.get), min(at, key=at.get)
            accuracy += (
                f" The widest gap is at {result['distances'][widest]} filler tokens, "
                f"where the {names.get(better, better)} keeps {at[better]:.0%} "
                f"and the {names.get(worse, worse)} has {at[worse]:.0%}."
            )
        else:
            accuracy += " The models keep the sentiment about equally well at every distance measured."
    gradient = "; ".join(gradient_parts) + "."
    return {
        "accuracy_summary": accuracy[0].upper() + accuracy[1:],
        "gradient_summary": gradient[0].upper() + gradient[1:],
    } | ({"contrast_summary": contrast_sentence(result)} if TEXTBOOK in models else {})


def contrast_sentence(result: dict) -> str:
    """The textbook contrast, computed: at the filler length where the last-state SimpleRNN and the gated models
    differ most, what it keeps against them (and the other models), whether that is what the slide says; then every
    model at the longest filler."""
    names = display_names(result)
    table = {name: {row["distance"]: row for row in values["accuracy"]} for name, values in result["models"].items()}
    plain, gated = table[TEXTBOOK], [name for name in table if RECURRENT_KINDS.get(name) in ("LSTM", "GRU")]
    distances = list(plain)
    # The first distance where the plain RNN and the worse gated model differ most, either way (the last, without).
    distance = (
        max(distances, key=lambda d: abs(min(table[n][d]["accuracy"] for n in gated) - plain[d]["accuracy"]))
        if gated
        else distances[-1]
    )
    share = plain[distance]["accuracy"]
    same = plain[distance].get("share_predicted_positive") in (0.0, 1.0)
    against = " and ".join(f"the {names[name]} {table[name][distance]['accuracy']:.1%}" for name in gated)
    others = "".join(
        f" The {names[name]} keeps {table[name][distance]['accuracy']:.1%} there."
        for name in table
        if name != TEXTBOOK and name not in gated
    )
    verdict = ""
    if gated and share < min(table[name][distance]["accuracy"] for name in gated):
        verdict = ": as the slide says, the plain RNN forgets first"
    elif gated and share > max(table[name][distance]["accuracy"] for name in gated):
        verdict = ": unlike the slide, the plain RNN keeps more than the gated models here"
    elif gated:
        verdict = ": the plain RNN falls between the gated models here, so the slide's contrast does not show"
    sentence = (
        f"With {distance} neutral tokens after the review, the plain {names[TEXTBOOK]} keeps {share:.1%} of the "
        f"reviews it had right{' (it gives every review the same verdict)' if same else ''}"
        f"{f', against {against}' if against else ''}{verdict}.{others}"
    )
    rebound = next(
        (later for later in distances if later > distance and plain[later]["accuracy"] >= share + REBOUND), None
    )
    if rebound is not None:
        # Every longer filler begins with the shorter one, so the state after `distance` filler tokens is a
        # prefix's state of the longer sequences: if their verdicts still tell reviews apart, so did that state.
        cause = (
            "its state still carried the review (the longer sequences begin with these), and the filler had pushed "
            "every verdict to one side"
            if same
            else "it had not forgotten the review"
        )
        sentence += (
            f" The plain {names[TEXTBOOK]}'s curve is not monotone: at {rebound} tokens it is back at "
            f"{plain[rebound]['accuracy']:.1%}, so at {distance} {cause}; the gradient, which does not depend on "
            "where the filler ends, is the steadier evidence."
        )
    last = distances[-1]
    if last != distance:
        at_last = ", ".join(f"the {names[name]} {rows[last]['accuracy']:.1%}" for name, rows in table.items())
        sentence += f" At {last} tokens: {at_last}."
    return sentence


def mean_readout_sentence(result: dict) -> str:
    """How long each mean-readout model's accuracy holds, computed: its share at every filler length after 0 (""
    without a mean-readout model)."""
    names = display_names(result)
    parts = []
    for name, values in result["models"].items():
        if values.get("readout") != "mean":
            continue
        shares = ", ".join(f"{row['accuracy']:.1%} at {row['distance']}" for row in values["accuracy"][1:])
        parts.append(f"The {names[name]} keeps {shares} filler tokens.")
    return " ".join(parts)


def save_memory_experiment(result: dict, path: Path) -> None:
    Path(path).write_text(json.dumps(result), encoding="utf-8")


def load_memory_experiment(models_dir: Path, manifest: dict) -> dict | None:
    """The verified experiment of a models folder; None if it was never computed.

    Raises ModelFileError if the file does not match the manifest's sha256 or is not shaped like an experiment
    (MEMORY_EXPERIMENT_SHAPE: what the Inside page reads).
    """
    result = models.load_verified_json(models_dir, manifest, models.MEMORY_FILE)
    if result is None:
        return None
    problem = shapes.shape_problem(result, MEMORY_EXPERIMENT_SHAPE)
    if problem:
        raise models.ModelFileError(
            f"{models.MEMORY_FILE} is not shaped like a memory experiment ({problem}); {models.REBUILD_HINT}"
        )
    return result
