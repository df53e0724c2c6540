"""The DFN and the 1-D CNN against numpy on random weights, and the word-order test: its reorderings keep the
words a model reads, and the DFN's accuracy never moves under them (order-blind by construction)."""

import functools
from collections import Counter

import numpy as np
import pytest

from rnndemo import models, order_test, shapes
from rnndemo.serving import Bundle, Classifier
from rnndemo.text import tokenize
from rnndemo.vocab import OOV_TOKEN, PADDING_TOKEN, Vocabulary, pad_batch

WORDS = [PADDING_TOKEN, OOV_TOKEN] + [f"w{index}" for index in range(38)]
IDS = [5, 9, 2, 17, 30, 4, 4, 11, 25, 3, 8, 39]
REVIEWS = [
    "w3 w4 w5. w6 w7 w8 w9! w10 w11<br />w12 w13 w14?",
    "w20 w21 w22 w23. w24 w25 w26. w27 w28 w29 w30 w31 w32 w33 w34 w35",
    "w2 w2 w3. w9 w10 w11 w12 w13. w14 w15 w16 w17 w18 w19 w20 w21 w22 w23 w24 w25 w26 w27",
]


@functools.cache
def _classifier(kind: str, seed: int = 3, sequence_length: int = 400) -> Classifier:
    """A seeded DFN or CNN, built and traced once per process: the tests only read it."""
    import keras

    keras.utils.set_random_seed(seed)
    architecture = models.ModelArchitecture(
        kind, len(WORDS), 6, 5, spatial_dropout=0.2, output_dropout=0.3, kernel_widths=(2, 3)
    )
    model = models.build_model(architecture)
    model.set_weights([weight * 3 for weight in model.get_weights()])  # larger weights: outputs vary
    return Classifier(kind, model, Vocabulary(WORDS), sequence_length)


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-values))


def numpy_dfn(model, ids: list[int]) -> np.ndarray:
    """The DFN's running prediction recomputed: mean of the vectors so far -> relu(Dense) -> sigmoid(Dense)."""
    vectors = model.get_layer("embedding").get_weights()[0][np.asarray(ids)]  # (time, embedding_dim)
    means = np.cumsum(vectors, axis=0) / np.arange(1, len(ids) + 1)[:, None]
    hidden_kernel, hidden_bias = model.get_layer("hidden").get_weights()
    kernel, bias = model.get_layer("classifier").get_weights()
    return _sigmoid(np.maximum(means @ hidden_kernel + hidden_bias, 0) @ kernel + bias)[:, 0]


def numpy_cnn(model, ids: list[int]) -> np.ndarray:
    """The CNN's running prediction recomputed: causal convolutions (zeros before the first word), relu, running
    maximum per feature, concatenated -> sigmoid(Dense)."""
    vectors = model.get_layer("embedding").get_weights()[0][np.asarray(ids)]  # (time, embedding_dim)
    maxima = []
    for convolution in models.convolutions_of(model):
        kernel, bias = convolution.get_weights()  # (width, embedding_dim, filters), (filters,)
        width = kernel.shape[0]
        padded = np.concatenate([np.zeros((width - 1, vectors.shape[1])), vectors])
        features = np.stack(
            [np.einsum("wd,wdf->f", padded[t : t + width], kernel) + bias for t in range(len(ids))]
        )  # (time, filters)
        maxima.append(np.maximum.accumulate(np.maximum(features, 0), axis=0))
    kernel, bias = model.get_layer("classifier").get_weights()
    return _sigmoid(np.concatenate(maxima, axis=1) @ kernel + bias)[:, 0]


@pytest.mark.parametrize("kind, reference", [("dfn", numpy_dfn), ("cnn", numpy_cnn)])
def test_running_prediction_matches_numpy_and_the_model_on_every_prefix(kind, reference):
    """A teacher trusts the DFN's and CNN's running predictions: each point is numpy's and the model's own
    verdict on the review cut there."""
    classifier = _classifier(kind)
    expected = reference(classifier.model, IDS)
    trajectory, _ = classifier.run_steps(np.asarray([IDS], dtype=np.int32))
    np.testing.assert_allclose(trajectory[0], expected, rtol=1e-5, atol=1e-6)
    prefixes = [float(classifier.model(np.asarray([IDS[:t]], dtype=np.int32))[0, 0]) for t in range(1, len(IDS) + 1)]
    np.testing.assert_allclose(prefixes, expected, rtol=1e-5, atol=1e-6)
    assert np.ptp(expected) > 0.01  # the weights are large enough for the check to mean something


