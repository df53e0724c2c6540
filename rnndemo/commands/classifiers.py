"""The classifier commands: encode, predict, neighbors, inspect and export."""

from __future__ import annotations

from pathlib import Path

from rnndemo.commands.common import UsageError, check_output, emit, load_checked_bundle, read_text
from rnndemo.config import LIMITS
from rnndemo.vocab import truncation_note


def command_encode(arguments) -> None:
    from rnndemo import text as text_module
    from rnndemo.vocab import OOV_INDEX

    notes: list[str] = []
    text = read_text(arguments.text, notes)
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
    emit(payload, arguments.json, [f"{token}\t{index}" for token, index in zip(tokens, payload["ids"])], notes)


def command_predict(arguments) -> None:
    from rnndemo.serving import EmptyTextError

    notes: list[str] = []
    text = read_text(arguments.text, notes)
    bundle = load_checked_bundle(arguments.models_dir, arguments.model)
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
    emit(payload, arguments.json, lines, notes)


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
        bundle = load_checked_bundle(arguments.models_dir, [arguments.source])
        space = bundle.classifiers[arguments.source].embedding_space
    try:
        neighbors = space.neighbors(word, arguments.k, arguments.metric)
    except UnknownWordError as error:
        raise UsageError(str(error)) from error
    payload = [{"word": neighbor.word, "similarity": round(neighbor.similarity, 6)} for neighbor in neighbors]
    emit(payload, arguments.json, [f"{item['word']}\t{item['similarity']:.4f}" for item in payload])


def command_inspect(arguments) -> None:
    from rnndemo.inspect import Inspector
    from rnndemo.serving import EmptyTextError

    notes: list[str] = []
    text = read_text(arguments.text, notes)
    bundle = load_checked_bundle(arguments.models_dir, [arguments.model])
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
    emit(inspection.to_json(), arguments.json, lines, notes)


def command_export(arguments) -> None:
    from rnndemo.export import export_saved_models

    check_output(Path(arguments.output), arguments.models_dir, arguments.force)
    bundle = load_checked_bundle(arguments.models_dir)
    written = export_saved_models(bundle, Path(arguments.output))
    emit(
        {name: str(path) for name, path in written.items()},
        arguments.json,
        [f"{name}: {path}" for name, path in written.items()],
    )
