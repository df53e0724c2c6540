"""The experiment commands: the memory experiment, the word-order test and the training race."""

from __future__ import annotations

import sys
from pathlib import Path

from rnndemo.commands.common import UsageError, check_output, emit, load_checked_bundle, progress_wanted


def command_memory(arguments) -> None:
    from rnndemo import models
    from rnndemo.memory import run_memory_experiment, save_memory_experiment

    check_output(arguments.output, arguments.models_dir, arguments.force)
    bundle = load_checked_bundle(arguments.models_dir)
    if bundle.baseline is None or not bundle.classifiers:
        raise UsageError(
            "the memory experiment needs the baseline and at least one recurrent model; " + models.REBUILD_HINT
        )

    def progress(message: str, fraction: float) -> None:
        if progress_wanted():
            print(f"\r[{fraction:5.0%}] {message:40s}", end="", file=sys.stderr, flush=True)

    try:
        result = run_memory_experiment(bundle, reviews_per_label=arguments.reviews, progress=progress)
    except models.ModelFileError as error:  # the experiment's own last-state SimpleRNN failed its check
        raise UsageError(str(error)) from error
    if progress_wanted():
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
    emit({name: values["accuracy"] for name, values in result["models"].items()}, arguments.json, lines)


def command_order_test(arguments) -> None:
    from rnndemo import data, models
    from rnndemo.order_test import ORDER_TEST_FILE, run_order_test, save_order_test

    check_output(arguments.output, arguments.models_dir, arguments.force)
    bundle = load_checked_bundle(arguments.models_dir)
    if not bundle.names():
        raise UsageError("the order test needs at least one model; " + models.REBUILD_HINT)
    if arguments.pairs:
        _minimal_pairs(bundle, arguments.json)
        return
    test = data.load_splits().test
    if arguments.limit is not None:
        test = test.iloc[: arguments.limit]

    def progress(message: str, fraction: float) -> None:
        if progress_wanted():
            print(f"\r[{fraction:5.0%}] {message:50s}", end="", file=sys.stderr, flush=True)

    result = run_order_test(bundle, test["text"].tolist(), test["label"].to_numpy(), progress=progress)
    if progress_wanted():
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
    emit({"models": result["models"], "n": result["n"], "seed": result["seed"]}, arguments.json, lines)


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
    emit({"sentences": sentences, "accuracy": accuracy}, as_json, lines)


def _race_progress(event) -> None:
    """A race's curve points, one line each, on a terminal's stderr."""
    if progress_wanted() and event.stage in ("data", "evaluate"):
        print(f"[race] {event.message}", file=sys.stderr, flush=True)


def command_race(arguments) -> None:
    from rnndemo import race, race_tasks

    try:
        config = race_tasks.RaceConfig(
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
    emit(result.to_json(), arguments.json, lines)


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
    emit({"output": str(output), "summary": sweep["summary"]}, arguments.json, lines)
