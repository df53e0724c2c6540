"""`python -m benchmarks`: serving paths measured side by side, in one run, on this machine.

Every row is {"name", "n", "p50_ms", "p95_ms"}; rows that compare against a naive path
add "naive_p50_ms" (measured in the same run, on the same model and input).
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.timing import measure, row


def review_of_length(bundle, length: int) -> str:
    """A real held-out review of at least `length` tokens, cut to exactly `length` tokens."""
    from rnndemo import data
    from rnndemo.text import tokenize

    for text in data.load_splits().test["text"]:
        tokens = tokenize(text)
        if len(tokens) >= length:
            return " ".join(tokens[-length:])
    raise RuntimeError(f"no test review has {length} tokens")


def model_rows(bundle, repetitions: int) -> list[dict]:
    from rnndemo.inspect import Inspector
    from rnndemo.registry import RECURRENT_NAMES

    rows = []
    short, long = review_of_length(bundle, 20), review_of_length(bundle, 400)
    # The slow reference paths take seconds a call (400 calls per naive occlusion): 3 and 5 timed runs after a
    # warm-up in a full run; with --quick (20 repetitions), whose rows the test suite reads, one run each and no
    # warm-up (the one trace is 1 call in the naive path's 400, and the blocks share one shape).
    naive_runs, from_start_runs = max(1, repetitions // 33), max(1, repetitions // 20)
    warmup = 0 if repetitions < 100 else 1
    for name, classifier in bundle.classifiers.items():
        for label, text in (("short_20", short), ("long_400", long)):
            ids = np.asarray([classifier.encode(text)[1]], dtype=np.int32)
            serving = measure(lambda: classifier.predict_text(text), repetitions)
            naive = measure(lambda: classifier.model.predict(ids, verbose=0), max(5, repetitions // 4))
            rows.append(row(f"predict_{label}_{name}", serving, naive))
        rows.append(row(f"trajectory_400_{name}", measure(lambda: classifier.predict_text(long), repetitions)))
        if name not in RECURRENT_NAMES:
            continue  # the DFN and the CNN have no states to inspect; the pages occlude only recurrent models
        inspector = Inspector(classifier)
        ids_long = classifier.encode(long)[1]
        batched = measure(lambda: inspector.importance(ids_long), max(5, repetitions // 4))

        # The naive occlusion: one compiled call per removed token.
        def one_call_per_token():
            for position in range(len(ids_long)):
                classifier.predict_ids_exact(
                    np.asarray([ids_long[:position] + ids_long[position + 1 :]], dtype=np.int32)
                )

        naive = measure(one_call_per_token, naive_runs, warmup=warmup)
        rows.append(row(f"importance_400_{name}", batched, naive))
        # The previous batched path, side by side: every occluded copy run from the start, in blocks of rows.
        from_start = measure(
            lambda: inspector._occlusion_by_rows(np.asarray(ids_long, dtype=np.int32)), from_start_runs, warmup=warmup
        )
        rows.append(row(f"importance_400_{name}_every_copy_from_start", from_start))
        rows.append(row(f"inspect_400_{name}", measure(lambda: inspector.inspect(long), max(5, repetitions // 2))))
    return rows


def embedding_rows(glove, repetitions: int) -> list[dict]:
    from rnndemo.embeddings import pca_project

    rows = []
    query = glove.vector("movie")
    for metric in ("cosine", "euclidean"):
        fast = measure(lambda: glove.neighbors("movie", 10, metric), repetitions)
        if metric == "cosine":

            def naive_neighbors():  # normalise all 400k rows on every query
                matrix = np.asarray(glove.matrix, dtype=np.float32)
                scores = (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)) @ (query / np.linalg.norm(query))
                return np.argsort(-scores)[:11]
        else:

            def naive_neighbors():  # materialise every difference vector
                return np.argsort(np.linalg.norm(np.asarray(glove.matrix) - query, axis=1))[:11]

        rows.append(row(f"glove_neighbors_{metric}_400k", fast, measure(naive_neighbors, max(5, repetitions // 5))))
    words = ["movie"] + [neighbor.word for neighbor in glove.neighbors("movie", 50)]
    vectors = np.stack([glove.vector(word) for word in words])
    rows.append(row("pca_51_words", measure(lambda: pca_project(vectors, 2), repetitions)))
    return rows


def batch_rows(bundle, count: int) -> list[dict]:
    from rnndemo import data
    from rnndemo.text import tokenize
    from rnndemo.vocab import pad_batch

    texts = data.load_splits().test["text"].tolist()[:count]
    rows = []
    for name, classifier in bundle.classifiers.items():
        serving = measure(lambda: classifier.predict_texts(texts), 1, warmup=1)
        padded = pad_batch(
            [classifier.vocabulary.encode_tokens(tokenize(text)) for text in texts], classifier.sequence_length
        )
        naive = measure(lambda: classifier.model.predict(padded, batch_size=64, verbose=0), 1, warmup=1)
        rows.append(
            row(
                f"batch_{count}_reviews_{name}",
                serving,
                naive,
                reviews_per_second=round(count / (serving[0] / 1000), 1),
                naive_reviews_per_second=round(count / (naive[0] / 1000), 1),
            )
        )
    return rows


def cold_rows(models_dir: Path) -> list[dict]:
    """Fresh processes: `import rnndemo`, loading the models bundle, and loading GloVe."""
    code = (
        "import time, sys; t=time.perf_counter(); import rnndemo.cli; i=time.perf_counter()-t; "
        "from rnndemo.serving import load_bundle; t=time.perf_counter(); load_bundle(sys.argv[1]); "
        "m=time.perf_counter()-t; "
        "from rnndemo.embeddings import load_glove; t=time.perf_counter(); load_glove(); "
        "g=time.perf_counter()-t; print(i, m, g)"
    )
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    output = subprocess.run(
        [sys.executable, "-c", code, str(models_dir)], capture_output=True, text=True, env=environment, timeout=300
    )
    import_seconds, models_seconds, glove_seconds = (float(value) for value in output.stdout.split())
    return [
        row("cold_import_rnndemo", [import_seconds * 1000]),
        row("cold_load_models_incl_tensorflow", [models_seconds * 1000]),
        row("cold_load_glove", [glove_seconds * 1000]),
    ]


def page_rows(bundle, repetitions: int) -> list[dict]:
    """Whole page reruns through Streamlit's AppTest, in a separate process (an upper bound: AppTest polls)."""
    import tempfile

    root = Path(__file__).resolve().parent.parent
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as handle:
        handle.write(review_of_length(bundle, 400))
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    output = subprocess.run(
        [sys.executable, "-m", "benchmarks.time_pages", str(repetitions), handle.name],
        capture_output=True,
        text=True,
        env=environment,
        timeout=900,
        cwd=root,
    )
    os.unlink(handle.name)
    timings = json.loads(output.stdout.strip().splitlines()[-1])
    return [row(f"page_rerun_400_tokens_{page}_apptest", samples) for page, samples in timings.items()]


