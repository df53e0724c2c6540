"""`python -m rnndemo` (or `rnndemo`): the pipeline from the command line, one module.

Every subcommand has --help and --json. Bad input exits with code 2 and one
line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from rnndemo.config import LIMITS, default_models_dir
from rnndemo.registry import CLASSIFIER_NAMES, EXPERIMENT_NAMES, FORECAST_SERIES, NEURAL_NAMES, RECURRENT_NAMES
from rnndemo.vocab import END_TOKEN, truncation_note


class UsageError(Exception):
    """Bad input: reported as one line on stderr with exit code 2."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (the full usage stays in --help)."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


# The smallest --limit of evaluate and train: the AUC and the baseline (its terms must appear in two reviews, and
# its regression needs both labels) need reviews of both labels; 1 or 2 crashed after the work had started.
MIN_LIMIT = 10


def whole_number(low: int, high: int | None = None):
    """argparse type: a whole number of at least `low` (and at most `high`); a usage error otherwise, before any
    work."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if high is not None and not low <= number <= high:
            raise argparse.ArgumentTypeError(f"{value} is not between {low} and {high}")
        if number < low:
            raise argparse.ArgumentTypeError(f"{value} is not at least {low}")
        return number

    return parse


positive_int = whole_number(1)


def write_problem(folder: Path) -> str | None:
    """Why nothing can be written into `folder`, or None: found by creating and removing a file there (os.access
    says yes to root for /sys and /proc, where every write fails)."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".rnndemo-write-check-"):
            return None
    except OSError as error:
        return f"cannot write into {folder} ({error.strerror or error})"


def writable_file(value: str) -> Path:
    """argparse type: a regular file (new, or replaced with --force) in a folder that takes a file; checked before
    minutes of work. A device is refused: /dev/full accepts the open and fails the write."""
    path = Path(value)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{value} is a folder; give a file path")
    if path.exists() and not path.is_file():
        raise argparse.ArgumentTypeError(f"{value} is not a regular file (a device or a pipe?); give a file path")
    problem = write_problem(path.parent)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return path


def new_folder(value: str) -> Path:
    """argparse type: a folder to create or fill; never an existing file or a device. Nothing is created here: the
    command creates it once every check has passed (`check_output`)."""
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{value} exists and is not a folder")
    nearest = next(folder for folder in (path, *path.parents) if folder.is_dir())
    problem = write_problem(nearest)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return path


def _inside(path: Path, folder: Path) -> bool:
    """True when `path` is `folder` or lies in it ('..' and links resolved)."""
    path, folder = Path(path).resolve(), Path(folder).resolve()
    return path == folder or folder in path.parents


def check_output(output: Path | None, models_dir: Path, force: bool) -> None:
    """Refuse, before any work, an --output in the models folder (its files are written only by the commands that
    record them in the manifest: `memory --output models/manifest.json` replaced the manifest, and every model was
    refused after it) or one that would replace an existing file or fill a non-empty folder without --force.
    Without --output a command writes into the models folder, which must then take a file."""
    if output is None:
        problem = write_problem(models_dir) if Path(models_dir).is_dir() else None
        if problem:
            raise UsageError(problem)
        return
    if _inside(output, models_dir):
        raise UsageError(
            f"--output {output} is in the models folder, which only train and the default outputs write; "
            "choose a path outside it"
        )
    if not force and (output.is_file() or (output.is_dir() and any(output.iterdir()))):
        raise UsageError(f"--output {output} already exists; add --force to replace it")


def _read_text(value: str, notes: list[str]) -> str:
    """The TEXT argument (or standard input for '-'), bounded; a cut is added to `notes`."""
    try:
        text = sys.stdin.buffer.read().decode("utf-8") if value == "-" else value
    except UnicodeDecodeError:
        raise UsageError("standard input is not UTF-8 text") from None
    if not text.strip():
        raise UsageError("the text is empty; pass a review, or '-' to read it from standard input")
    from rnndemo.serving import prepare_text

    text, notice = prepare_text(text)
    if notice:
        notes.append(notice)
    return text


def _emit(payload, as_json: bool, lines: list[str], notes: list[str] | None = None) -> None:
    """The result on stdout, with its notes (what was cut): a "notes" field in JSON, "note:" lines in text.
    Standard error stays empty on success."""
    if as_json:
        if notes and isinstance(payload, dict):
            payload = {**payload, "notes": notes}
        print(json.dumps(payload, ensure_ascii=False))
    else:
        print("\n".join([*lines, *(f"note: {note}" for note in notes or [])]))


def _progress_wanted() -> bool:
    """Progress lines go to a terminal only; a script or a pipe gets a quiet stderr."""
    return sys.stderr.isatty()


