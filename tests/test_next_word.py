"""The language models end to end on tiny settings: `train --only lm` into a copy of the models folder,
then loading (verified), the CLI's JSON contracts, `evaluate`, and refusal of a tampered file."""

import json
import shutil
from dataclasses import replace

import numpy as np
import pytest

from rnndemo import models, training
from rnndemo.cli import main
from rnndemo.config import TRAINING, LanguageModelConfig
from rnndemo.next_word import evaluate_language_models, load_language_models

from .conftest import MODELS_DIR

pytestmark = pytest.mark.slow  # trains real (tiny) language models: left out of make test-fast

TINY_LM = LanguageModelConfig(
    vocabulary_size=300,
    units=8,
    token_budget=40_000,
    evaluate_every=20_000,
    validation_reviews=10,
    memory_reviews=3,
    memory_contexts=(1, 2, None),
    test_reviews=30,
    max_seconds=120,
)
TINY = replace(TRAINING, train_limit=150, parts=("language_models",), language_model=TINY_LM)
CLASSIFIER_FILES = ("rnn.keras", "lstm.keras", "baseline.json", "vocabulary.json", "heldout_predictions.csv")


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    """A copy of the committed models folder whose language models were retrained tiny."""
    folder = tmp_path_factory.mktemp("lm") / "models"
    shutil.copytree(MODELS_DIR, folder)
    events = []
    manifest = training.train_all(folder, TINY, events.append)
    return folder, manifest, events


def run(capsys, folder, *arguments):
    code = main(["--models-dir", str(folder), *arguments])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_training_only_the_language_models_keeps_the_classifiers(tiny_folder):
    folder, manifest, events = tiny_folder
    committed = models.read_manifest(MODELS_DIR)
    for file_name in CLASSIFIER_FILES:
        assert manifest["files"][file_name] == committed["files"][file_name]
        assert models.sha256_file(folder / file_name) == committed["files"][file_name]
    assert set(manifest["language_models"]) == {"rnn", "lstm", "ngram", "bigram", "unigram"}
    for entry in manifest["language_models"].values():
        assert models.sha256_file(folder / entry["file"]) == manifest["files"][entry["file"]]
        assert (folder / entry["file"]).stat().st_size <= 8_000_000
    for name in ("rnn", "lstm"):  # the same token budget for both
        assert manifest["language_models"][name]["tokens_seen"] == manifest["language_models"]["rnn"]["tokens_seen"]
    assert any(event.stage == "epoch" and event.model == "lstm" for event in events)  # progress was reported


def test_loaded_models_agree_with_the_manifest_and_evaluate(tiny_folder):
    folder, manifest, _ = tiny_folder
    loaded = load_language_models(folder)
    assert not loaded.errors and set(loaded.models) == {"rnn", "lstm", "ngram"}
    assert set(loaded.references) == {"bigram", "unigram"}
    results = evaluate_language_models(loaded, limit=TINY_LM.test_reviews)
    for name, values in results.items():
        entry = manifest["language_models"][name]["test"]
        assert values["tokens"] == entry["tokens"]
        assert values["perplexity"] == pytest.approx(entry["perplexity"], rel=1e-3)
    memory = loaded.memory_result(folder)
    assert memory["contexts"] == [1, 2, 0] and set(memory["models"]) == {"rnn", "lstm", "ngram"}
    # With the whole review as context the experiment is the plain perplexity on the same reviews.
    assert memory["models"]["ngram"][-1] == pytest.approx(
        loaded.models["ngram"].perplexity(_test_reviews(loaded, 3))[0], rel=1e-3
    )


def _test_reviews(loaded, count):
    from rnndemo import data
    from rnndemo.language_model import encode_reviews

    return encode_reviews(data.load_splits().test["text"].tolist()[:count], loaded.vocabulary)


def test_next_and_perplexity_contracts_agree(tiny_folder, capsys):
    folder, _, _ = tiny_folder
    text = "this movie was one of the best films i have seen"
    code, out, _ = run(capsys, folder, "next", text, "-k", "5", "--json")
    payload = json.loads(out)
    assert code == 0 and payload["prefix_tokens"] == text.split()
    assert set(payload["models"]) == {"rnn", "lstm", "ngram"}
    for items in payload["models"].values():
        probabilities = [item["probability"] for item in items]
        assert len(items) == 5 and probabilities == sorted(probabilities, reverse=True)
    code, out, _ = run(capsys, folder, "perplexity", text, "--json")
    scored = json.loads(out)
    assert code == 0 and scored["tokens"] == text.split()
    loaded = load_language_models(folder)
    ids = loaded.vocabulary.encode_tokens(text.split())
    words = loaded.vocabulary.words
    for name, values in scored["models"].items():
        assert len(values["surprisal"]) == len(ids)
        assert values["perplexity"] == pytest.approx(np.exp(np.mean(values["surprisal"])), rel=1e-4)
        model = loaded.models[name]
        for position in (0, 4, len(ids) - 1):  # surprisal[i] = -ln of what `next` gives after the same prefix
            expected = -np.log(model.next_distribution(ids[:position])[ids[position]])
            assert values["surprisal"][position] == pytest.approx(expected, abs=1e-4)
        distribution = model.next_distribution(ids)
        assert distribution.sum() == pytest.approx(1.0, abs=1e-9) and distribution[0] == 0.0
        top = payload["models"][name][0]
        assert words[int(np.argmax(distribution))] == top["word"]