SOAK_RSS_LIMIT_MB = 1500  # issue 15: the server stays under 1.5 GB after 500 distinct long texts


def soak_rows(texts: int, batch_rows: int = 5_000) -> list[dict]:
    """Server memory after `texts` distinct long reviews through the heavy pages, and the CPU of the worst
    upload the limits allow (first run and rerun; `batch_rows` of its 5,000 rows in a quick run), from
    benchmarks.soak_pages in its own process."""
    root = Path(__file__).resolve().parent.parent
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    output = subprocess.run(
        [sys.executable, "-m", "benchmarks.soak_pages", str(texts), str(root), str(batch_rows)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=3600,
        cwd=root,
    )
    result = json.loads(output.stdout.strip().splitlines()[-1])
    soak, batch = result["soak"], result["batch"]
    rows = [
        row(
            f"soak_{texts}_distinct_long_texts_inside_and_compare",
            soak["ms"],
            rss_mb_before=soak["rss_mb_before"],
            rss_mb_after=soak["rss_mb_after"],
            rss_limit_mb=SOAK_RSS_LIMIT_MB,
        )
    ]
    for run in ("first_run", "rerun"):
        rows.append(
            row(
                f"batch_worst_file_{batch['rows']}_rows_{batch['megabytes']}MB_{run}",
                [batch[run]["wall_s"] * 1000],
                server_cpu_ms=round(batch[run]["cpu_s"] * 1000, 1),
            )
        )
    return rows


def race_rows(seconds: float, lag: int = 50) -> list[dict]:
    """Each cell's training speed in a live race (the adding problem, one TensorFlow thread, as a visitor's
    race), from `python -m rnndemo race` in its own process. A sample is one stretch between two curve points,
    in milliseconds per step; the row adds the cell's steps per second over its whole budget."""
    root = Path(__file__).resolve().parent.parent
    command = [sys.executable, "-m", "rnndemo", "race", "--lag", str(lag), "--seconds", str(seconds), "--json"]
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    output = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=900, cwd=root)
    result = json.loads(output.stdout)
    rows = []
    for name, cell in result["models"].items():
        curve = cell["curve"][1:]  # from step 0 to the first point includes the untimed compiling step
        samples = [
            (after["seconds"] - before["seconds"]) * 1000 / (after["step"] - before["step"])
            for before, after in zip(curve, curve[1:])
            if after["step"] > before["step"]
        ]
        rows.append(
            row(
                f"race_T{lag}_ms_per_step_{name}",
                samples,
                steps_per_second=round(cell["steps"] / cell["seconds"], 1),
                budget_seconds=seconds,
                test_mse=cell["test_mse"],
            )
        )
    return rows


