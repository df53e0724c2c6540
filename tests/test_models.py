"""The committed models: verified files, reproducible held-out metrics, accuracy floors, safe loading."""

import json

import pytest

from rnndemo import data, models
from rnndemo.evaluation import evaluate_bundle

from .conftest import MODELS_DIR


@pytest.fixture(scope="module")
def manifest():
    return json.loads((MODELS_DIR / models.MANIFEST_FILE).read_text())


def test_every_file_matches_its_sha256(manifest):
    assert {"rnn.keras", "lstm.keras", "vocabulary.json", "baseline.json", "heldout_predictions.csv"} <= set(
        manifest["files"]
    ) and "gru.keras" in manifest["files"]
    for file_name, digest in manifest["files"].items():
        assert models.sha256_file(MODELS_DIR / file_name) == digest, file_name


def test_models_are_small_keras_v3_files(manifest):
    for name in ("rnn", "lstm", "gru"):
        entry = manifest["models"][name]
        assert entry["file"].endswith(".keras")
        assert (MODELS_DIR / entry["file"]).stat().st_size < 6_000_000


def test_split_checksum_matches_this_machine(manifest):
    assert manifest["split"]["test_sha256"] == data.load_splits().test_checksum()


@pytest.fixture(scope="module")
def recomputed(bundle):
    """Held-out metrics recomputed now, from the model files, on the test split."""
    return evaluate_bundle(bundle)


@pytest.mark.slow
def test_accuracy_floors_on_the_held_out_test_split(recomputed):
    """Issue 13's floors and goal, on metrics recomputed from the files (not copied from the manifest):
    LSTM >= 0.90 and at or past the TF-IDF baseline, SimpleRNN >= 0.85; the GRU is held where it stands."""
    assert recomputed["lstm"]["accuracy"] >= 0.90
    assert recomputed["lstm"]["accuracy"] >= recomputed["baseline"]["accuracy"]
    assert recomputed["rnn"]["accuracy"] >= 0.85
    assert recomputed["gru"]["accuracy"] >= 0.88
    assert recomputed["lstm"]["auc"] >= recomputed["gru"]["auc"] > recomputed["rnn"]["auc"]


@pytest.mark.slow
def test_evaluate_recomputes_the_manifest_metrics(recomputed, manifest):
    """`evaluate` recomputes from the model files; it agrees with training-time numbers to 0.005."""
    results = recomputed
    for name in ("rnn", "lstm", "gru"):
        assert results[name]["n"] == 2500
        assert abs(results[name]["accuracy"] - manifest["models"][name]["test_accuracy"]) <= 0.005
        assert (
            abs(results[name]["rotten_tomatoes_accuracy"] - manifest["models"][name]["rotten_tomatoes_accuracy"])
            <= 0.005
        )
    assert abs(results["baseline"]["accuracy"] - manifest["baseline"]["test_accuracy"]) <= 0.005


def test_builders_differ_only_in_the_recurrent_layer():
    architecture = models.ModelArchitecture("rnn", 100, 8, 4)
    rnn = models.build_model(architecture)
    lstm = models.build_model(models.ModelArchitecture("lstm", 100, 8, 4))
    assert [type(layer).__name__ for layer in rnn.layers] == ["InputLayer", "Embedding", "SimpleRNN", "Dense"]
    assert [type(layer).__name__ for layer in lstm.layers] == ["InputLayer", "Embedding", "LSTM", "Dense"]
    assert rnn.get_layer("embedding").mask_zero
    with pytest.raises(ValueError, match="unknown model kind"):
        models.build_model(models.ModelArchitecture("gru2", 100, 8, 4))


def test_h5_files_are_never_loaded(tmp_path, manifest):
    forged = dict(manifest, models={"rnn": dict(manifest["models"]["rnn"], file="rnn.h5")})
    with pytest.raises(models.ModelFileError, match=".keras"):
        models.load_keras_model(tmp_path, forged, "rnn")


def test_baseline_save_then_load_predicts_the_same(tmp_path):
    """A freshly fitted baseline, saved as plain JSON and loaded back, gives the same probabilities."""
    from rnndemo.baseline import Baseline, BaselineConfig

    train = data.load_splits().train.head(200)
    fitted = Baseline.fit(train["text"].tolist(), train["label"].to_numpy(), BaselineConfig(max_features=500), seed=0)
    path = tmp_path / "baseline.json"
    fitted.save(path)
    reloaded = Baseline.load(path)
    unseen = data.sample_reviews("random", 20, seed=5)
    assert reloaded.predict_proba(unseen) == pytest.approx(fitted.predict_proba(unseen), abs=1e-6)
    assert len(set(fitted.predict_proba(unseen).round(6))) > 1  # not a constant model
    payload = json.loads(path.read_text())
    assert set(payload) == {"terms", "idf", "coefficients", "intercept", "max_features"}  # plain JSON, no pickle
    assert payload["max_features"] <= 500