def _load_bundle(models_dir: Path, names: list[str] | None = None):
    from rnndemo.models import ModelFileError
    from rnndemo.serving import load_bundle

    try:
        bundle = load_bundle(models_dir)
    except ModelFileError as error:
        raise UsageError(str(error)) from error
    for name in names or []:
        if name not in bundle.names():
            reason = bundle.errors.get(name, f"unknown model {name!r}; choose from {', '.join(CLASSIFIER_NAMES)}")
            raise UsageError(reason)
    for name, reason in bundle.errors.items():
        if not names or name in names:
            print(f"warning: {reason}", file=sys.stderr)
    return bundle


def command_encode(arguments) -> None:
    from rnndemo import text as text_module
    from rnndemo.vocab import OOV_INDEX

    notes: list[str] = []
    text = _read_text(arguments.text, notes)
    tokens = text_module.tokenize(text)
    if not tokens:
        raise UsageError("the text has no words once cleaned (only punctuation or symbols?)")
    payload: dict = {"order": arguments.order, "tokens": tokens}
    if arguments.order == "appearance":
        payload["ids"] = text_module.index_by_appearance(tokens)[1]
    elif arguments.order == "frequency":
        payload["ids"] = text_module.index_by_frequency(tokens)[1]
    else:
        from rnndemo import models

        try:
            manifest = models.read_manifest(arguments.models_dir)
            vocabulary = models.load_vocabulary(arguments.models_dir, manifest)
        except models.ModelFileError as error:
            raise UsageError(str(error)) from error
        encoded = vocabulary.encode(
            tokens, int(manifest["sequence_length"]), truncating="pre", padding=arguments.padding
        )
        payload.update(
            ids=encoded.ids,
            oov=encoded.oov,
            padded=encoded.padded,
            seen_tokens=encoded.seen_tokens,
            cut_tokens=encoded.cut_tokens,
            sequence_length=len(encoded.padded),
        )
        payload["oov_count"] = sum(1 for index in encoded.ids if index == OOV_INDEX)
    _emit(payload, arguments.json, [f"{token}\t{index}" for token, index in zip(tokens, payload["ids"])], notes)


def command_predict(arguments) -> None:
    from rnndemo.serving import EmptyTextError

    notes: list[str] = []
    text = _read_text(arguments.text, notes)
    bundle = _load_bundle(arguments.models_dir, arguments.model)
    try:
        predictions = bundle.classify(text, arguments.model)
    except EmptyTextError as error:
        raise UsageError(str(error)) from error
    payload = {"models": {}}
    lines = []
    for name, prediction in predictions.items():
        payload["models"][name] = {
            "probability_positive": round(prediction.probability_positive, 6),
            "label": prediction.label,
            "trajectory": [round(value, 6) for value in prediction.trajectory],
            "tokens_seen": len(prediction.tokens) if name != "baseline" else None,
            "cut_tokens": prediction.cut_tokens,
        }
        lines.append(f"{name:9s} {prediction.label:9s} p(positive)={prediction.probability_positive:.4f}")
    cut = max((prediction.cut_tokens for prediction in predictions.values()), default=0)
    if cut:
        notes.append(truncation_note(bundle.manifest["sequence_length"], cut))
    _emit(payload, arguments.json, lines, notes)


def _review_words(models_dir: Path) -> list[str] | None:
    """The reviews' vocabulary, most frequent first (it ranks GloVe's close spellings as the app does);
    None when the models folder has no verified vocabulary."""
    from rnndemo import models

    try:
        return models.load_vocabulary(models_dir, models.read_manifest(models_dir)).words
    except models.ModelFileError:
        return None


def command_neighbors(arguments) -> None:
    from rnndemo.embeddings import UnknownWordError, load_glove

    word = arguments.word.strip().lower()
    if not word:
        raise UsageError("the word is empty")
    if len(word) > LIMITS.max_word_characters:
        raise UsageError(f"the word is longer than {LIMITS.max_word_characters} characters; no vector has such a word")
    if arguments.k < 1 or arguments.k > 1000:
        raise UsageError("-k must be between 1 and 1000")
    if arguments.source == "glove":
        space = load_glove(frequency_words=_review_words(arguments.models_dir))
    else:
        bundle = _load_bundle(arguments.models_dir, [arguments.source])
        space = bundle.classifiers[arguments.source].embedding_space
    try:
        neighbors = space.neighbors(word, arguments.k, arguments.metric)
    except UnknownWordError as error:
        raise UsageError(str(error)) from error
    payload = [{"word": neighbor.word, "similarity": round(neighbor.similarity, 6)} for neighbor in neighbors]
    _emit(payload, arguments.json, [f"{item['word']}\t{item['similarity']:.4f}" for item in payload])


