"""Time series: windows, no leakage from the test period, the metrics by hand, the statsmodels baselines against
their own calls, and the CLI's forecast contract."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from rnndemo import cli, forecast_models, forecast_serving, forecasting

from .conftest import MODELS_DIR


@pytest.fixture(scope="module")
def co2() -> forecast_models.Prepared:
    return forecast_models.prepare("co2")


@pytest.fixture(scope="module")
def sunspots() -> forecast_models.Prepared:
    return forecast_models.prepare("sunspots")


def test_windows_and_targets_equal_a_direct_numpy_construction():
    """Each window is the W values ending at its origin, and its targets the h values after it."""
    values = np.random.default_rng(0).normal(size=40)
    origins = np.array([4, 9, 30, 37])
    expected_windows = np.stack([values[origin - 4 : origin + 1] for origin in origins])
    assert np.array_equal(forecasting.windows(values, origins, 5), expected_windows)
    expected_targets = np.full((4, 3), np.nan)
    for row, origin in enumerate(origins):
        following = values[origin + 1 : origin + 4]
        expected_targets[row, : len(following)] = following
    assert np.array_equal(forecasting.targets(values, origins, 3), expected_targets, equal_nan=True)


def test_network_inputs_are_level_relative_windows_of_the_scaled_series(co2):
    """The network reads z minus the window's last z, and must predict the next z minus that same value."""
    for width in co2.series.config.windows:
        inputs, goals = forecast_models.training_pairs(co2.scaled, np.array([200, 900]), width, 13)
        assert inputs.shape == (2, width, 1)
        for row, origin in enumerate((200, 900)):
            window = co2.scaled[origin - width + 1 : origin + 1]
            assert np.allclose(inputs[row, :, 0], window - window[-1])
            assert np.allclose(goals[row], co2.scaled[origin + 1 : origin + 14] - window[-1])


def test_every_window_is_taught_on_the_same_targets(co2):
    """The W values differ in how far back they read, not in the targets: the same training and validation
    targets for every W, with inputs that are the longer W's last values."""
    config = co2.series.config
    short, long = min(config.windows), max(config.windows)
    short_data = forecast_models.network_data(config, co2.scaled, co2.split, 13, short)
    long_data = forecast_models.network_data(config, co2.scaled, co2.split, 13, long)
    for (short_inputs, short_goals), (long_inputs, long_goals) in zip(short_data, long_data):
        assert np.array_equal(short_goals, long_goals)
        assert np.allclose(short_inputs[:, :, 0] - short_inputs[:, -1:, 0], long_inputs[:, -short:, 0])


def test_seasonal_naive_repeats_the_same_week_last_year(co2):
    """h steps after origin t, the seasonal naive forecast is the value at t + h - 52 (and whole years back)."""
    values = co2.series.values
    forecast = forecasting.seasonal_naive(values, np.array([2000]), 60, 52)[0]
    assert forecast[0] == values[2001 - 52] and forecast[51] == values[2052 - 52]
    assert forecast[52] == values[2053 - 104]


def poisoned(prepared: forecast_models.Prepared) -> forecast_models.Prepared:
    """The same series with every test-period value replaced by a huge number."""
    series = prepared.series
    raw = pd.Series(series.raw.copy(), index=series.dates)
    raw.iloc[prepared.split.test_start :] = 1e6
    return forecast_models.prepare_series(forecasting.series_from_raw(series.config.name, raw))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["co2", "sunspots"])
def test_poisoning_the_test_period_changes_nothing_fitted_before_it(name, co2, sunspots):
    """Scaler, MASE scale, cleaned training values, network training and validation data and the baselines'
    parameters are the same whatever the test period holds."""
    clean = {"co2": co2, "sunspots": sunspots}[name]
    dirty = poisoned(clean)
    assert dirty.series.values[-1] == 1e6  # the poison is there
    assert dirty.scaler == clean.scaler and dirty.mase_scale == clean.mase_scale
    before_test = slice(0, clean.split.test_start)
    assert np.array_equal(dirty.series.values[before_test], clean.series.values[before_test])
    config = clean.series.config
    for outputs, window in ((1, min(config.windows)), (config.max_horizon, max(config.windows))):
        clean_data = forecast_models.network_data(config, clean.scaled, clean.split, outputs, window)
        dirty_data = forecast_models.network_data(config, dirty.scaled, dirty.split, outputs, window)
        clean_arrays = [array for pair in clean_data for array in pair]  # training inputs, targets; validation's
        dirty_arrays = [array for pair in dirty_data for array in pair]
        for clean_array, dirty_array in zip(clean_arrays, dirty_arrays):
            assert np.array_equal(clean_array, dirty_array)
    if name == "sunspots":  # Holt–Winters on co2 takes seconds; the same code path is covered here
        assert forecast_models.baseline_parameters(dirty) == forecast_models.baseline_parameters(clean)