def test_generate_is_reproducible_per_seed(tiny_folder, capsys):
    folder, _, _ = tiny_folder
    arguments = ("generate", "the film was", "--words", "12", "--temperature", "1.5", "--json")
    first = json.loads(run(capsys, folder, *arguments, "--seed", "7")[1])
    again = json.loads(run(capsys, folder, *arguments, "--seed", "7")[1])
    other = json.loads(run(capsys, folder, *arguments, "--seed", "8")[1])
    assert first == again and first["prompt"] == "the film was" and set(first["models"]) == {"rnn", "lstm"}
    assert first["models"] != other["models"]
    for values in first["models"].values():
        assert 1 <= len(values["tokens"]) <= 12 and all(0 < item["probability"] <= 1 for item in values["tokens"])


@pytest.mark.parametrize(
    "arguments, fragment",
    [
        (("next", "?!?"), "no words"),
        (("next", "good", "-k", "0"), "between 1 and 1000"),
        (("perplexity", ""), "empty"),
        (("generate", "good", "--temperature", "0"), "is not from 0.1 to 2"),
        (("generate", "good", "--temperature", "nan"), "is not from 0.1 to 2"),
        (("generate", "good", "--temperature", "2.01"), "is not from 0.1 to 2"),
        (("generate", "good", "--words", "51"), "between 1 and 50"),
        (("generate", "good", "--seed", str(2**31)), "between 0 and 2147483647"),
        (("generate", "good", "--top-k", "-3"), "between 1 and"),
    ],
)
def test_bad_input_exits_2_with_one_line(tiny_folder, capsys, arguments, fragment):
    folder, _, _ = tiny_folder
    try:
        code, _, err = run(capsys, folder, *arguments)
    except SystemExit as exit_:
        code, err = exit_.code, capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and fragment in err and "Traceback" not in err


def test_a_tampered_language_model_is_refused_by_name(tiny_folder, tmp_path, capsys):
    folder, _, _ = tiny_folder
    copy = tmp_path / "models"
    shutil.copytree(folder, copy)
    with open(copy / "lm_lstm.keras", "r+b") as handle:
        handle.seek(300)
        handle.write(b"tampered!")
    loaded = load_language_models(copy)
    assert "lm_lstm.keras" in loaded.errors["lstm"] and set(loaded.models) == {"rnn", "ngram"}
    code, out, err = run(capsys, copy, "next", "a fine", "--json")
    assert code == 0 and set(json.loads(out)["models"]) == {"rnn", "ngram"} and "lm_lstm.keras" in err


def test_repeats_are_words_seen_within_the_window_before_them():
    from rnndemo.next_word import Repeat, repeats, repetition_note

    words = "the film the film was the best film".split()
    assert repeats(words, window=2) == [Repeat(2, "the", 2), Repeat(3, "film", 2)]
    assert repeats(words, window=5) == [
        Repeat(2, "the", 2),
        Repeat(3, "film", 2),
        Repeat(5, "the", 3),
        Repeat(7, "film", 4),
    ]
    assert repetition_note(words, window=2) == (
        "2 of 8 generated words repeat a word from the 2 tokens before them: 'the' (step 3, 2 back), "
        "'film' (step 4, 2 back)."
    )
    assert repetition_note(["a", "b"]) == "No generated word repeats a word from the 5 tokens before it."


def test_with_unknown_excluded_no_generation_of_the_served_models_holds_it(language_models):
    """The page's default: across 50 seeded continuations of a text that makes [UNK] likely, neither recurrent
    language model ever writes [UNK]; with the switch off, they do."""
    from rnndemo.next_word import continuation
    from rnndemo.vocab import OOV_TOKEN

    words = language_models.vocabulary.words
    ids = language_models.vocabulary.encode_tokens("this movie was one of the".split())
    for name, model in language_models.neural_models().items():
        excluded = [continuation(model, ids, words, 12, 1.0, None, seed, exclude_unknown=True) for seed in range(50)]
        assert all(item.word != OOV_TOKEN for generated in excluded for item in generated), name
        assert all(OOV_TOKEN not in dict(item.alternatives) for generated in excluded for item in generated), name
        kept = [continuation(model, ids, words, 12, 1.0, None, seed) for seed in range(50)]
        assert any(item.word == OOV_TOKEN for generated in kept for item in generated), name