@pytest.mark.parametrize("kind", ["dfn", "cnn"])
def test_padding_changes_nothing(kind):
    """A review scored alone or padded in a batch beside a longer one gets the same probability."""
    classifier = _classifier(kind)
    alone = classifier.predict_ids_exact(np.asarray([IDS[:5]], dtype=np.int32))
    padded = classifier.predict_ids_exact(pad_batch([IDS[:5], IDS], len(IDS)))
    np.testing.assert_allclose(padded[0], alone[0], rtol=1e-6)


def test_dfn_is_order_blind_and_cnn_is_not():
    """Shuffling the ids leaves the DFN's probability where it was, but moves the CNN's (it reads local order)."""
    rng = np.random.default_rng(0)
    shuffled = [IDS[index] for index in rng.permutation(len(IDS))]
    dfn, cnn = _classifier("dfn"), _classifier("cnn")
    np.testing.assert_allclose(dfn.predict_ids([shuffled]), dfn.predict_ids([IDS]), rtol=1e-6, atol=1e-7)
    assert abs(cnn.predict_ids([shuffled])[0] - cnn.predict_ids([IDS])[0]) > 1e-4


def test_sentences_join_to_the_reviews_tokens():
    """Splitting a review into sentences loses no word: the sentences' tokens, joined, are the review's."""
    for review in REVIEWS + ["Not bad at all. Really!! <br/><br/>Great...fun?no"]:
        assert [token for sentence in order_test.sentences(review) for token in sentence] == tokenize(review)
    expected = [["w3", "w4", "w5"], ["w6", "w7", "w8", "w9"], ["w10", "w11"], ["w12", "w13", "w14"]]
    assert order_test.sentences(REVIEWS[0]) == expected


def test_every_condition_keeps_the_words_the_model_reads():
    """Each reordering is a permutation of the last `sequence_length` tokens; reversal reverses them; a shuffle
    within sentences leaves every sentence's words in its own place; the same seed gives the same text."""
    sequence_length = 12
    reviews = order_test.reordered_reviews(REVIEWS, sequence_length, seed=5)
    for row, review in enumerate(REVIEWS):
        read = tokenize(review)[-sequence_length:]
        assert reviews["original"][row] == read
        assert reviews["reversed"][row] == read[::-1]
        for condition in order_test.CONDITIONS:
            assert Counter(reviews[condition][row]) == Counter(read)
        sentence_of = [index for index, sentence in enumerate(order_test.sentences(review)) for _ in sentence]
        sentence_of = sentence_of[-sequence_length:]
        for sentence in set(sentence_of):
            positions = [index for index, value in enumerate(sentence_of) if value == sentence]
            reordered = reviews["sentence_shuffled"][row]
            assert Counter(reordered[p] for p in positions) == Counter(read[p] for p in positions)
    assert any(reviews["shuffled"][row] != reviews["original"][row] for row in range(len(REVIEWS)))
    assert order_test.reordered_reviews(REVIEWS, sequence_length, seed=5) == reviews
    assert order_test.reordered_reviews(REVIEWS, sequence_length, seed=6)["shuffled"] != reviews["shuffled"]


def test_dfn_loses_exactly_nothing_in_the_order_test():
    """The order test's headline: the DFN's accuracy is the same under every reordering, to the last review,
    and its probabilities agree to float tolerance; the CNN's do not all agree."""
    texts = REVIEWS * 8
    labels = np.asarray([0, 1, 1] * 8)
    bundle = Bundle(None, {"sequence_length": 400}, Vocabulary(WORDS))
    bundle.classifiers = {"dfn": _classifier("dfn"), "cnn": _classifier("cnn")}
    result = order_test.run_order_test(bundle, texts, labels)
    scores = result["models"]["dfn"]
    assert scores["shuffled"] == scores["reversed"] == scores["sentence_shuffled"] == scores["original"]
    assert result["verdicts_changed"]["dfn"] == {"shuffled": 0.0, "reversed": 0.0, "sentence_shuffled": 0.0}
    assert order_test.drops(result)["dfn"] == {"shuffled": 0.0, "reversed": 0.0, "sentence_shuffled": 0.0}
    reviews = order_test.reordered_reviews(texts, 400)
    original = order_test.model_probabilities(bundle, "dfn", reviews["original"])
    for condition in order_test.CONDITIONS[1:]:
        reordered = order_test.model_probabilities(bundle, "dfn", reviews[condition])
        np.testing.assert_allclose(reordered, original, rtol=1e-6, atol=1e-7)
        cnn_moved = order_test.model_probabilities(bundle, "cnn", reviews[condition])
        assert np.abs(cnn_moved - order_test.model_probabilities(bundle, "cnn", reviews["original"])).max() > 1e-4
    assert shapes.shape_problem(result, order_test.ORDER_TEST_SHAPE) is None


