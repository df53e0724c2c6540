"""The language-model commands: next, perplexity and generate."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from rnndemo.commands.common import UsageError, emit, read_text
from rnndemo.config import LIMITS
from rnndemo.vocab import END_TOKEN, truncation_note


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
    tokens, ids = _language_model_ids(language_models, read_text(arguments.text, notes), notes)
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
    emit(payload, arguments.json, lines, notes)


def command_perplexity(arguments) -> None:
    notes: list[str] = []
    language_models = _load_language_models(arguments.models_dir)
    tokens, ids = _language_model_ids(language_models, read_text(arguments.text, notes), notes)
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
    emit(payload, arguments.json, lines, notes)


def command_generate(arguments) -> None:
    notes: list[str] = []
    language_models = _load_language_models(arguments.models_dir)
    text = read_text(arguments.text, notes)
    _, ids = _language_model_ids(language_models, text, notes)
    words = language_models.vocabulary.words
    payload = {"prompt": text, "models": {}}
    for name, model in language_models.neural_models().items():
        drawn = model.generate(
            ids, arguments.words, temperature=arguments.temperature, top_k=arguments.top_k, seed=arguments.seed
        )
        generated = [{"word": words[index], "probability": round(probability, 6)} for index, probability in drawn]
        payload["models"][name] = {
            "text": " ".join(item["word"] for item in generated if item["word"] != END_TOKEN),
            "tokens": generated,
        }
    lines = [f"{name}: {values['text']}" for name, values in payload["models"].items()]
    emit(payload, arguments.json, lines, notes)