def test_metrics_equal_a_hand_computation():
    """MASE, RMSE and sMAPE of two forecasts, worked by hand."""
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    # Seasonal (period 2) differences: 3-1, 4-2, 5-3, 6-4 = 2 each; the pair (6, 4) is dropped when 6 was not
    # recorded, and it changes nothing here, so also check a series where it would.
    assert forecasting.mase_scale(values, np.ones(6, bool), 2) == 2.0
    uneven = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 10.0])
    recorded = np.array([True] * 5 + [False])
    assert forecasting.mase_scale(uneven, recorded, 2) == 2.0
    assert forecasting.mase_scale(uneven, np.ones(6, bool), 2) == pytest.approx((2 + 2 + 2 + 6) / 4)
    result = forecasting.metrics(np.array([1.0, 2.0]), np.array([2.0, 4.0]), scale=2.0)
    assert result["mase"] == pytest.approx((1 + 2) / 2 / 2)
    assert result["rmse"] == pytest.approx(np.sqrt((1 + 4) / 2))
    assert result["smape"] == pytest.approx((200 * 1 / 3 + 200 * 2 / 6) / 2)


def test_a_filled_gap_is_never_scored_as_truth(co2):
    """Targets in weeks that were not recorded are left out of every metric."""
    series = co2.series
    gap = int(np.flatnonzero(~series.recorded)[0])
    origins = np.arange(gap - 3, gap + 3)
    forecasts = np.zeros((len(origins), 1))
    forecast, truth = forecasting.scored_pairs(forecasts, series, origins, (0, series.length), 1)
    assert not np.isnan(truth).any()
    assert len(truth) == int(series.recorded[origins + 1].sum()) < len(origins)


def test_error_bands_are_quantiles_of_validation_residuals_worked_by_hand():
    """A band is the 5th and 95th percentile (numpy's linear interpolation) of truth − forecast over the targets in
    the part that were recorded: on 10 … 19 with 15 not recorded and a forecast of 0, 10.4 and 18.6."""
    values = np.arange(20.0)
    recorded = values != 15
    series = forecasting.Series(
        config=forecasting.SERIES["sunspots"],
        dates=pd.date_range("1900-01-01", periods=20, freq="YS-JAN"),
        raw=np.where(recorded, values, np.nan),
        values=values,
        recorded=recorded,
    )
    bands = forecasting.residual_bands(np.zeros((19, 1)), series, np.arange(19), (10, 20))
    # Sorted residuals 10 11 12 13 14 16 17 18 19: the 5th percentile at 0.05 · 8 = 0.4 between 10 and 11, the
    # 95th at 0.95 · 8 = 7.6 between 18 and 19.
    assert bands.shape == (1, 2) and np.allclose(bands[0], [10.4, 18.6])


@pytest.mark.parametrize("name", ["co2", "sunspots"])
def test_the_stored_bands_come_from_the_validation_period_not_the_test(name, co2, sunspots):
    """The seasonal naive band the page draws is that of its forecasts from the validation origins, scored on the
    validation targets; the test period's residuals would give another band."""
    prepared = {"co2": co2, "sunspots": sunspots}[name]
    config, values = prepared.series.config, prepared.series.values
    stored = forecast_serving.load_forecast_arrays(MODELS_DIR)[f"{name}__seasonal_naive__bands"]
    assert stored.shape == (config.max_horizon, 2)
    expected = {}
    for part in ("validation", "test"):
        origins = forecasting.origins_for(prepared.split, part, config)
        forecasts = forecasting.seasonal_naive(values, origins, config.max_horizon, config.period)
        expected[part] = forecasting.residual_bands(forecasts, prepared.series, origins, prepared.split.part(part))
    assert np.allclose(stored, expected["validation"])
    assert not np.allclose(stored, expected["test"])


