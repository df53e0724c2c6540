"""Experiment driver for the recurrent classifiers (issue 13): one configuration per run, chosen on validation.

    python -m benchmarks.classifier_experiments --model lstm --units 256 --initialise-from language_model \\
        --spatial-dropout 0.25 --output-dropout 0.3 [--readout last|mean] [--dropout 0] [--learning-rate 1e-3] \\
        [--max-epochs 15] [--patience 2] [--log /tmp/classifier_experiments.jsonl]

It trains through `rnndemo.training_loop.train_recurrent` (the code `train` runs) and appends one JSON line to the
log: the command, seconds, epochs, and the validation accuracy at the kept epoch. It never reads the test
split: test accuracy is measured once, by `python -m rnndemo evaluate`, for the configurations finally chosen.
The prepared splits are cached in /tmp/classifier_prepared.pkl (derived from the installed data).
"""

from __future__ import annotations

import argparse
import json
import pickle
import shlex
import sys
from dataclasses import replace
from pathlib import Path

from rnndemo.config import TRAINING, ClassifierConfig, default_models_dir
from rnndemo.registry import RECURRENT_NAMES
from rnndemo.training import prepare_data, pretrained_language_model
from rnndemo.training_loop import PreparedData, train_recurrent

CACHE = Path("/tmp/classifier_prepared.pkl")


def prepared_data() -> PreparedData:
    if CACHE.exists():
        with open(CACHE, "rb") as handle:  # our own file, written below
            return pickle.load(handle)
    prepared = prepare_data(TRAINING, lambda event: None)
    with open(CACHE, "wb") as handle:
        pickle.dump(prepared, handle)
    return prepared


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.classifier_experiments")
    parser.add_argument("--model", choices=RECURRENT_NAMES, required=True)
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--readout", choices=("last", "mean"), default="last")
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--spatial-dropout", type=float, default=0.0)
    parser.add_argument("--output-dropout", type=float, default=0.0)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--learning-rate-decay", type=float, default=1.0)
    parser.add_argument("--select-by", choices=("loss", "accuracy"), default="loss")
    parser.add_argument("--initialise-from", choices=("glove", "language_model"), default="glove")
    parser.add_argument("--max-epochs", type=int, default=TRAINING.max_epochs)
    parser.add_argument("--patience", type=int, default=TRAINING.patience)
    parser.add_argument("--log", type=Path, default=Path("/tmp/classifier_experiments.jsonl"))
    arguments = parser.parse_args(argv)
    choice = ClassifierConfig(
        arguments.model,
        units=arguments.units,
        readout=arguments.readout,
        dropout=arguments.dropout,
        spatial_dropout=arguments.spatial_dropout,
        output_dropout=arguments.output_dropout,
        learning_rate=arguments.learning_rate,
        initialise_from=arguments.initialise_from,
        learning_rate_decay=arguments.learning_rate_decay,
        select_by=arguments.select_by,
    )
    config = replace(TRAINING, classifiers=(choice,), max_epochs=arguments.max_epochs, patience=arguments.patience)
    prepared = prepared_data()
    pretrained = None
    if choice.initialise_from == "language_model":
        pretrained = pretrained_language_model(default_models_dir(), prepared.vocabulary)
        if pretrained is None or not pretrained.fits(choice.units):
            print("no LSTM language model of that size in the models folder", file=sys.stderr)
            return 2

    def report(event) -> None:
        if event.stage == "epoch":
            print(event.message, flush=True)

    trained = train_recurrent(arguments.model, prepared, config, report, pretrained.model if pretrained else None)
    kept = trained.best_epoch - 1
    row = {
        "command": "python -m benchmarks.classifier_experiments "
        + shlex.join(argv if argv is not None else sys.argv[1:]),
        "seconds": round(trained.seconds, 1),
        "epochs": trained.epochs,
        "best_epoch": trained.best_epoch,
        "validation_accuracy": trained.history["val_accuracy"][kept],
        "validation_loss": trained.history["val_loss"][kept],
        "history": trained.history,
    }
    with open(arguments.log, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(row) + "\n")
    print(json.dumps({key: value for key, value in row.items() if key != "history"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
