"""Subcommands beyond the core pipeline: inspect, memory, bench, export."""

from __future__ import annotations

import sys
from pathlib import Path


def command_inspect(arguments) -> None:
    from rnndemo.cli import UsageError, _emit, _load_bundle, _read_text
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
        notes.append(f"the model reads the last {len(inspection.tokens)} tokens; {inspection.cut_tokens:,} tokens were cut")
    lines = [f"{token:15s} p={probability:.4f} |h|={abs(row).mean():.3f}"
             for token, probability, row in zip(inspection.tokens, inspection.trajectory, inspection.hidden)]
    _emit(inspection.to_json(), arguments.json, lines, notes)


def command_memory(arguments) -> None:
    from rnndemo import models
    from rnndemo.cli import UsageError, _emit, _load_bundle, _progress_wanted
    from rnndemo.memory import run_memory_experiment, save_memory_experiment

    bundle = _load_bundle(arguments.models_dir)
    if bundle.baseline is None or not bundle.classifiers:
        raise UsageError("the memory experiment needs the baseline and at least one recurrent model; " + models.REBUILD_HINT)

    def progress(message: str, fraction: float) -> None:
        if _progress_wanted():
            print(f"\r[{fraction:5.0%}] {message:40s}", end="", file=sys.stderr, flush=True)

    result = run_memory_experiment(bundle, reviews_per_label=arguments.reviews, progress=progress)
    if _progress_wanted():
        print(file=sys.stderr)
    output = arguments.output or Path(arguments.models_dir) / models.MEMORY_FILE
    save_memory_experiment(result, output)
    if Path(output).resolve() == (Path(arguments.models_dir) / models.MEMORY_FILE).resolve():
        models.record_in_manifest(arguments.models_dir, models.MEMORY_FILE)
    lines = [f"written to {output}"]
    for name, values in result["models"].items():
        lines.append(f"{name}: " + ", ".join(f"N={row['distance']}: {row['accuracy']:.3f}" for row in values["accuracy"]))
    _emit({name: values["accuracy"] for name, values in result["models"].items()}, arguments.json, lines)


def command_bench(arguments) -> None:
    from rnndemo.bench import run_benchmark

    run_benchmark(arguments.models_dir, quick=arguments.quick, as_json=arguments.json, browser=arguments.browser)


def command_export(arguments) -> None:
    from rnndemo.cli import _emit, _load_bundle
    from rnndemo.export import export_saved_models

    bundle = _load_bundle(arguments.models_dir)
    written = export_saved_models(bundle, Path(arguments.output))
    _emit({name: str(path) for name, path in written.items()}, arguments.json, [f"{name}: {path}" for name, path in written.items()])


def register(add) -> None:
    """Add these subcommands through the CLI's `add` helper."""
    from rnndemo.cli import new_folder, positive_int, writable_file

    inspect = add("inspect", command_inspect, "Hidden states (and LSTM gates and cell states) at every token.")
    inspect.add_argument("text", help="the review, or - to read standard input")
    inspect.add_argument("--model", choices=("rnn", "lstm"), default="lstm")

    memory = add("memory", command_memory, "Recompute the short-memory experiment (accuracy and gradient vs distance).")
    memory.add_argument("--reviews", type=positive_int, default=100, help="correctly classified reviews per label")
    memory.add_argument("--output", type=writable_file, default=None, help="where to write the JSON (default: models folder)")

    bench = add("bench", command_bench, "Measure serving paths side by side (writes nothing).")
    bench.add_argument("--quick", action="store_true", help="fewer repetitions; under 2 minutes")
    bench.add_argument("--browser", action="store_true", help="also measure the app in Chromium")

    export = add("export", command_export, "Export the recurrent models as TensorFlow SavedModels for TF Serving.")
    export.add_argument("--output", type=new_folder, default="export", help="output folder (created; not an existing file)")