def command_evaluate(arguments) -> None:
    from rnndemo.evaluation import evaluate_bundle
    from rnndemo.next_word import evaluate_language_models, load_language_models

    bundle = _load_bundle(arguments.models_dir)
    results = evaluate_bundle(bundle, limit=arguments.limit)
    lines = [
        f"{name:9s} accuracy={values['accuracy']:.4f} auc={values['auc']:.4f} n={values['n']} "
        f"rotten_tomatoes={values['rotten_tomatoes_accuracy']:.4f}"
        for name, values in results.items()
    ]
    language_models = load_language_models(arguments.models_dir)
    for reason in language_models.errors.values():
        print(f"warning: {reason}", file=sys.stderr)
    if language_models.models:
        results["language_models"] = evaluate_language_models(language_models, limit=arguments.limit)
        lines += [
            f"{name:9s} perplexity={values['perplexity']:.2f} tokens={values['tokens']}"
            for name, values in results["language_models"].items()
        ]
    forecasters = _evaluate_forecasters(arguments.models_dir)
    if forecasters:
        results["forecasters"] = forecasters
        lines += [
            f"{series:9s} {name:15s} "
            + " ".join(f"MASE(h={horizon})={value:.3f}" for horizon, value in values["mase"].items())
            for series, table in forecasters.items()
            for name, values in table.items()
        ]
    _emit(results, arguments.json, lines)


def _evaluate_forecasters(models_dir: Path) -> dict | None:
    """The forecasters' test scores recomputed from their files; None (with a warning) when the folder has none."""
    from rnndemo.forecast_serving import evaluate_forecasters
    from rnndemo.models import ModelFileError

    try:
        return evaluate_forecasters(models_dir)
    except ModelFileError as error:
        print(f"warning: {error}", file=sys.stderr)
        return None


def command_forecast(arguments) -> None:
    from rnndemo.forecast_serving import forecast_from
    from rnndemo.models import ModelFileError

    try:
        payload = forecast_from(
            arguments.models_dir, arguments.series, arguments.horizon, arguments.origin, arguments.window
        )
    except (ValueError, ModelFileError) as error:
        raise UsageError(str(error)) from None
    lines = [
        f"{arguments.series} from {payload['origin']} ({payload['unit']}; the networks read W = {payload['window']})",
        "date        truth     " + " ".join(f"{name:>14s}" for name in payload["models"]),
    ]
    for row, date in enumerate(payload["dates"]):
        truth = payload["truth"][row]
        shown = f"{truth:8.2f}" if truth is not None else "       -"
        lines.append(f"{date}  {shown}  " + " ".join(f"{values[row]:14.2f}" for values in payload["models"].values()))
    _emit(payload, arguments.json, lines)


def command_train_forecasters(arguments) -> None:
    from rnndemo.forecast_models import train_forecasters
    from rnndemo.models import ModelFileError

    check_output(None, arguments.models_dir, False)

    def report(message: str) -> None:
        if _progress_wanted():
            print(f"[forecasters] {message}", file=sys.stderr, flush=True)

    try:
        metrics = train_forecasters(arguments.models_dir, report)
    except ModelFileError as error:
        raise UsageError(str(error)) from error
    summary = {series: metrics[series]["test"] for series in ("co2", "sunspots")}
    lines = [
        f"{series:9s} {name:22s} "
        + " ".join(f"MASE(h={horizon})={value:.3f}" for horizon, value in values["mase"].items())
        for series, table in summary.items()
        for name, values in table.items()
    ] + [f"trained and scored in {metrics['training_seconds']:.0f} s"]
    _emit({"test": summary, "training_seconds": metrics["training_seconds"]}, arguments.json, lines)


def check_training_folder(arguments) -> None:
    """`train --only lm` keeps the folder's classifiers: with none there, refuse before any work."""
    from rnndemo import models

    if arguments.only != "lm":
        return
    try:
        models.read_manifest(arguments.models_dir, required=models.CLASSIFIER_KEYS)
    except models.ModelFileError as error:
        raise UsageError(f"train --only lm keeps the folder's classifiers, but: {error}") from error


