"""`python -m rnndemo` (or `rnndemo`): the pipeline from the command line, its front door.

Every subcommand has --help and --json. Bad input exits with code 2 and one
line on stderr, never a traceback. The commands live in rnndemo/commands/, one module per concern;
this module parses the arguments and runs the command.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path

from rnndemo.commands.classifiers import (
    command_encode,
    command_export,
    command_inspect,
    command_neighbors,
    command_predict,
)
from rnndemo.commands.common import (
    MIN_LIMIT,
    UsageError,
    bounded_int,
    budget_seconds,
    new_folder,
    positive_int,
    race_cells,
    temperature,
    whole_number,
    writable_file,
)
from rnndemo.commands.experiments import command_memory, command_order_test, command_race
from rnndemo.commands.language import command_generate, command_next, command_perplexity
from rnndemo.commands.train import command_evaluate, command_forecast, command_train, command_train_forecasters
from rnndemo.config import LIMITS, default_models_dir
from rnndemo.registry import CLASSIFIER_NAMES, EXPERIMENT_NAMES, FORECAST_SERIES, NEURAL_NAMES, RECURRENT_NAMES


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (the full usage stays in --help)."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


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

    from rnndemo.race_tasks import MAX_LAG, MAX_UNITS, MIN_LAG, TASKS

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