def test_claim_is_computed_from_the_numbers():
    """The page's sentence says what the file says, and 'none' only for a drop of exactly 0."""
    result = {
        "n": 2500,
        "models": {
            "lstm": {"original": 0.9, "shuffled": 0.85, "reversed": 0.88, "sentence_shuffled": 0.89},
            "dfn": {"original": 0.86, "shuffled": 0.86, "reversed": 0.86, "sentence_shuffled": 0.86},
        },
    }
    sentence = order_test.claim(result, {"lstm": "LSTM", "dfn": "DFN"})
    assert sentence == (
        "On 2,500 held-out test reviews, shuffling the words costs the LSTM 5.0 accuracy points and the DFN none."
    )


def test_committed_order_test_shows_the_dfn_unmoved(bundle):
    """The committed file (listed in the manifest, verified) measured the whole test split, and the DFN's
    accuracy is identical in its four columns."""
    result = order_test.load_order_test(bundle.models_dir, bundle.manifest)
    if result is None:
        pytest.skip("no committed order test (python -m rnndemo order-test)")
    assert result["n"] == bundle.manifest["split"]["test"]
    assert set(result["models"]) >= {"rnn", "lstm", "gru", "dfn", "cnn", "baseline"}
    scores = result["models"]["dfn"]
    assert scores["shuffled"] == scores["reversed"] == scores["sentence_shuffled"] == scores["original"]