def command_train(arguments) -> None:
    from dataclasses import replace

    from rnndemo.config import TRAINING
    from rnndemo.models import ModelFileError
    from rnndemo.training import train_all

    check_training_folder(arguments)

    config = replace(
        TRAINING,
        train_limit=arguments.limit,
        max_epochs=arguments.epochs or TRAINING.max_epochs,
        model_names=tuple(arguments.model or TRAINING.model_names),
        parts={None: TRAINING.parts, "classifiers": ("classifiers",), "lm": ("language_models",)}[arguments.only],
        language_model=replace(
            TRAINING.language_model,
            token_budget=arguments.lm_tokens or TRAINING.language_model.token_budget,
            test_reviews=arguments.limit,
        ),
    )

    def report(event) -> None:
        if not _progress_wanted():
            return
        if event.stage == "batch":
            eta = f" ETA {event.eta_seconds:.0f}s" if event.eta_seconds is not None else ""
            loss = (event.metrics or {}).get("loss", float("nan"))
            print(
                f"\r  {event.model} epoch {event.epoch}/{event.epochs} batch {event.batch}/{event.batches} "
                f"loss {loss:.4f}{eta}   ",
                end="",
                file=sys.stderr,
                flush=True,
            )
        else:
            prefix = "\n" if event.stage == "epoch" else ""
            print(f"{prefix}[{event.stage}] {event.message}", file=sys.stderr, flush=True)

    import signal

    def stop(signal_number, frame) -> None:
        raise KeyboardInterrupt  # SIGTERM cleans up like Ctrl+C: the staging folder goes, the models stay

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        if arguments.add:
            manifest = _add_classifiers(arguments, config, report)
        else:
            manifest = train_all(arguments.models_dir, config, report)
    except KeyboardInterrupt:
        print("\ninterrupted: the previous models were left in place", file=sys.stderr)
        raise SystemExit(130) from None
    except ModelFileError as error:  # a file of the folder it keeps (--only) failed its check: nothing was swapped
        raise UsageError(str(error)) from error
    finally:
        signal.signal(signal.SIGTERM, previous)
    summary = {
        name: {
            "test_accuracy": entry["test_accuracy"],
            "test_auc": entry["test_auc"],
            "epochs": entry["epochs"],
            "training_seconds": entry["training_seconds"],
        }
        for name, entry in (manifest["models"] | manifest.get("experiment_models", {})).items()
    }
    summary["baseline"] = {
        "test_accuracy": manifest["baseline"]["test_accuracy"],
        "test_auc": manifest["baseline"]["test_auc"],
    }
    lines = [f"{name:9s} test accuracy {values['test_accuracy']:.4f}" for name, values in summary.items()]
    language = {
        name: {"test_perplexity": entry["test"]["perplexity"], "test_tokens": entry["test"]["tokens"]}
        for name, entry in manifest.get("language_models", {}).items()
    }
    if language:
        summary["language_models"] = language
        lines += [
            f"{name:9s} language model test perplexity {values['test_perplexity']:.1f}"
            for name, values in language.items()
        ]
    _emit(summary, arguments.json, lines)


def _add_classifiers(arguments, config, report) -> dict:
    """`train --add --model …`: train those classifiers and add them to the folder beside its other models."""
    from rnndemo.training import add_classifiers

    if not arguments.model:
        raise UsageError("train --add needs at least one --model")
    try:
        return add_classifiers(arguments.models_dir, config, report)
    except ValueError as error:
        raise UsageError(str(error)) from error


def _load_language_models(models_dir: Path):
    from rnndemo.models import ModelFileError
    from rnndemo.next_word import load_language_models

    try:
        language_models = load_language_models(models_dir)
    except ModelFileError as error:
        raise UsageError(str(error)) from error
    if not language_models.models:
        raise UsageError(next(iter(language_models.errors.values()), "no language model is available"))
    for reason in language_models.errors.values():
        print(f"warning: {reason}", file=sys.stderr)
    return language_models


def _language_model_ids(language_models, text: str, notes: list[str]) -> tuple[list[str], list[int]]:
    """The text's tokens and language-model ids, the last `max_language_model_tokens` of them."""
    from rnndemo.text import tokenize

    tokens = tokenize(text)
    if not tokens:
        raise UsageError("the text has no words once cleaned; pass some words")
    limit = LIMITS.max_language_model_tokens
    if len(tokens) > limit:
        notes.append(truncation_note(limit, len(tokens) - limit))
        tokens = tokens[-limit:]
    return tokens, language_models.vocabulary.encode_tokens(tokens)


def command_next(arguments) -> None:
    notes: list[str] = []
    language_models = _load_language_models(arguments.models_dir)
    tokens, ids = _language_model_ids(language_models, _read_text(arguments.text, notes), notes)
    words = language_models.vocabulary.words
    payload = {"prefix_tokens": tokens, "models": {}}
    for name, model in language_models.models.items():
        distribution = model.next_distribution(ids)
        top = np.argsort(-distribution, kind="stable")[: arguments.k]
        payload["models"][name] = [{"word": words[i], "probability": round(float(distribution[i]), 6)} for i in top]
    lines = [
        f"{name}: " + ", ".join(f"{item['word']} {item['probability']:.3f}" for item in items)
        for name, items in payload["models"].items()
    ]
    _emit(payload, arguments.json, lines, notes)


def command_perplexity(arguments) -> None:
    notes: list[str] = []
    language_models = _load_language_models(arguments.models_dir)
    tokens, ids = _language_model_ids(language_models, _read_text(arguments.text, notes), notes)
    payload = {"tokens": tokens, "models": {}}
    for name, model in language_models.models.items():
        surprisal = model.surprisal(ids)
        payload["models"][name] = {
            "perplexity": round(float(np.exp(surprisal.mean())), 4),
            "surprisal": [round(float(value), 6) for value in surprisal],
        }
    lines = [
        f"{name}: perplexity {values['perplexity']:.1f} over {len(tokens)} tokens"
        for name, values in payload["models"].items()
    ]
    _emit(payload, arguments.json, lines, notes)