def fresh_texts(ids: list[int], vocabulary_size: int) -> Callable[[], list[int]]:
    """Each call: `ids` with another first word, so no call is answered from a reading kept for an earlier one."""
    counter = itertools.count()
    return lambda: [1 + next(counter) % (vocabulary_size - 2), *ids[1:]]


def language_model_rows(models_dir: Path, bundle, repetitions: int) -> list[dict]:
    """Next word after 50 tokens, 50 generated words and the surprisal of 400 tokens, each beside
    `model.predict` on the same model and input."""
    from rnndemo.next_word import load_language_models

    loaded = load_language_models(models_dir)
    tokens = review_of_length(bundle, 400).split()
    ids_400 = loaded.vocabulary.encode_tokens(tokens)
    ids_50 = ids_400[-50:]
    rows = []
    for name, model in loaded.neural_models().items():
        end = model.end_index
        # A language model keeps its recent texts' readings; every timed call reads a new text, as a class's do.
        new_50, new_400 = (fresh_texts(ids, model.vocabulary_size) for ids in (ids_50, ids_400))
        prefix = np.asarray([[end, *ids_50]], dtype=np.int32)
        naive = measure(lambda: model.model.predict(prefix, verbose=0)[0, -1], max(5, repetitions // 4))
        rows.append(
            row(f"lm_next_word_after_50_{name}", measure(lambda: model.next_distribution(new_50()), repetitions), naive)
        )

        def generate_by_predict(words: int = 50) -> None:
            # The naive loop: model.predict over the whole growing text for every word, greedy.
            sequence = [end, *ids_50]
            for _ in range(words):
                sequence.append(int(np.argmax(model.model.predict(np.asarray([sequence]), verbose=0)[0, -1])))

        generated = measure(lambda: model.generate(new_50(), 50, seed=1, stop_at_end=False), max(5, repetitions // 4))
        rows.append(row(f"lm_generate_50_words_{name}", generated, measure(generate_by_predict, 2, warmup=1)))
        inputs = np.asarray([[end, *ids_400[:-1]]], dtype=np.int32)
        naive = measure(lambda: model.model.predict(inputs, verbose=0), max(5, repetitions // 4))
        rows.append(row(f"lm_surprisal_400_{name}", measure(lambda: model.surprisal(new_400()), repetitions), naive))
    ngram = loaded.models.get("ngram")
    if ngram is not None:
        rows.append(row("lm_next_word_after_50_ngram", measure(lambda: ngram.next_distribution(ids_50), repetitions)))
        rows.append(row("lm_surprisal_400_ngram", measure(lambda: ngram.surprisal(ids_400), repetitions)))
    return rows


class Inputs:
    """What the sections read, loaded on first use: a run of only the race or the cold starts loads no models."""

    def __init__(self, models_dir: Path, bundle=None, glove=None) -> None:
        self.models_dir = Path(models_dir)
        if bundle is not None:
            self.__dict__["bundle"] = bundle  # the test suite's models, already loaded
        if glove is not None:
            self.__dict__["glove"] = glove

    @functools.cached_property
    def bundle(self):
        from rnndemo.serving import load_bundle

        return load_bundle(self.models_dir)

    @functools.cached_property
    def glove(self):
        from rnndemo.embeddings import load_glove

        return load_glove()


def repetitions(quick: bool) -> int:
    return 20 if quick else 100


# Each section's rows, in a full run and in a quick one (--quick checks the harness in minutes: 20 long texts in
# the soak and a 1,000-row file, where the limits allow 5,000 rows).
SECTIONS: dict[str, Callable[[Inputs, bool], list[dict]]] = {
    "models": lambda inputs, quick: model_rows(inputs.bundle, repetitions(quick)),
    "embeddings": lambda inputs, quick: embedding_rows(inputs.glove, repetitions(quick)),
    "language_models": lambda inputs, quick: language_model_rows(inputs.models_dir, inputs.bundle, repetitions(quick)),
    "batch": lambda inputs, quick: batch_rows(inputs.bundle, 500 if quick else 2500),
    "pages": lambda inputs, quick: page_rows(inputs.bundle, 5 if quick else 20),
    "cold": lambda inputs, quick: cold_rows(inputs.models_dir),
    "race": lambda inputs, quick: race_rows(5.0 if quick else 20.0),
    "soak": lambda inputs, quick: soak_rows(20, batch_rows=1_000) if quick else soak_rows(500),
}


def run_benchmark(
    models_dir: Path,
    quick: bool = False,
    as_json: bool = False,
    browser: bool = False,
    sections: tuple[str, ...] = tuple(SECTIONS),
) -> list[dict]:
    """Every chosen section's rows, printed as a table or as JSON."""
    started = time.perf_counter()
    inputs = Inputs(models_dir)
    rows = [item for section in sections for item in SECTIONS[section](inputs, quick)]
    if browser:
        from benchmarks.browser_sessions import browser_rows

        rows += browser_rows(quick=quick)
    machine = {
        "machine": platform.machine(),
        "processor_count": os.cpu_count(),
        "python": platform.python_version(),
        "seconds": round(time.perf_counter() - started, 1),
    }
    if as_json:
        print(json.dumps(rows))
    else:
        print(format_table(rows))
        print(f"\n{machine}")
    return rows


def format_table(rows: list[dict]) -> str:
    header = f"{'name':42s} {'n':>5s} {'p50 ms':>10s} {'p95 ms':>10s} {'naive p50':>10s} {'speedup':>8s}  extra"
    lines = [header, "-" * len(header)]
    for item in rows:
        extra = {
            key: value
            for key, value in item.items()
            if key not in ("name", "n", "p50_ms", "p95_ms", "naive_p50_ms", "speedup")
        }
        lines.append(
            f"{item['name']:42s} {item['n']:5d} {item['p50_ms']:10.2f} {item['p95_ms']:10.2f} "
            f"{item.get('naive_p50_ms', float('nan')):10.2f} {item.get('speedup', float('nan')):8.1f}  {extra or ''}"
        )
    return "\n".join(lines)
