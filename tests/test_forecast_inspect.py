"""Inside a forecaster: the states across a window against the numpy reference and the Keras model itself, the
stepper's numbers, occlusion over the window (precomputed by training against recomputed here), and the window
W chosen on validation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnndemo import forecast_inspect, forecast_models, forecast_serving, forecasting, stepper

from .conftest import MODELS_DIR
from .reference import numpy_gru, numpy_lstm, numpy_simple_rnn

LAYERS = {"rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}


def tiny_forecaster(cell: str, strategy: str, window: int = 6, seed: int = 3):
    """A freshly built forecaster (4 units) with weights large enough that the gates leave their linear middle."""
    import keras

    keras.utils.set_random_seed(seed)
    model = forecast_models.build_forecaster(cell, window, 3 if strategy == "direct" else 1, 4)
    model.set_weights([weight * 3 for weight in model.get_weights()])
    return model


@pytest.mark.slow
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_states_equal_the_numpy_reference_and_forecasts_equal_the_keras_model(cell):
    """h_t (and the LSTM's c_t and gates) across a window equal tests/reference.py from the layer weights, and the
    direct and recursive forecasts read from them equal `network_forecasts` running the Keras model."""
    series = np.sin(np.arange(40) / 3.0) + np.arange(40) / 20.0
    for strategy in forecast_models.STRATEGIES:
        model = tiny_forecaster(cell, strategy)
        weights = forecast_inspect.weights_of(model, strategy, 6)
        assert weights.layer == LAYERS[cell] and weights.units == 4
        inputs = forecast_inspect.window_inputs(series, 20, 6)
        states = forecast_inspect.run_states(weights, inputs[None, :])
        layer_weights = model.get_layer("recurrent").get_weights()
        if cell == "lstm":
            hidden, cell_states, gates = numpy_lstm(inputs[:, None], *layer_weights)
            assert np.allclose(states.cell[0], cell_states, atol=1e-6)
            for name, column in zip(("input", "forget", "cell_candidate", "output"), ("i", "f", "g", "o")):
                assert np.allclose(states.gates[column][0], gates[name], atol=1e-6)
        elif cell == "gru":
            hidden, _ = numpy_gru(inputs[:, None], *layer_weights)
        else:
            hidden = numpy_simple_rnn(inputs[:, None], *layer_weights)
        assert np.allclose(states.hidden[0], hidden, atol=1e-6)
        origins = np.array([10, 25, 33])
        expected = forecast_models.network_forecasts(model, series, origins, 6, 3, strategy)
        ours = forecast_inspect.forecast_paths(weights, forecasting.windows(series, origins, 6), 3)
        assert np.allclose(ours, expected, atol=1e-5)


def test_the_step_table_arrives_at_the_layer_s_own_state():
    """The stepper's table at step t, recomputed from the weights for the units that moved most, ends in the h_t
    the layer computed, starts from its h_(t−1) and c_(t−1), and has the LSTM's columns."""
    series = np.cos(np.arange(30) / 2.0)
    weights = forecast_inspect.weights_of(tiny_forecaster("lstm", "direct"), "direct", 6)
    states = forecast_inspect.trace_window(weights, series, 15)
    inputs = forecast_inspect.window_inputs(series, 15, 6)
    for step in (0, 3, 5):
        table = forecast_inspect.step_table(weights, states, inputs, step)
        units = list(table["units"])
        assert tuple(units) == stepper.units_that_changed_most(states.hidden[0], step)
        assert tuple(table["terms"]) == stepper.LSTM_COLUMNS
        assert np.allclose(table["terms"][stepper.STATE], states.hidden[0, step, units])
        assert np.allclose(table["terms"]["cₜ"], states.cell[0, step, units])
        previous = states.hidden[0, step - 1, units] if step else np.zeros(4)
        assert np.allclose(table["terms"][stepper.PREVIOUS_STATE], previous)


def test_occlusion_replaces_one_step_with_the_last_value_and_the_last_step_has_no_effect():
    """Row t + 1 of the occluded batch differs from the window only at step t, where it holds the last value; the
    effect of each step is the forecast minus the forecast of its row."""
    window = np.array([1.0, 4.0, 2.0, 8.0, 5.0])
    batch = forecast_inspect.occluded(window)
    assert batch.shape == (6, 5) and np.array_equal(batch[0], window)
    for step in range(5):
        expected = window.copy()
        expected[step] = 5.0
        assert np.array_equal(batch[step + 1], expected)
    series = np.sin(np.arange(40) / 3.0)
    for strategy in forecast_models.STRATEGIES:
        weights = forecast_inspect.weights_of(tiny_forecaster("lstm", strategy), strategy, 6)
        forecast, effects = forecast_inspect.occlusion(weights, series, 30, 3)
        paths = forecast_inspect.forecast_paths(weights, forecast_inspect.occluded(series[25:31]), 3)[:, 2]
        assert forecast == pytest.approx(paths[0]) and np.allclose(effects, paths[0] - paths[1:])
        assert effects[-1] == pytest.approx(0.0, abs=1e-12) and np.abs(effects[:-1]).max() > 1e-4


@pytest.fixture(scope="module")
def co2_page():
    return forecast_serving.load_page_data(MODELS_DIR, "co2")


@pytest.mark.slow
def test_the_precomputed_occlusion_equals_the_lstm_rerun_here(co2_page):
    """forecasts.npz holds, per W, the occlusion training computed through Keras for every slider origin; the
    committed LSTM's weights give the same numbers in numpy, in ppm."""
    scale = co2_page.prepared.scaler.scale
    for window in co2_page.windows:
        table = co2_page.occlusion[window]
        assert table.shape == (len(co2_page.slider_origins), 3, window)
        for row in (0, len(co2_page.slider_origins) - 1):
            origin = int(co2_page.slider_origins[row])
            for column, horizon in enumerate((1, 13, 52)):
                _, effects = forecast_inspect.occlusion(
                    co2_page.lstm[window], co2_page.prepared.scaled, origin, horizon
                )
                assert np.allclose(effects * scale, table[row, column], atol=1e-4)


@pytest.mark.slow
def test_the_page_s_lstm_is_the_served_file_and_forecasts_as_the_precomputed_arrays(co2_page):
    """The weights the stepper reads are the LSTM file of each W with its chosen strategy: its forecasts from the
    test origins are the precomputed ones the charts draw."""
    for window in co2_page.windows:
        weights = co2_page.lstm[window]
        assert weights.strategy == co2_page.metrics["by_window"][str(window)]["chosen_strategy"]["lstm"]
        origins = co2_page.test_origins[::40]
        scaled = forecast_inspect.forecast_paths(
            weights, forecasting.windows(co2_page.prepared.scaled, origins, window), 52
        )
        forecasts, _, _ = co2_page.at_window(window)
        assert np.allclose(co2_page.prepared.scaler.inverse(scaled), forecasts["lstm"][::40], atol=1e-3)


def test_the_served_window_is_the_one_chosen_on_validation_and_every_w_is_in_the_manifest():
    """For each series the served W has the lowest mean validation MASE over the three cells; every W's network
    files are in the manifest with their sha256, and the served scores are that W's."""
    from rnndemo import models

    manifest = models.read_manifest(MODELS_DIR)
    metrics = json.loads((MODELS_DIR / forecast_models.METRICS_FILE).read_text())
    for name in forecasting.SERIES_NAMES:
        entry, config = metrics[name], forecasting.SERIES[name]
        assert entry["windows"] == list(config.windows) and len(config.windows) >= 2
        means = {
            window: np.mean(
                [forecast_models.mean_mase(entry["by_window"][str(window)]["validation"][cell]) for cell in LAYERS]
            )
            for window in config.windows
        }
        assert entry["window"] == min(means, key=means.get) == forecast_models.choose_window(entry["by_window"])
        for window in config.windows:
            for cell in LAYERS:
                for strategy in forecast_models.STRATEGIES:
                    file_name = forecast_models.model_file(name, cell, strategy, window)
                    assert manifest["files"][file_name] == models.sha256_file(MODELS_DIR / file_name)
                    assert file_name in manifest["forecasters"][name][cell]["files"]
        served = entry["by_window"][str(entry["window"])]
        for cell in LAYERS:
            assert manifest["forecasters"][name][cell]["test"] == served["test"][cell] == entry["test"][cell]
            assert manifest["forecasters"][name][cell]["window"] == entry["window"]


def test_choose_window_follows_the_validation_scores_it_is_given():
    """Made-up validation scores: the W with the lower mean over cells and horizons wins, whatever test says."""

    def scores(value: float) -> dict:
        return {"mase": {"1": value, "13": value}}

    by_window = {
        "26": {"validation": {"rnn": scores(0.5), "lstm": scores(0.5), "gru": scores(0.5)}, "test": {}},
        "52": {"validation": {"rnn": scores(0.2), "lstm": scores(0.9), "gru": scores(0.6)}, "test": {}},
    }
    assert forecast_models.choose_window(by_window) == 26
    by_window["52"]["validation"]["lstm"] = scores(0.6)
    assert forecast_models.choose_window(by_window) == 52


@pytest.mark.slow
def test_forecasters_from_before_the_window_picker_are_refused_with_the_rebuild_command(tmp_path):
    """A metrics file without W choices (one W, the old layout) is refused by name, with the command that rebuilds
    it, instead of failing somewhere in the page."""
    import shutil

    from rnndemo import models

    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(MODELS_DIR / "manifest.json", folder / "manifest.json")
    metrics = json.loads((MODELS_DIR / forecast_models.METRICS_FILE).read_text())
    del metrics["sunspots"]["by_window"]
    (folder / forecast_models.METRICS_FILE).write_text(json.dumps(metrics), encoding="utf-8")
    models.update_manifest(
        folder,
        lambda manifest: manifest["files"].update(
            {forecast_models.METRICS_FILE: models.sha256_file(folder / forecast_models.METRICS_FILE)}
        ),
    )
    with pytest.raises(models.ModelFileError, match="before the window picker.*train-forecasters"):
        forecast_serving.load_metrics(folder)