def command_generate(arguments) -> None:
    notes: list[str] = []
    language_models = _load_language_models(arguments.models_dir)
    text = _read_text(arguments.text, notes)
    _, ids = _language_model_ids(language_models, text, notes)
    words = language_models.vocabulary.words
    payload = {"prompt": text, "models": {}}
    for name, model in language_models.neural_models().items():
        drawn = model.generate(ids, arguments.words, arguments.temperature, arguments.top_k, arguments.seed)
        generated = [{"word": words[index], "probability": round(probability, 6)} for index, probability in drawn]
        payload["models"][name] = {
            "text": " ".join(item["word"] for item in generated if item["word"] != END_TOKEN),
            "tokens": generated,
        }
    lines = [f"{name}: {values['text']}" for name, values in payload["models"].items()]
    _emit(payload, arguments.json, lines, notes)


# Below this, sampling is the likeliest word anyway; 1e-308 overflowed the scaled log-probabilities to NaN.
def temperature(value: str) -> float:
    """argparse type: a sampling temperature in the page's range, LIMITS.min_temperature to max_temperature."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    low, high = LIMITS.min_temperature, LIMITS.max_temperature
    if not low <= number <= high:  # nan fails this too
        raise argparse.ArgumentTypeError(f"{value} is not from {low:g} to {high:g} (the language-model page's range)")
    return number


def bounded_int(low: int, high: int):
    """argparse type: a whole number from `low` to `high`."""
    return whole_number(low, high)


def command_inspect(arguments) -> None:
    from rnndemo.inspect import Inspector
    from rnndemo.serving import EmptyTextError

    notes: list[str] = []
    text = _read_text(arguments.text, notes)
    bundle = _load_bundle(arguments.models_dir, [arguments.model])
    try:
        inspection = Inspector(bundle.classifiers[arguments.model]).inspect(text)
    except EmptyTextError as error:
        raise UsageError(str(error)) from error
    if inspection.cut_tokens:
        notes.append(truncation_note(len(inspection.tokens), inspection.cut_tokens))
    lines = [
        f"{token:15s} p={probability:.4f} |h|={abs(row).mean():.3f}"
        for token, probability, row in zip(inspection.tokens, inspection.trajectory, inspection.hidden)
    ]
    _emit(inspection.to_json(), arguments.json, lines, notes)


def command_memory(arguments) -> None:
    from rnndemo import models
    from rnndemo.memory import run_memory_experiment, save_memory_experiment

    check_output(arguments.output, arguments.models_dir, arguments.force)
    bundle = _load_bundle(arguments.models_dir)
    if bundle.baseline is None or not bundle.classifiers:
        raise UsageError(
            "the memory experiment needs the baseline and at least one recurrent model; " + models.REBUILD_HINT
        )

    def progress(message: str, fraction: float) -> None:
        if _progress_wanted():
            print(f"\r[{fraction:5.0%}] {message:40s}", end="", file=sys.stderr, flush=True)

    try:
        result = run_memory_experiment(bundle, reviews_per_label=arguments.reviews, progress=progress)
    except models.ModelFileError as error:  # the experiment's own last-state SimpleRNN failed its check
        raise UsageError(str(error)) from error
    if _progress_wanted():
        print(file=sys.stderr)
    output = arguments.output or Path(arguments.models_dir) / models.MEMORY_FILE
    save_memory_experiment(result, output)
    if Path(output).resolve() == (Path(arguments.models_dir) / models.MEMORY_FILE).resolve():
        models.record_in_manifest(arguments.models_dir, models.MEMORY_FILE)
    lines = [f"written to {output}"]
    for name, values in result["models"].items():
        lines.append(
            f"{name}: " + ", ".join(f"N={row['distance']}: {row['accuracy']:.3f}" for row in values["accuracy"])
        )
    _emit({name: values["accuracy"] for name, values in result["models"].items()}, arguments.json, lines)


def command_order_test(arguments) -> None:
    from rnndemo import data, models
    from rnndemo.order_test import ORDER_TEST_FILE, run_order_test, save_order_test

    check_output(arguments.output, arguments.models_dir, arguments.force)
    bundle = _load_bundle(arguments.models_dir)
    if not bundle.names():
        raise UsageError("the order test needs at least one model; " + models.REBUILD_HINT)
    if arguments.pairs:
        _minimal_pairs(bundle, arguments.json)
        return
    test = data.load_splits().test
    if arguments.limit is not None:
        test = test.iloc[: arguments.limit]

    def progress(message: str, fraction: float) -> None:
        if _progress_wanted():
            print(f"\r[{fraction:5.0%}] {message:50s}", end="", file=sys.stderr, flush=True)

    result = run_order_test(bundle, test["text"].tolist(), test["label"].to_numpy(), progress=progress)
    if _progress_wanted():
        print(file=sys.stderr)
    output = arguments.output
    if output is None and arguments.limit is None:  # only the whole test split is committed with the models
        output = Path(arguments.models_dir) / ORDER_TEST_FILE
        save_order_test(result, output)
        models.record_in_manifest(arguments.models_dir, ORDER_TEST_FILE)
    elif output is not None:
        save_order_test(result, output)
    lines = [f"{'model':9s} " + " ".join(f"{condition:>17s}" for condition in result["models"][bundle.names()[0]])]
    lines += [
        f"{name:9s} " + " ".join(f"{value:17.4f}" for value in scores.values())
        for name, scores in result["models"].items()
    ]
    if output is not None:
        lines.append(f"written to {output}")
    _emit({"models": result["models"], "n": result["n"], "seed": result["seed"]}, arguments.json, lines)


def _minimal_pairs(bundle, as_json: bool) -> None:
    """`order-test --pairs`: every model's p(positive) on each minimal pair's sentences, and its accuracy."""
    from rnndemo.order_test import pair_accuracy, pair_sentences

    sentences = []
    for text, label in pair_sentences():
        verdicts = bundle.classify(text)
        probabilities = {name: round(prediction.probability_positive, 4) for name, prediction in verdicts.items()}
        sentences.append({"text": text, "label": label, "probability_positive": probabilities})
    accuracy = pair_accuracy(bundle)
    lines = [f"{item['label']:8s} {item['text']}: {item['probability_positive']}" for item in sentences]
    lines.append(f"accuracy: {accuracy}")
    _emit({"sentences": sentences, "accuracy": accuracy}, as_json, lines)


def command_export(arguments) -> None:
    from rnndemo.export import export_saved_models

    check_output(Path(arguments.output), arguments.models_dir, arguments.force)
    bundle = _load_bundle(arguments.models_dir)
    written = export_saved_models(bundle, Path(arguments.output))
    _emit(
        {name: str(path) for name, path in written.items()},
        arguments.json,
        [f"{name}: {path}" for name, path in written.items()],
    )


def race_cells(value: str) -> tuple[str, ...]:
    """argparse type: distinct recurrent cells, comma-separated (rnn,lstm,gru)."""
    cells = tuple(part.strip() for part in value.split(","))
    if not all(cells) or any(cell not in RECURRENT_NAMES for cell in cells) or len(set(cells)) != len(cells):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a comma-separated list of distinct cells among {','.join(RECURRENT_NAMES)}"
        )
    return cells


def budget_seconds(value: str) -> float:
    """argparse type: a wall-clock budget per cell, above 0 and at most 600 seconds."""
    from rnndemo.race import MAX_SECONDS

    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not 0 < number <= MAX_SECONDS:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"{value} is not above 0 and at most {MAX_SECONDS:g} seconds")
    return number


def _race_progress(event) -> None:
    """A race's curve points, one line each, on a terminal's stderr."""
    if _progress_wanted() and event.stage in ("data", "evaluate"):
        print(f"[race] {event.message}", file=sys.stderr, flush=True)


def command_race(arguments) -> None:
    from rnndemo import race

    try:
        config = race.RaceConfig(
            task=arguments.task,
            lag=arguments.lag,
            cells=arguments.cells,
            units=arguments.units,
            seconds=arguments.seconds,
            steps=arguments.steps,
            seed=arguments.seed,
        )
    except ValueError as error:
        raise UsageError(str(error)) from None
    if arguments.sweep:
        check_output(arguments.output, arguments.models_dir, arguments.force)
    race.limit_threads()  # as a visitor's race: its steps per second and the sweep are comparable
    try:
        if arguments.sweep:
            _race_sweep(arguments, config)
            return
        result = race.run_race(config, _race_progress)
    except KeyboardInterrupt:
        print("\ninterrupted: no result", file=sys.stderr)
        raise SystemExit(130) from None
    lines = [f"{arguments.task}, T = {result.lag}: chance MSE {result.chance_mse:.4f}"] + [
        f"{name:5s} test MSE {cell.test_mse:.4f}  {cell.steps} steps in {cell.seconds:.1f} s "
        f"({cell.steps_per_second:.0f} steps/s)"
        for name, cell in result.cells.items()
    ]
    _emit(result.to_json(), arguments.json, lines)


def _race_sweep(arguments, config) -> None:
    """`race --sweep`: every lag and seed of the reference, written where the race page reads it."""
    from rnndemo import models, race

    sweep = race.run_sweep(config, report=_race_progress)
    default = Path(arguments.models_dir) / models.RACE_SWEEP_FILE
    output = arguments.output or default
    race.save_sweep(sweep, output)
    if Path(output).resolve() == default.resolve():
        try:
            models.record_in_manifest(arguments.models_dir, models.RACE_SWEEP_FILE)
        except models.ModelFileError as error:
            raise UsageError(f"the sweep was written, but {error}") from error
    lines = [f"written to {output} in {sweep['total_seconds']:.0f} s"] + [
        f"{name:5s} " + ", ".join(f"T={row['lag']}: {row['median_test_mse']:.4f}" for row in rows)
        for name, rows in sweep["summary"].items()
    ]
    _emit({"output": str(output), "summary": sweep["summary"]}, arguments.json, lines)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m rnndemo", description="The Keras text-to-RNN pipeline on real IMDB data.")
    parser.add_argument(
        "--models-dir", type=Path, default=default_models_dir(), help="folder of the trained models (default: models/)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, function, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--json", action="store_true", help="machine-readable output")
        sub.add_argument("--models-dir", type=Path, default=argparse.SUPPRESS, help="folder of the trained models")
        sub.set_defaults(function=function)
        return sub

    encode = add("encode", command_encode, "Clean, tokenise and index a text.")
    encode.add_argument("text", help="the text, or - to read standard input")
    encode.add_argument(
        "--order", choices=("appearance", "frequency", "model"), default="model", help="how words are numbered"
    )
    encode.add_argument("--padding", choices=("pre", "post"), default="pre", help="where padding goes (model order)")

    predict = add(
        "predict", command_predict, "Each model's probability that a review is positive, with the running prediction."
    )
    predict.add_argument("text", help="the review, or - to read standard input")
    predict.add_argument(
        "--model", action="append", choices=CLASSIFIER_NAMES, help="which model (repeatable; default all)"
    )

    neighbors = add("neighbors", command_neighbors, "Nearest words in GloVe or in a model's trained embedding.")
    neighbors.add_argument("word")
    neighbors.add_argument("--source", choices=("glove", *NEURAL_NAMES), default="glove")
    neighbors.add_argument("-k", type=int, default=10, help="how many neighbours (1-1000)")
    neighbors.add_argument("--metric", choices=("cosine", "euclidean"), default="cosine")

    evaluate = add(
        "evaluate", command_evaluate, "Recompute held-out metrics of every cached model from the model files."
    )
    evaluate.add_argument(
        "--limit", type=whole_number(MIN_LIMIT), default=None, help=f"the first N test reviews only (N >= {MIN_LIMIT})"
    )

    train = add(
        "train",
        command_train,
        "Train every cached model (seeded, early stopping on validation) and write the models folder.",
    )
    train.add_argument(
        "--limit",
        type=whole_number(MIN_LIMIT),
        default=None,
        help=f"train on N reviews only (smoke tests; N >= {MIN_LIMIT})",
    )
    train.add_argument("--epochs", type=positive_int, default=None, help="maximum epochs")
    train.add_argument(
        "--model",
        action="append",
        choices=NEURAL_NAMES + EXPERIMENT_NAMES,
        help="train only these Keras classifiers (rnn_last: the memory experiment's last-state SimpleRNN, not served)",
    )
    train.add_argument(
        "--add",
        action="store_true",
        help="add the --model classifiers to the folder, keeping its other models (same split and vocabulary)",
    )
    train.add_argument(
        "--lm-tokens",
        type=positive_int,
        default=None,
        help="training tokens per language model (default 8,000,000; the same for both)",
    )
    train.add_argument(
        "--only",
        choices=("classifiers", "lm"),
        default=None,
        help="train only the classifiers (and baseline) or only the language models (default: both)",
    )

    next_word = add("next", command_next, "Each language model's most probable next words after the text.")
    next_word.add_argument("text", help="the text so far, or - to read standard input")
    next_word.add_argument("-k", type=bounded_int(1, 1000), default=10, help="how many words (1-1000)")

    perplexity = add("perplexity", command_perplexity, "Surprisal at every token, and perplexity, per language model.")
    perplexity.add_argument("text", help="the text, or - to read standard input")

    generate = add("generate", command_generate, "Continue the text word by word with each neural language model.")
    generate.add_argument("text", help="the prompt, or - to read standard input")
    generate.add_argument(
        "--words",
        type=bounded_int(1, LIMITS.max_generated_words),
        default=20,
        help=f"words to generate (1-{LIMITS.max_generated_words}, as on the page)",
    )
    generate.add_argument(
        "--temperature",
        type=temperature,
        default=1.0,
        help=f"from {LIMITS.min_temperature:g} to {LIMITS.max_temperature:g}, as on the page (1 = the model)",
    )
    generate.add_argument("--top-k", type=bounded_int(1, 100_000), default=None, help="sample among the K likeliest")
    generate.add_argument(
        "--seed",
        type=bounded_int(0, LIMITS.max_seed),
        default=0,
        help=f"0-{LIMITS.max_seed:,}, as on the page; the same seed gives the same text",
    )

    inspect = add("inspect", command_inspect, "Hidden states (and LSTM or GRU gates, LSTM cell states) at every token.")
    inspect.add_argument("text", help="the review, or - to read standard input")
    inspect.add_argument("--model", choices=RECURRENT_NAMES, default="lstm")

    memory = add("memory", command_memory, "Recompute the short-memory experiment (accuracy and gradient vs distance).")
    memory.add_argument("--reviews", type=positive_int, default=100, help="correctly classified reviews per label")
    memory.add_argument(
        "--output", type=writable_file, default=None, help="where to write the JSON (default: models folder)"
    )
    memory.add_argument("--force", action="store_true", help="replace an existing --output file")

    order = add(
        "order-test",
        command_order_test,
        "Each model's test accuracy with its words as written, shuffled, reversed and shuffled within sentences.",
    )
    order.add_argument(
        "--limit", type=whole_number(MIN_LIMIT), default=None, help="the first N test reviews only (not written)"
    )
    order.add_argument(
        "--output", type=writable_file, default=None, help="where to write the JSON (default: models folder)"
    )
    order.add_argument("--force", action="store_true", help="replace an existing --output file")
    order.add_argument(
        "--pairs", action="store_true", help="score the curated minimal pairs instead (nothing is written)"
    )

    export = add("export", command_export, "Export the recurrent models as TensorFlow SavedModels for TF Serving.")
    export.add_argument(
        "--output", type=new_folder, default="export", help="output folder (created; not an existing file)"
    )
    export.add_argument("--force", action="store_true", help="write into an --output folder that is not empty")

    from rnndemo.race import MAX_LAG, MAX_UNITS, MIN_LAG, TASKS

    race_command = add("race", command_race, "Race SimpleRNN, LSTM and GRU on a memory task with the same time each.")
    race_command.add_argument("--task", choices=tuple(TASKS), default="adding", help="the task (default: adding)")
    race_command.add_argument(
        "--lag", type=bounded_int(MIN_LAG, MAX_LAG), default=50, help=f"T, {MIN_LAG}-{MAX_LAG} steps"
    )
    race_command.add_argument(
        "--seconds", type=budget_seconds, default=20.0, help="wall-clock training budget per cell"
    )
    race_command.add_argument(
        "--steps", type=positive_int, default=None, help="also a step budget per cell (deterministic)"
    )
    race_command.add_argument(
        "--cells", type=race_cells, default=RECURRENT_NAMES, help="comma-separated cells (default rnn,lstm,gru)"
    )
    race_command.add_argument(
        "--units", type=bounded_int(1, MAX_UNITS), default=32, help=f"units per cell (1-{MAX_UNITS})"
    )
    race_command.add_argument(
        "--seed", type=bounded_int(0, LIMITS.max_seed), default=0, help="the same seed, the same data"
    )
    race_command.add_argument(
        "--sweep", action="store_true", help="the reference sweep: T from 10 to 200, three seeds (not --lag, --seed)"
    )
    race_command.add_argument(
        "--output", type=writable_file, default=None, help="where --sweep writes (default: the models folder)"
    )
    race_command.add_argument("--force", action="store_true", help="replace an existing --output file")

    forecast = add(
        "forecast", command_forecast, "Every forecaster's next values of a real time series (co2 or sunspots)."
    )
    forecast.add_argument("--series", choices=FORECAST_SERIES, default="co2", help="the series (default: co2)")
    forecast.add_argument(
        "--horizon", type=whole_number(1), default=13, help="steps ahead: 1-52 weeks for co2, 1-11 years for sunspots"
    )
    forecast.add_argument("--origin", required=True, help="the last date seen, YYYY-MM-DD (e.g. 2000-01-01)")
    forecast.add_argument(
        "--window",
        type=whole_number(1),
        default=None,
        help="W, the values each network reads: 26 or 52 weeks for co2, 11 or 22 years for sunspots "
        "(default: the W chosen on validation)",
    )
    add(
        "train-forecasters",
        command_train_forecasters,
        "Train the SimpleRNN, LSTM and GRU forecasters, fit the baselines, score them and record them in the manifest.",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if not hasattr(arguments, "models_dir") or arguments.models_dir is None:
        arguments.models_dir = default_models_dir()
    try:
        arguments.function(arguments)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    return 0


def quiet_native_stderr() -> None:
    """Send native writes to file descriptor 2 (TensorFlow's absl and oneDNN start-up lines) to /dev/null.

    TF_CPP_MIN_LOG_LEVEL does not cover the lines absl prints before it is initialised, nor
    oneDNN's; they are not the user's business. Python's own stderr (our one-line errors,
    progress, warnings, tracebacks) keeps the real stream. RNNDEMO_NATIVE_STDERR=1 keeps them.
    """
    if os.environ.get("RNNDEMO_NATIVE_STDERR"):
        return
    sys.stderr.flush()
    terminal = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.stderr = io.TextIOWrapper(
        os.fdopen(terminal, "wb", buffering=0),
        encoding="utf-8",
        errors="backslashreplace",
        line_buffering=True,
        write_through=True,
    )


def run() -> None:
    """The process entry point (`python -m rnndemo`, the `rnndemo` command): quiet, then `main`."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    quiet_native_stderr()
    # The library logs server paths and raw errors for operators; a CLI user gets the one-line message instead.
    import logging

    logging.getLogger("rnndemo").addHandler(logging.NullHandler())
    sys.exit(main())
