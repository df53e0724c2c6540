"""Experiment driver for the word-level language models (issue 12).

    python -m benchmarks.lm_experiments train --kind lstm --tokens 6000000 [--units 256] [--out /tmp/lm_final]
    python -m benchmarks.lm_experiments test  --out /tmp/lm_final    # test perplexity of the saved models
    python -m benchmarks.lm_experiments speed --out /tmp/lm_final    # serving latency, warm, one process
    python -m benchmarks.lm_experiments memory --out /tmp/lm_final   # context-limited test perplexity

Configurations are compared by validation perplexity only; `test` is run for the chosen ones.
Encoded splits are cached in /tmp/lm_cache.npz (derived from the installed data, not downloaded).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from benchmarks.bench import fresh_texts
from rnndemo.config import LanguageModelConfig, default_models_dir
from rnndemo.language_model import LanguageModel, LanguageModelVocabulary, encode_reviews, language_model_glove_matrix
from rnndemo.language_model_training import review_stream, train_language_model
from rnndemo.models import VOCABULARY_FILE
from rnndemo.vocab import Vocabulary

CACHE = Path("/tmp/lm_cache.npz")
MEMORY_CONTEXTS = (1, 2, 4, 8, 16, 32, None)


def vocabulary_for(size: int) -> LanguageModelVocabulary:
    return LanguageModelVocabulary.from_vocabulary(Vocabulary.load(default_models_dir() / VOCABULARY_FILE), size)


def encoded_splits(vocabulary: LanguageModelVocabulary) -> dict[str, list[list[int]]]:
    """LM ids of every split (cached per vocabulary size)."""
    key = f"size{vocabulary.classifier_size}"
    if CACHE.exists():
        stored = np.load(CACHE, allow_pickle=False)
        if f"{key}_train_ids" in stored:
            return {
                split: [
                    ids.tolist() for ids in np.split(stored[f"{key}_{split}_ids"], stored[f"{key}_{split}_ends"][:-1])
                ]
                for split in ("train", "validation", "test")
            }
    from rnndemo.data import load_splits

    splits = load_splits()
    encoded = {
        split: encode_reviews(getattr(splits, split)["text"], vocabulary) for split in ("train", "validation", "test")
    }
    arrays = {}
    for split, reviews in encoded.items():
        arrays[f"{key}_{split}_ids"] = np.concatenate([np.asarray(ids, dtype=np.int32) for ids in reviews])
        arrays[f"{key}_{split}_ends"] = np.cumsum([len(ids) for ids in reviews])
    np.savez(CACHE, **arrays)
    return encoded


def print_event(event) -> None:
    if event.stage == "epoch":
        print(f"  {event.message}  ({event.metrics})", flush=True)
    elif event.stage == "batch" and event.batch % 500 == 0:
        print(
            f"  batch {event.batch}/{event.batches} loss {event.metrics['loss']:.3f} eta {event.eta_seconds:.0f}s",
            flush=True,
        )


def command_train(arguments) -> None:
    import keras

    config = replace(
        LanguageModelConfig(),
        vocabulary_size=arguments.vocabulary,
        units=arguments.units,
        token_budget=arguments.tokens,
        learning_rate=arguments.learning_rate,
        decay_to=arguments.decay_to,
        window=arguments.window,
        tied=not arguments.untied,
        max_seconds=arguments.max_seconds,
        evaluate_every=arguments.evaluate_every,
    )
    vocabulary = vocabulary_for(config.vocabulary_size)
    splits = encoded_splits(vocabulary)
    matrix = None
    if not arguments.no_glove:
        matrix, hits, misses = language_model_glove_matrix(vocabulary, seed=config.seed)
        print(f"GloVe rows: {hits} hits, {misses} misses")
    command = " ".join(shlex.quote(part) for part in sys.argv)
    print(f"$ {command}\nconfig: {config}", flush=True)
    result = train_language_model(
        arguments.kind, splits["train"], splits["validation"], config, print_event, embedding_matrix=matrix
    )
    print(
        f"RESULT {arguments.name or arguments.kind}: seconds {result.seconds:.0f}  tokens {result.tokens_seen:,}  "
        f"best validation perplexity {result.best_validation_perplexity:.1f} (at {result.best_tokens:,} tokens; "
        f"stop: {result.stop_reason})",
        flush=True,
    )
    out = Path(arguments.out)
    out.mkdir(parents=True, exist_ok=True)
    name = arguments.name or f"lm_{arguments.kind}"
    path = out / f"{name}.keras"
    result.model.save(path)
    record = {
        "command": command,
        "kind": result.kind,
        "config": asdict(config),
        "seconds": round(result.seconds, 1),
        "tokens_seen": result.tokens_seen,
        "best_validation_perplexity": round(result.best_validation_perplexity, 2),
        "best_tokens": result.best_tokens,
        "stop_reason": result.stop_reason,
        "history": result.history,
        "parameters": int(result.model.count_params()),
        "file_bytes": path.stat().st_size,
        "validation_subset_reviews": min(config.validation_reviews, len(splits["validation"])),
    }
    (out / f"{name}.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    print(f"saved {path} ({path.stat().st_size / 1e6:.2f} MB)")
    keras.backend.clear_session()


def load_served(out: Path, name: str, size: int) -> LanguageModel:
    import keras

    from rnndemo.language_model_layers import custom_layers

    custom_layers()  # registers the custom layers before loading
    model = keras.saving.load_model(out / f"{name}.keras", compile=False, safe_mode=True)
    return LanguageModel(name, model, vocabulary_for(size))


def command_test(arguments) -> None:
    out = Path(arguments.out)
    vocabulary = vocabulary_for(arguments.vocabulary)
    splits = encoded_splits(vocabulary)
    # Unigram floor (add-one on the train stream, padding excluded), on the same predicted tokens.
    stream = review_stream(splits["train"], vocabulary.end_index)
    counts = np.bincount(stream[1:], minlength=len(vocabulary)).astype(np.float64) + 1.0
    counts[0] = 0.0
    with np.errstate(divide="ignore"):  # padding: probability 0, never a target
        log_probability = np.log(counts / counts.sum())
    test_targets = np.concatenate([np.asarray(ids + [vocabulary.end_index]) for ids in splits["test"]])
    unigram = float(np.exp(-log_probability[test_targets].mean()))
    print(f"unigram (add-one) test perplexity {unigram:.1f} over {len(test_targets):,} tokens")
    for name in arguments.names:
        record_path = out / f"{name}.json"
        served = load_served(out, name, arguments.vocabulary)
        started = time.perf_counter()
        perplexity, tokens = served.perplexity(splits["test"])
        validation, validation_tokens = served.perplexity(splits["validation"])
        print(
            f"{name}: test perplexity {perplexity:.1f} over {tokens:,} tokens; full validation {validation:.1f} "
            f"({validation_tokens:,}); {time.perf_counter() - started:.0f} s"
        )
        record = json.loads(record_path.read_text(encoding="utf-8"))
        record.update(
            {
                "test_perplexity": round(perplexity, 2),
                "test_tokens": tokens,
                "validation_perplexity_full": round(validation, 2),
                "unigram_test_perplexity": round(unigram, 2),
            }
        )
        record_path.write_text(json.dumps(record, indent=2), encoding="utf-8")


def command_speed(arguments) -> None:
    from rnndemo.serving import configure_tensorflow_for_serving

    configure_tensorflow_for_serving()  # as the app serves: one intra-op thread per call
    import tensorflow as tf

    out = Path(arguments.out)
    vocabulary = vocabulary_for(arguments.vocabulary)
    splits = encoded_splits(vocabulary)
    long_review = next(ids for ids in splits["test"] if len(ids) >= 400)[:400]
    for name in arguments.names:
        served = load_served(out, name, arguments.vocabulary)
        prefix = long_review[:50]

        def timed(function, repeats):
            function()  # warm
            samples = []
            for _ in range(repeats):
                started = time.perf_counter()
                function()
                samples.append((time.perf_counter() - started) * 1000)
            return float(np.median(samples))

        context = np.asarray([[vocabulary.end_index] + prefix], dtype=np.int32)
        predict = timed(lambda: served.model.predict(context, verbose=0), 10)
        tensor = tf.constant(context)
        direct = timed(lambda: served.model(tensor, training=False), 10)
        # Each timed call reads a new text: the served model keeps recent texts' readings.
        new_prefix, new_review = (fresh_texts(ids, served.vocabulary_size) for ids in (prefix, long_review))
        distribution = timed(lambda: served.next_distribution(new_prefix()), 30)
        generate = timed(
            lambda: served.generate(new_prefix(), 50, temperature=1.0, top_k=40, seed=0, stop_at_end=False), 5
        )
        surprisal = timed(lambda: served.surprisal(new_review(), include_end=True), 10)
        print(
            f"{name}: next_distribution(50-token prefix) p50 {distribution:.1f} ms (model.predict {predict:.1f} ms, "
            f"model() {direct:.1f} ms); generate 50 words p50 {generate:.0f} ms; "
            f"surprisal of 400 tokens p50 {surprisal:.0f} ms"
        )
        words = vocabulary.decode(
            [
                index
                for index, _ in served.generate(
                    vocabulary.encode_tokens("this movie was".split()), 30, temperature=0.8, top_k=40, seed=1
                )
            ]
        )
        print(f"  sample: this movie was {' '.join(words)}")


def command_memory(arguments) -> None:
    out = Path(arguments.out)
    vocabulary = vocabulary_for(arguments.vocabulary)
    test = encoded_splits(vocabulary)["test"]
    subset, total = [], 0
    for ids in test:  # fixed subset: the first test reviews up to ~20k predicted tokens
        if total >= arguments.memory_tokens:
            break
        subset.append(ids)
        total += len(ids) + 1
    for name in arguments.names:
        served = load_served(out, name, arguments.vocabulary)
        rows = {}
        for context in MEMORY_CONTEXTS:
            started = time.perf_counter()
            perplexity, tokens = served.context_limited_perplexity(subset, context)
            rows["all" if context is None else str(context)] = round(perplexity, 2)
            print(
                f"{name}: context {context or 'all'}: perplexity {perplexity:.1f} over {tokens:,} tokens "
                f"({time.perf_counter() - started:.1f} s)",
                flush=True,
            )
        record_path = out / f"{name}.json"
        record = json.loads(record_path.read_text(encoding="utf-8"))
        record["memory"] = {"reviews": len(subset), "tokens": total, "perplexity_by_context": rows}
        record_path.write_text(json.dumps(record, indent=2), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("train", "test", "speed", "memory"))
    parser.add_argument("--kind", choices=("rnn", "lstm"), default="lstm")
    parser.add_argument("--name", default="")
    parser.add_argument("--names", nargs="+", default=["lm_rnn", "lm_lstm"])
    parser.add_argument("--tokens", type=int, default=LanguageModelConfig.token_budget)
    parser.add_argument("--units", type=int, default=LanguageModelConfig.units)
    parser.add_argument("--vocabulary", type=int, default=LanguageModelConfig.vocabulary_size)
    parser.add_argument("--learning-rate", type=float, default=LanguageModelConfig.learning_rate)
    parser.add_argument("--decay-to", type=float, default=LanguageModelConfig.decay_to)
    parser.add_argument("--window", type=int, default=LanguageModelConfig.window)
    parser.add_argument("--evaluate-every", type=int, default=LanguageModelConfig.evaluate_every)
    parser.add_argument("--max-seconds", type=float, default=LanguageModelConfig.max_seconds)
    parser.add_argument("--untied", action="store_true")
    parser.add_argument("--no-glove", action="store_true")
    parser.add_argument("--memory-tokens", type=int, default=20_000)
    parser.add_argument("--out", default="/tmp/lm_final")
    arguments = parser.parse_args()
    {"train": command_train, "test": command_test, "speed": command_speed, "memory": command_memory}[arguments.command](
        arguments
    )


if __name__ == "__main__":
    main()