@pytest.mark.slow
def test_holt_winters_equals_statsmodels_own_fit_and_forecast(co2):
    """From the end of training, our Holt–Winters forecast (stored parameters, no refit) is statsmodels' own
    fit-and-forecast; from a later origin it is statsmodels' one-step fitted value of the same model."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    training = co2.series.values[: co2.split.validation_start]
    own = ExponentialSmoothing(training, trend="add", seasonal="add", seasonal_periods=52).fit()
    fit = forecasting.fit_holt_winters(training, 52)
    assert np.allclose(forecasting.holt_winters_forecast(fit, training, 52), own.forecast(52), atol=1e-8)
    later = co2.series.values[: co2.split.test_start]
    fixed = ExponentialSmoothing(
        later,
        trend="add",
        seasonal="add",
        seasonal_periods=52,
        initialization_method="known",
        initial_level=fit.initial_level,
        initial_trend=fit.initial_trend,
        initial_seasonal=np.asarray(fit.initial_seasons),
    ).fit(
        smoothing_level=fit.smoothing_level,
        smoothing_trend=fit.smoothing_trend,
        smoothing_seasonal=fit.smoothing_seasonal,
        optimized=False,
    )
    for origin in (co2.split.validation_start + 10, co2.split.test_start - 2):
        ours = forecasting.holt_winters_forecast(fit, later[: origin + 1], 1)[0]
        assert ours == pytest.approx(fixed.fittedvalues[origin + 1], abs=1e-8)


def test_autoregression_equals_statsmodels_own_selection_fit_and_forecast(sunspots):
    """AR(p) by AIC from the end of training is statsmodels' ar_select_order + AutoReg forecast."""
    from statsmodels.tsa.ar_model import AutoReg, ar_select_order

    training = sunspots.series.values[: sunspots.split.validation_start]
    lags = ar_select_order(training, maxlag=22, ic="aic", trend="c").ar_lags
    own = AutoReg(training, lags=lags, trend="c").fit()
    fit = forecasting.fit_autoregression(training, max_lag=22)
    assert list(fit.lags) == list(lags)
    assert np.allclose(forecasting.autoregression_forecast(fit, training, 11), own.forecast(11), atol=1e-8)


@pytest.mark.slow
def test_the_committed_forecasters_are_verified_and_scored_on_every_horizon():
    """The manifest lists every forecaster with its test scores at each horizon, and the page's files verify."""
    from rnndemo import models

    manifest = models.read_manifest(MODELS_DIR)
    for name in forecasting.SERIES_NAMES:
        horizons = {str(horizon) for horizon in forecasting.SERIES[name].horizons}
        entries = manifest["forecasters"][name]
        assert set(entries) == set(forecast_models.forecaster_names(name))
        for entry in entries.values():
            assert set(entry["test"]["mase"]) == horizons
            assert all(file_name in manifest["files"] for file_name in entry["files"])
        data = forecast_serving.load_page_data(MODELS_DIR, name)
        for window in data.windows:
            forecasts, bands, _ = data.at_window(window)
            assert forecasts["lstm"].shape == (len(data.test_origins), forecasting.SERIES[name].max_horizon)
            assert bands["lstm"].shape == (forecasting.SERIES[name].max_horizon, 2)