def test_order_test_command_prints_the_contract_and_writes_nothing_when_limited(capsys, shared_cli_bundle):
    """`order-test --limit 10 --json` prints {"models": {name: four accuracies}} for every model, the DFN's four
    equal, and leaves the committed file and manifest alone; `--pairs` scores the minimal pairs."""
    import json

    from rnndemo.cli import main

    from .conftest import MODELS_DIR

    manifest_before = (MODELS_DIR / models.MANIFEST_FILE).read_bytes()
    assert main(["--models-dir", str(MODELS_DIR), "order-test", "--limit", "10", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert set(payload["models"]) == set(shared_cli_bundle.names()) and payload["n"] == 10
    for scores in payload["models"].values():
        assert list(scores) == list(order_test.CONDITIONS)
    assert len(set(payload["models"]["dfn"].values())) == 1
    assert (MODELS_DIR / models.MANIFEST_FILE).read_bytes() == manifest_before
    assert main(["--models-dir", str(MODELS_DIR), "order-test", "--pairs", "--json"]) == 0
    pairs = json.loads(capsys.readouterr().out)
    assert len(pairs["sentences"]) == 2 * len(order_test.MINIMAL_PAIRS)
    assert pairs["accuracy"] == order_test.pair_accuracy(shared_cli_bundle)


def test_swap_exchanges_exactly_the_two_chosen_words():
    """Swapping positions 4 and 7 (counted from 1, as the page shows them) of the lesson's contrast sentence
    gives the hand-written sentence, in either order of the positions, and leaves the input list untouched."""
    tokens = ["i", "expected", "to", "hate", "it", "but", "loved", "it"]
    expected = ["i", "expected", "to", "loved", "it", "but", "hate", "it"]
    assert order_test.swap_words(tokens, 4, 7) == expected
    assert order_test.swap_words(tokens, 7, 4) == expected
    assert order_test.swap_words(tokens, 1, 8) == ["it", "expected", "to", "hate", "it", "but", "loved", "i"]
    assert tokens == ["i", "expected", "to", "hate", "it", "but", "loved", "it"]
    assert order_test.swap_problem(tokens, 4, 7) is None
    assert order_test.words_read("I expected to hate it, but LOVED it!", 400) == tokens
    assert order_test.words_read("I expected to hate it, but LOVED it!", 3) == ["but", "loved", "it"]


@pytest.mark.parametrize(
    "tokens, first, second, message",
    [
        (["not", "bad"], 2, 2, "Pick two different positions: both are position 2 (“bad”)."),
        (["great"], 1, 2, "A swap needs two words; this review has one word (“great”)."),
        ([], 1, 2, "A swap needs two words; this review has no words."),
        (["not", "bad", "at", "all"], 2, 5, "Position 5 is out of range: the review has 4 words, so pick positions"),
        (["not", "bad", "at", "all"], 0, 3, "Position 0 is out of range: the review has 4 words, so pick positions"),
    ],
)
def test_swap_refuses_bad_positions_with_a_clear_message(tokens, first, second, message):
    """The same position twice, a review of fewer than two words, or a position outside 1..n: a ValueError whose
    sentence says which, as the page shows it."""
    with pytest.raises(ValueError) as raised:
        order_test.swap_words(tokens, first, second)
    assert str(raised.value).startswith(message)
    assert order_test.swap_problem(tokens, first, second) == str(raised.value)


def _kept_epoch(history: dict[str, list[float]], select_by: str, patience: int) -> tuple[int, bool]:
    """Replay training's selection on a recorded validation history under `select_by`: the epoch it keeps, and
    whether its early stopping would have ended within the recorded epochs (False: it might have trained on)."""
    from rnndemo.training_loop import selection_score

    best_score, best_epoch = float("-inf"), 0
    for epoch in range(1, len(history["val_loss"]) + 1):
        score = selection_score({key: values[:epoch] for key, values in history.items()}, select_by)
        if score > best_score:  # a tie keeps the earlier epoch, as in training
            best_score, best_epoch = score, epoch
        elif epoch - best_epoch >= patience:
            return best_epoch, True
    return best_epoch, False


def test_every_classifier_is_kept_by_one_rule_that_its_own_history_reproduces(bundle):
    """A fair comparison (issue 24): every Keras classifier, served or the memory experiment's, keeps the epoch of
    its highest validation accuracy, with the same patience. The manifest says so, and replaying that rule on each
    recorded validation history (numbers only, no test score) reproduces the epoch it kept and the point where it
    stopped: the rule is the one that ran, not a label."""
    import json
    from dataclasses import asdict

    from rnndemo.config import CLASSIFIERS
    from rnndemo.registry import NEURAL_NAMES

    manifest = bundle.manifest
    patience = manifest["training_config"]["patience"]
    assert {choice.select_by for choice in CLASSIFIERS} == {"accuracy"}
    # The recorded choices are the configuration's (`train --add` replaces a retrained model's entry; the entries of
    # the LSTM, the DFN and the CNN were filled in from it once, by `training.record_classifier_choices`, when this
    # was added), and each agrees with what the model's own entry recorded when it was trained.
    recorded = {entry["name"]: entry for entry in manifest["training_config"]["classifiers"]}
    assert recorded == {choice.name: json.loads(json.dumps(asdict(choice))) for choice in CLASSIFIERS}
    for name, entry in (
        {name: manifest["models"][name] for name in NEURAL_NAMES} | manifest["experiment_models"]
    ).items():
        trained = entry["hyperparameters"]
        for key in ("units", "spatial_dropout", "output_dropout", "dropout", "learning_rate", "learning_rate_decay"):
            assert recorded[name][key] == trained[key], (name, key)
        assert f"validation {recorded[name]['select_by']}" == trained["selected_by"], name
    entries = {name: manifest["models"][name] for name in NEURAL_NAMES} | manifest["experiment_models"]
    assert set(entries) == {choice.name for choice in CLASSIFIERS}
    for name, entry in entries.items():
        assert entry["hyperparameters"]["selected_by"] == "validation accuracy", name
        kept, stopped = _kept_epoch(entry["history"], "accuracy", patience)
        assert kept == entry["best_epoch"], name
        history = entry["history"]["val_accuracy"]
        assert history[kept - 1] == max(history), name  # the best, and the earliest of equals
        bound = next(choice for choice in CLASSIFIERS if choice.name == name).max_epochs
        bound = bound or manifest["training_config"]["max_epochs"]
        # It ended by early stopping, exactly `patience` epochs after its best, or at its epoch bound.
        assert stopped or entry["epochs"] == bound, name
        if stopped:
            assert entry["epochs"] == kept + patience, name
