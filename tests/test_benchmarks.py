"""The benchmark harness: its timing arithmetic on known samples, and the JSON of one real quick run."""

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from benchmarks.timing import measure, row

from .conftest import MODELS_DIR, PROJECT_ROOT


def test_row_percentiles_agree_with_numpy():
    samples = [float(value) for value in np.random.default_rng(4).gamma(2.0, 10.0, size=37)]
    naive = [value * 3 for value in samples[:11]]
    result = row("example", samples, naive, extra_field=7)
    assert result["n"] == 37 and result["extra_field"] == 7
    assert result["p50_ms"] == pytest.approx(np.median(samples), abs=1e-3)
    assert result["p95_ms"] == pytest.approx(np.percentile(samples, 95, method="nearest"), abs=1e-3)
    assert result["naive_p50_ms"] == pytest.approx(np.median(naive), abs=1e-3)


def test_measure_calls_warmup_then_times_each_call():
    calls = []

    def sleep_five_ms():
        calls.append(time.perf_counter())
        time.sleep(0.005)

    samples = measure(sleep_five_ms, 4, warmup=3)
    assert len(calls) == 7 and len(samples) == 4
    assert all(5.0 <= sample < 500 for sample in samples)


def run_cli(*arguments: str) -> subprocess.CompletedProcess:
    environment = dict(os.environ, RNNDEMO_MODELS_DIR=str(MODELS_DIR))
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *arguments],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=environment,
        timeout=1800,
    )


@pytest.mark.slow
def test_the_command_prints_the_chosen_sections_rows_as_json_and_refuses_an_unknown_section():
    """`python -m benchmarks --quick --json --only cold,embeddings` in its own process: those rows and no others."""
    result = run_cli("--quick", "--json", "--only", "cold,embeddings")
    assert result.returncode == 0, result.stderr[-2000:]
    rows = {item["name"]: item for item in json.loads(result.stdout.strip().splitlines()[-1])}
    assert set(rows) == {
        "glove_neighbors_cosine_400k",
        "glove_neighbors_euclidean_400k",
        "pca_51_words",
        "cold_import_rnndemo",
        "cold_load_models_incl_tensorflow",
        "cold_load_glove",
    }
    assert rows["glove_neighbors_cosine_400k"]["n"] == 20 and rows["glove_neighbors_cosine_400k"]["naive_p50_ms"] > 0
    assert all(rows[name]["n"] == 1 and rows[name]["p50_ms"] > 0 for name in rows if name.startswith("cold_"))
    refused = run_cli("--quick", "--only", "models,speed")
    assert refused.returncode == 2 and "unknown section speed; choose from models," in refused.stderr


def check_models(rows: dict) -> None:
    for model in ("rnn", "lstm", "gru"):
        for length in ("short_20", "long_400"):
            predict = rows[f"predict_{length}_{model}"]
            assert predict["n"] == 20 and predict["naive_p50_ms"] > 0  # --quick: 20 repetitions, model.predict beside
        for name in (f"trajectory_400_{model}", f"importance_400_{model}", f"inspect_400_{model}"):
            assert rows[name]["n"] >= 5


def check_batch(rows: dict) -> None:
    for model in ("rnn", "lstm", "gru"):
        batch = rows[f"batch_500_reviews_{model}"]  # --quick: 500 of the 2,500 held-out reviews, timed once
        per_second = 500 / (batch["p50_ms"] / 1000)
        assert batch["n"] == 1 and batch["reviews_per_second"] == pytest.approx(per_second, rel=0.01)


def check_language_models(rows: dict) -> None:
    for model in ("rnn", "lstm"):  # the language models, each beside model.predict on the same input
        for name in (f"lm_next_word_after_50_{model}", f"lm_generate_50_words_{model}", f"lm_surprisal_400_{model}"):
            assert rows[name]["naive_p50_ms"] > 0 and rows[name]["n"] >= 5, name
    assert rows["lm_next_word_after_50_ngram"]["n"] == 20


def check_pages(rows: dict) -> None:
    pages = [name for name in rows if name.startswith("page_rerun_400_tokens_")]
    assert pages and all(rows[name]["n"] >= 5 and rows[name]["p50_ms"] > 0 for name in pages)


def check_race(rows: dict) -> None:
    for cell in ("rnn", "lstm", "gru"):  # --quick: a 5-second race per cell, one TensorFlow thread
        race = rows[f"race_T50_ms_per_step_{cell}"]
        assert race["budget_seconds"] == 5.0 and race["n"] >= 10 and race["steps_per_second"] > 0


def check_soak(rows: dict) -> None:
    soak = rows["soak_20_distinct_long_texts_inside_and_compare"]  # --quick: 20 texts
    assert soak["n"] == 20 and 0 < soak["rss_mb_before"] <= soak["rss_mb_after"] < soak["rss_limit_mb"]
    first, rerun = (  # --quick: a 1,000-row file
        next(
            item for name, item in rows.items() if name.startswith("batch_worst_file_1000_rows_") and name.endswith(run)
        )
        for run in ("first_run", "rerun")
    )
    assert first["server_cpu_ms"] > 10 * rerun["server_cpu_ms"]  # a rerun reuses the file's cached scores


SECTION_CHECKS = {
    "models": check_models,
    "batch": check_batch,
    "language_models": check_language_models,
    "pages": check_pages,
    "race": check_race,
    "soak": check_soak,
}


def test_every_section_is_checked_here_or_through_the_command():
    from benchmarks.bench import SECTIONS

    assert set(SECTIONS) == set(SECTION_CHECKS) | {"cold", "embeddings"}


@pytest.mark.slow
@pytest.mark.parametrize("section", list(SECTION_CHECKS))
def test_a_quick_section_gives_every_row_the_performance_issues_name(section, bundle):
    """Each section of a --quick run on its own (the suite's workers share them), with the suite's loaded models:
    every row the performance issues name, with fields consistent with the run's own repetitions and sizes."""
    from benchmarks.bench import SECTIONS, Inputs

    rows = SECTIONS[section](Inputs(MODELS_DIR, bundle=bundle), True)
    names = [item["name"] for item in rows]
    assert len(names) == len(set(names))
    SECTION_CHECKS[section]({item["name"]: item for item in rows})