def run_cli(capsys, *arguments: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of the CLI; the parser's own refusals exit through SystemExit."""
    try:
        code = cli.main(["--models-dir", str(MODELS_DIR), *arguments])
    except SystemExit as exited:
        code = exited.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.slow
def test_forecast_json_has_the_issue_s_shape(capsys):
    """`forecast --series co2 --horizon 13 --origin 2000-01-01 --json` gives dates, truth and five models."""
    code, out, err = run_cli(
        capsys, "forecast", "--series", "co2", "--horizon", "13", "--origin", "2000-01-01", "--json"
    )
    assert code == 0 and err == ""
    payload = json.loads(out)
    assert payload["series"] == "co2" and payload["origin"] == "2000-01-01" and payload["horizon"] == 13
    assert payload["dates"][0] == "2000-01-08" and len(payload["dates"]) == 13
    assert len(payload["truth"]) == 13 and all(isinstance(value, float) for value in payload["truth"])
    assert set(payload["models"]) == {"rnn", "lstm", "gru", "seasonal_naive", "holt_winters"}
    assert all(len(values) == 13 for values in payload["models"].values())
    assert all(abs(value - truth) < 5 for value, truth in zip(payload["models"]["lstm"], payload["truth"]))


@pytest.mark.slow
def test_forecast_truth_is_null_where_the_week_was_not_recorded(capsys):
    """Across the 1964 gap, "truth" is null exactly where nothing was recorded."""
    code, out, _ = run_cli(capsys, "forecast", "--horizon", "13", "--origin", "1964-01-11", "--json")
    payload = json.loads(out)
    series = forecasting.load_series("co2")
    recorded = {str(date.date()): bool(seen) for date, seen in zip(series.dates, series.recorded)}
    assert code == 0 and None in payload["truth"]
    assert [value is not None for value in payload["truth"]] == [recorded[date] for date in payload["dates"]]


@pytest.mark.parametrize(
    "arguments, says",
    [
        (["--series", "temperature", "--origin", "2000-01-01"], "invalid choice"),
        (["--horizon", "0", "--origin", "2000-01-01"], "not at least 1"),
        (["--horizon", "53", "--origin", "2000-01-01"], "from 1 to 52"),
        (["--series", "sunspots", "--horizon", "12", "--origin", "2000-01-01"], "from 1 to 11"),
        (["--origin", "soon"], "not a date"),
        (["--origin", "1958-06-01"], "outside the co2 series"),
        (["--origin", "2030-01-01"], "outside the co2 series"),
        (["--window", "30", "--origin", "2000-01-01"], "--window 30 was not trained for co2; choose from 26, 52"),
        (["--window", "0", "--origin", "2000-01-01"], "not at least 1"),
        (["--series", "sunspots", "--horizon", "5", "--window", "52", "--origin", "2000-01-01"], "choose from 11, 22"),
    ],
)
def test_forecast_refuses_bad_input_with_one_line(capsys, arguments, says):
    """A bad series, horizon or origin exits 2 with one line that says what is wrong."""
    code, out, err = run_cli(capsys, "forecast", *arguments)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and says in err, err


def test_longest_gap_finds_the_longest_run_of_unrecorded_steps():
    """The page's close-up shows the longest gap: co2's 18 weeks from 1964-01-25."""
    assert forecasting.longest_gap(np.array([1, 0, 0, 1, 0, 0, 0, 1], bool)) == (4, 3)
    assert forecasting.longest_gap(np.array([0, 0, 1, 0], bool)) == (0, 2)
    assert forecasting.longest_gap(np.ones(3, bool)) == (0, 0)
    series = forecasting.load_series("co2")
    start, length = forecasting.longest_gap(series.recorded)
    assert (str(series.dates[start].date()), length) == ("1964-01-25", 18)


def test_the_registry_names_exactly_the_configured_series():
    """`forecast --series` offers the series the library can load, no more."""
    from rnndemo.registry import FORECAST_SERIES

    assert tuple(forecasting.SERIES) == FORECAST_SERIES


@pytest.mark.slow
def test_forecast_past_the_series_end_has_no_truth(capsys):
    """From the last recorded week, the next weeks have dates but no truth."""
    code, out, _ = run_cli(capsys, "forecast", "--horizon", "3", "--origin", "2001-12-29", "--json")
    payload = json.loads(out)
    assert code == 0 and payload["dates"] == ["2002-01-05", "2002-01-12", "2002-01-19"]
    assert payload["truth"] == [None, None, None]


@pytest.mark.slow
def test_evaluate_recomputes_the_recorded_test_scores_from_the_files():
    """`evaluate`'s "forecasters" (networks rerun from their files, baselines from their stored parameters) equal
    the test scores the manifest recorded at training time."""
    from rnndemo import models

    recomputed = forecast_serving.evaluate_forecasters(MODELS_DIR)
    recorded = models.read_manifest(MODELS_DIR)["forecasters"]
    for series, table in recorded.items():
        for name, entry in table.items():
            for metric, values in entry["test"].items():
                for horizon, value in values.items():
                    assert recomputed[series][name][metric][horizon] == pytest.approx(value, abs=2e-4)


@pytest.mark.slow
def test_forecast_reads_the_window_it_is_given_and_defaults_to_the_validation_choice(capsys):
    """`--window` picks the networks that read that many values (the baselines do not change); without it the
    networks read the W chosen on validation, and the JSON says which."""
    chosen = json.loads((MODELS_DIR / forecast_models.METRICS_FILE).read_text())["co2"]["window"]
    payloads = {}
    for extra in ([], ["--window", "26"], ["--window", "52"]):
        code, out, err = run_cli(capsys, "forecast", "--horizon", "13", "--origin", "2000-01-01", "--json", *extra)
        assert code == 0 and err == ""
        payloads[tuple(extra)] = json.loads(out)
    assert payloads[()]["window"] == chosen and payloads[()] == payloads[("--window", str(chosen))]
    short, long = payloads[("--window", "26")], payloads[("--window", "52")]
    assert short["window"] == 26 and long["window"] == 52
    assert short["models"]["lstm"] != long["models"]["lstm"]
    assert short["models"]["holt_winters"] == long["models"]["holt_winters"]
    data = forecast_serving.load_page_data(MODELS_DIR, "co2")
    row = int(np.flatnonzero(data.prepared.series.dates[data.test_origins] == pd.Timestamp("2000-01-01"))[0])
    forecasts, _, _ = data.at_window(26)
    assert np.allclose(short["models"]["lstm"], forecasts["lstm"][row, :13], atol=1e-3)
