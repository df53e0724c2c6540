"""Stage 6: sequences as output. The three language models trained, evaluated, stored and loaded together.

`language_model` holds one neural next-word model (SimpleRNN or LSTM) and `ngram` the
Kneser–Ney reference. This module builds all of them from the same tokens, scores them on the
same held-out reviews, writes their files into a models folder (recorded in the manifest with
sha256 like every artifact), and loads them back verified, behind one serving interface.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnndemo import models, shapes
from rnndemo.config import LanguageModelConfig
from rnndemo.progress import ProgressCallback, TrainingEvent
from rnndemo.registry import LANGUAGE_BY_NAME, NEURAL_LANGUAGE_NAMES
from rnndemo.vocab import Vocabulary

NGRAM_ORDERS = {"unigram": 1, "bigram": 2, "ngram": 3}  # registry name -> n-gram order


@dataclass
class LanguageModels:
    """Every loaded language model of a models folder; one bad file never stops the others."""

    vocabulary: Any  # language_model.LanguageModelVocabulary
    models: dict[str, Any] = field(default_factory=dict)  # "rnn", "lstm", "ngram" -> serving object
    references: dict[str, Any] = field(default_factory=dict)  # "bigram", "unigram" -> NgramModel
    errors: dict[str, str] = field(default_factory=dict)  # name -> a one-line reason
    manifest: dict = field(default_factory=dict)

    def neural_models(self) -> dict[str, Any]:
        """The recurrent language models (the ones that generate text)."""
        return {name: model for name, model in self.models.items() if name in NEURAL_LANGUAGE_NAMES}

    def memory_result(self, models_dir: Path) -> dict | None:
        """The context-length experiment written at training time (verified), or None: never computed, or
        refused (the refusal, by the file's name, is in `errors` since the load)."""
        try:
            return load_context_experiment(models_dir, self.manifest)
        except models.ModelFileError:
            return None


CONTEXT_EXPERIMENT = "context experiment"  # its key in LanguageModels.errors
_CONTEXT_EXPERIMENT_SHAPE = {
    "contexts": shapes.ListOf(shapes.COUNT),  # 0 stands for the whole review
    "models": shapes.Each(shapes.SOME_NUMBERS),
    "tokens": shapes.COUNT,
    "reviews": shapes.COUNT,
}


def load_context_experiment(models_dir: Path, manifest: dict) -> dict | None:
    """The verified context experiment (None when the folder has none); ModelFileError names a damaged file."""
    hint = "retrain the language models with: python -m rnndemo train --only lm"
    result = models.load_verified_json(models_dir, manifest, models.LANGUAGE_MEMORY_FILE, hint)
    if result is None:
        return None
    problem = shapes.shape_problem(result, _CONTEXT_EXPERIMENT_SHAPE) or next(
        (
            f"'models.{name[:40]}' has {len(values)} values for {len(result['contexts'])} contexts"
            for name, values in result["models"].items()
            if len(values) != len(result["contexts"])
        ),
        None,
    )
    if problem:
        raise models.ModelFileError(
            f"{models.LANGUAGE_MEMORY_FILE} is not shaped like a context experiment ({problem}); {hint}"
        )
    return result


def load_language_models(models_dir: Path) -> LanguageModels:
    """Load and verify the folder's language models (a missing or tampered file becomes an error by name)."""
    from rnndemo.language_model import LanguageModel, LanguageModelVocabulary
    from rnndemo.language_model_layers import custom_layers
    from rnndemo.ngram import NgramNextWord

    models_dir = Path(models_dir)
    manifest = models.read_manifest(models_dir)
    section = manifest.get("language_models")
    if not isinstance(section, dict) or not section:
        hint = "the language models are not in this models folder; train them with: python -m rnndemo train --only lm"
        return LanguageModels(vocabulary=None, errors={"language_models": hint}, manifest=manifest)
    vocabulary = models.load_vocabulary(models_dir, manifest)
    size = int(manifest.get("language_model_vocabulary", {}).get("classifier_words", 0))
    words = LanguageModelVocabulary.from_vocabulary(vocabulary, size)
    loaded = LanguageModels(vocabulary=words, manifest=manifest)
    try:
        load_context_experiment(models_dir, manifest)  # checked once here, so a damaged file is named on the page
    except models.ModelFileError as error:
        loaded.errors[CONTEXT_EXPERIMENT] = str(error)
    custom_layers()  # the tied embedding is a registered layer class: safe_mode loads it, and nothing else
    for name in NEURAL_LANGUAGE_NAMES:
        try:
            keras_model = models.load_keras_model(models_dir, manifest, name, section="language_models")
            loaded.models[name] = LanguageModel(name, keras_model, words)
        except (models.ModelFileError, ValueError) as error:
            loaded.errors[name] = str(error)
    by_order = {}
    for name, order in NGRAM_ORDERS.items():
        try:
            by_order[order] = load_ngram(models_dir, manifest, name, len(words))
        except models.ModelFileError as error:
            loaded.errors[name] = str(error)
    if 3 in by_order:
        loaded.models["ngram"] = NgramNextWord("ngram", by_order)
    loaded.references = {
        name: by_order[order] for name, order in NGRAM_ORDERS.items() if name != "ngram" and order in by_order
    }
    return loaded


def load_ngram(models_dir: Path, manifest: dict, name: str, vocabulary_size: int):
    """One verified n-gram file, of the vocabulary size the neural models use."""
    from rnndemo.ngram import NgramModel

    entry = manifest.get("language_models", {}).get(name)
    if not isinstance(entry, dict) or entry.get("file") != LANGUAGE_BY_NAME[name].file:
        raise models.ModelFileError(
            f"{LANGUAGE_BY_NAME[name].file} is not in {models.MANIFEST_FILE}; "
            "train the language models with: python -m rnndemo train --only lm"
        )
    path = models.verified_path(models_dir, manifest, entry["file"])
    try:
        model = NgramModel.load(path)
    except ValueError as error:
        models.LOGGER.warning("unreadable n-gram file %s: %s", path, error)
        raise models.ModelFileError(f"{entry['file']} is not a valid n-gram file; {models.REBUILD_HINT}") from error
    if model.vocabulary_size != vocabulary_size or model.order != NGRAM_ORDERS[name]:
        raise models.ModelFileError(f"{entry['file']} does not match the language-model vocabulary; refused")
    return model


def fit_language_models(
    vocabulary: Vocabulary,
    tokens: dict[str, list[list[str]]],
    staging: Path,
    config: LanguageModelConfig,
    report: ProgressCallback,
) -> tuple[dict, dict]:
    """Train the n-grams and both recurrent language models on the train split's tokens, choose their
    weights on validation, score them on the test split and write them into `staging`.

    Returns the manifest's "language_models" table and its "language_model_vocabulary" entry.
    """
    from rnndemo.language_model import LanguageModelVocabulary

    words = LanguageModelVocabulary.from_vocabulary(vocabulary, config.vocabulary_size)
    test_tokens = tokens["test"] if config.test_reviews is None else tokens["test"][: config.test_reviews]
    reviews = {
        split: [words.encode_tokens(token_list) for token_list in lists]
        for split, lists in (("train", tokens["train"]), ("validation", tokens["validation"]), ("test", test_tokens))
    }
    section = fit_ngrams(reviews, len(words), staging, config, report)
    scorers = {"ngram": section.pop("_scorer")}
    for name in NEURAL_LANGUAGE_NAMES:
        entry, served = fit_neural_language_model(name, words, reviews, staging, config, report)
        section[name] = entry
        scorers[name] = served
    report(TrainingEvent("evaluate", message="measuring how much context each language model uses"))
    write_memory_experiment(
        scorers, reviews["test"][: config.memory_reviews], config, staging / models.LANGUAGE_MEMORY_FILE
    )
    vocabulary_entry = {
        "classifier_words": config.vocabulary_size,
        "size": len(words),
        "end_token": words.words[-1],
        "test_oov_rate": round(_oov_rate(reviews["test"]), 4),
    }
    return section, vocabulary_entry


def _oov_rate(reviews: list[list[int]]) -> float:
    ids = np.concatenate([np.asarray(review, dtype=np.int64) for review in reviews if review] or [np.zeros(0)])
    return float((ids == 1).mean()) if len(ids) else math.nan


def _scores(model, reviews: dict[str, list[list[int]]]) -> dict:
    """Validation and test perplexity, each with the number of predicted tokens (words, [UNK] and END)."""
    validation, validation_tokens = model.perplexity(reviews["validation"])
    test, test_tokens = model.perplexity(reviews["test"])
    return {
        "validation_perplexity": round(validation, 3),
        "validation_tokens": validation_tokens,
        "test": {"perplexity": round(test, 3), "tokens": test_tokens},
    }


def fit_ngrams(
    reviews: dict, vocabulary_size: int, staging: Path, config: LanguageModelConfig, report: ProgressCallback
) -> dict:
    """The Kneser–Ney unigram, bigram and trigram: fitted, saved and scored. The "_scorer" key carries
    the trigram's serving object for the memory experiment (the caller removes it)."""
    from rnndemo.ngram import NgramModel, NgramNextWord

    section, by_order = {}, {}
    for name, order in NGRAM_ORDERS.items():
        label = LANGUAGE_BY_NAME[name].display_name
        report(TrainingEvent("baseline", name, f"counting the {label}'s statistics on the train split"))
        started = time.perf_counter()
        model = NgramModel.fit(reviews["train"], vocabulary_size, order=order, discount=config.ngram_discount)
        seconds = time.perf_counter() - started
        spec = LANGUAGE_BY_NAME[name]
        model.save(staging / spec.file)
        by_order[order] = model
        section[name] = {
            "file": spec.file,
            "display_name": spec.display_name,
            "order": order,
            "discount": config.ngram_discount,
            "training_seconds": round(seconds, 1),
        } | _scores(model, reviews)
    section["_scorer"] = NgramNextWord("ngram", by_order)
    return section


def fit_neural_language_model(
    name: str, words, reviews: dict, staging: Path, config: LanguageModelConfig, report: ProgressCallback
) -> tuple[dict, Any]:
    """Train one recurrent language model from GloVe, save it, and score it; returns its entry and server."""
    import keras

    from rnndemo.language_model import LanguageModel, language_model_glove_matrix
    from rnndemo.language_model_training import train_language_model

    matrix, _, _ = language_model_glove_matrix(words, seed=config.seed)
    trained = train_language_model(name, reviews["train"], reviews["validation"], config, report, matrix)
    spec = LANGUAGE_BY_NAME[name]
    trained.model.save(staging / spec.file)
    report(TrainingEvent("evaluate", name, f"scoring the {spec.display_name} on held-out reviews"))
    served = LanguageModel(name, trained.model, words)
    entry = {
        "file": spec.file,
        "layer": spec.layer,
        "display_name": spec.display_name,
        "parameters": models.parameter_count(trained.model),
        "hyperparameters": {
            key: (list(value) if isinstance(value, tuple) else value) for key, value in asdict(config).items()
        },
        "tokens_seen": trained.tokens_seen,
        "best_tokens": trained.best_tokens,
        "stop_reason": trained.stop_reason,
        "training_seconds": round(trained.seconds, 1),
        "best_validation_subset_perplexity": round(trained.best_validation_perplexity, 3),
        "history": trained.history,
    } | _scores(served, reviews)
    keras.backend.clear_session(free_memory=False)
    return entry, served


def write_memory_experiment(scorers: dict, reviews: list[list[int]], config: LanguageModelConfig, path: Path) -> dict:
    """Held-out perplexity of each model when it may see only the last k tokens (k = 1, 2, 4, ..., all)."""
    result = {"contexts": [context or 0 for context in config.memory_contexts], "reviews": len(reviews), "models": {}}
    for name, scorer in scorers.items():
        values = [scorer.context_limited_perplexity(reviews, context)[0] for context in config.memory_contexts]
        result["models"][name] = [round(value, 3) for value in values]
    result["tokens"] = int(sum(len(review) + 1 for review in reviews))
    Path(path).write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


def evaluate_language_models(loaded: LanguageModels, limit: int | None = None) -> dict[str, dict]:
    """Test-split perplexity of every loaded language model and n-gram reference, recomputed from the files."""
    from rnndemo import data
    from rnndemo.language_model import encode_reviews

    test = data.load_splits().test
    texts = test["text"].tolist() if limit is None else test["text"].tolist()[:limit]
    reviews = encode_reviews(texts, loaded.vocabulary)
    results = {}
    for name, model in list(loaded.models.items()) + list(loaded.references.items()):
        perplexity, tokens = model.perplexity(reviews)
        results[name] = {"perplexity": round(perplexity, 3), "tokens": tokens}
    return results


def top_words(model, ids: list[int], words: list[str], k: int) -> list[tuple[str, float]]:
    """The `k` most probable next words after `[END] + ids`, most probable first."""
    distribution = model.next_distribution(ids)
    order = np.argsort(-distribution, kind="stable")[:k]
    return [(words[index], float(distribution[index])) for index in order]


def step_predictions(model, ids: list[int], words: list[str], steps: int) -> list[tuple[str, float]]:
    """For each of the last `steps` tokens: the word the model finds most probable right after it."""
    if hasattr(model, "next_distributions"):  # a recurrent model: every step's output from one pass
        distributions = model.next_distributions(ids, steps)
        return [(words[int(np.argmax(row))], float(row.max())) for row in distributions]
    start = max(0, len(ids) - steps)
    return [top_words(model, ids[: position + 1], words, 1)[0] for position in range(start, len(ids))]


def surprise_contrast(tokens: list[str], better: np.ndarray, worse: np.ndarray, count: int = 5) -> list[dict]:
    """Tokens where the first model is least surprised compared with the second (largest drop in nats)."""
    gaps = np.asarray(worse) - np.asarray(better)
    order = np.argsort(-gaps, kind="stable")[:count]
    return [
        {"position": int(i) + 1, "token": tokens[i], "nats_less": round(float(gaps[i]), 3)}
        for i in order
        if gaps[i] > 0
    ]


@dataclass(frozen=True)
class GeneratedWord:
    """One word of a continuation, with the words that could have come instead."""

    word: str
    probability: float  # the model's p(word | the text so far)
    chance: float  # its probability of being drawn (after temperature, top-k and the [UNK] exclusion)
    alternatives: tuple[tuple[str, float], ...]  # the likeliest draws at this step with their chance


ALTERNATIVES_SHOWN = 5  # the likeliest draws listed beside each generated word


def continuation(
    model,
    ids: list[int],
    words: list[str],
    count: int,
    temperature: float,
    top_k: int | None,
    seed: int,
    exclude_unknown: bool = False,
) -> list[GeneratedWord]:
    """`count` sampled words after the text. The same seed and settings give the same words, and a longer
    continuation starts with the shorter one (the page's "next step" adds one word to it)."""
    steps = model.generate_steps(
        ids,
        count,
        temperature=temperature,
        top_k=top_k,
        seed=seed,
        exclude_unknown=exclude_unknown,
        alternatives=ALTERNATIVES_SHOWN,
    )
    return [
        GeneratedWord(
            words[step.index],
            step.probability,
            step.chance,
            tuple((words[index], chance) for index, chance in step.alternatives),
        )
        for step in steps
    ]


@dataclass(frozen=True)
class Repeat:
    position: int  # from 0, in the generated words
    word: str
    distance: int  # tokens back to its previous occurrence


REPEAT_WINDOW = 5  # a word counts as a repeat when it occurred within this many tokens before


def repeats(words: list[str], window: int = REPEAT_WINDOW) -> list[Repeat]:
    """Every word that repeats a word from the `window` tokens before it (what makes generated text read as a loop)."""
    found = []
    for position, word in enumerate(words):
        earlier = words[max(0, position - window) : position]
        if word in earlier:
            last = len(earlier) - 1 - earlier[::-1].index(word)  # its latest occurrence before this one
            found.append(Repeat(position, word, len(earlier) - last))
    return found


def repetition_note(words: list[str], window: int = REPEAT_WINDOW, quote=lambda word: f"'{word}'") -> str:
    """ "3 of 10 generated words repeat a word from the 5 tokens before them: 'the' (step 4, 2 back), …"."""
    found = repeats(words, window)
    if not found:
        return f"No generated word repeats a word from the {window} tokens before it."
    listed = ", ".join(f"{quote(item.word)} (step {item.position + 1}, {item.distance} back)" for item in found[:5])
    more = f" and {len(found) - 5} more" if len(found) > 5 else ""
    return (
        f"{len(found)} of {len(words)} generated words repeat a word from the {window} tokens before them: "
        f"{listed}{more}."
    )


# How the perplexity table is shown: perplexities and seconds to one decimal (0.9 s next to 713.1 s).
PERPLEXITY_DECIMALS = {"test perplexity": 1, "validation perplexity": 1, "training seconds": 1}


def perplexity_table(section: dict, display_names: dict[str, str]) -> list[dict]:
    """The held-out perplexity rows of the manifest's language models (test split; lower is better)."""
    rows = []
    for name, entry in section.items():
        rows.append(
            {
                "model": display_names.get(name, name),
                "test perplexity": entry["test"]["perplexity"],
                "test tokens": entry["test"]["tokens"],
                "validation perplexity": entry.get("validation_perplexity"),
                "training tokens": entry.get("tokens_seen"),
                "training seconds": entry.get("training_seconds"),
                "parameters": entry.get("parameters"),
            }
        )
    return sorted(rows, key=lambda row: -row["test perplexity"])
