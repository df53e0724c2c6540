"""The training and scoring commands: train, evaluate, train-forecasters and forecast."""

from __future__ import annotations

import sys
from pathlib import Path

from rnndemo.commands.common import UsageError, check_output, emit, load_checked_bundle, progress_wanted


def command_evaluate(arguments) -> None:
    from rnndemo.evaluation import evaluate_bundle
    from rnndemo.next_word import evaluate_language_models, load_language_models

    bundle = load_checked_bundle(arguments.models_dir)
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
    emit(results, arguments.json, lines)


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
    emit(payload, arguments.json, lines)


def command_train_forecasters(arguments) -> None:
    from rnndemo.forecast_models import train_forecasters
    from rnndemo.models import ModelFileError

    check_output(None, arguments.models_dir, False)

    def report(message: str) -> None:
        if progress_wanted():
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
    emit({"test": summary, "training_seconds": metrics["training_seconds"]}, arguments.json, lines)


def check_training_folder(arguments) -> None:
    """`train --only lm` keeps the folder's classifiers: with none there, refuse before any work."""
    from rnndemo import models, shapes

    if arguments.only != "lm":
        return
    try:
        models.read_manifest(arguments.models_dir, required=shapes.CLASSIFIER_KEYS)
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
        if not progress_wanted():
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
    emit(summary, arguments.json, lines)


def _add_classifiers(arguments, config, report) -> dict:
    """`train --add --model …`: train those classifiers and add them to the folder beside its other models."""
    from rnndemo.training import add_classifiers

    if not arguments.model:
        raise UsageError("train --add needs at least one --model")
    try:
        return add_classifiers(arguments.models_dir, config, report)
    except ValueError as error:
        raise UsageError(str(error)) from error
