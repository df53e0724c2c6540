# The two commands a newcomer needs: `make app` and `make test`.
.PHONY: app test test-fast mutate train bench memory classroom classroom-stop

# The classroom layout's port (make classroom PORT=9000).
PORT ?= 8501

app:
	bash scripts/setup.sh
	@# Headless avoids Streamlit's first-run e-mail prompt; open a browser tab where there is a desktop.
	@(sleep 10; .venv/bin/python -m webbrowser -t http://localhost:8501 >/dev/null 2>&1 || true) &
	.venv/bin/python scripts/serve.py --server.headless true

# A class on one URL: two app processes per core behind nginx with sticky sessions (scripts/classroom.py).
# Runs in the foreground: Ctrl+C, or `make classroom-stop` from another terminal, stops every process.
classroom:
	bash scripts/setup.sh --classroom
	.venv/bin/python scripts/classroom.py start --port $(PORT)

classroom-stop:
	.venv/bin/python scripts/classroom.py stop

test:
	bash scripts/setup.sh --dev
	@# Three workers on two cores: the suite waits on servers, browsers and timers (a -n 2 CI run used 37 min of CPU
	@# in 31 min on 2 cores). The server tests queue on one worker and the Chromium sweep on another (tests/conftest.py).
	.venv/bin/python -m pytest -q -n 3 --dist loadgroup --durations 15

# The quick loop while working: unit, golden and AppTest tests in two workers (its time is in docs/ARCHITECTURE.md);
# no browser, benchmark, training or hostile sweeps over every page (those are `slow`, in `make test`).
# --dist loadscope hands each test file to one worker, so a file's module fixtures (the tiny race, the tiny language
# models) are built once, not once per worker (measured: 130 s of CPU against 138 s with the default --dist load).
test-fast:
	bash scripts/setup.sh --dev
	.venv/bin/python -m pytest -q -n 2 --dist loadscope -m "not slow and not browser"

# Mutation testing (not part of `make test`): mutmut changes the core modules one small edit at a time and runs
# their fast tests (pyproject.toml's [tool.mutmut]); every mutant must be killed. The text and vocab stages, the CSV
# escaping of batch downloads, the whole of inspect (its TensorFlow traces and occlusion included), and model loading
# in serving. Score, run time and what is left: docs/ARCHITECTURE.md. MUTANTS="..." overrides the set.
MUTANTS ?= "rnndemo.text.*" "rnndemo.vocab.*" "rnndemo.batch.x_neutralise_cell*" "rnndemo.batch.x_csv_*" \
	"rnndemo.serving.x__load_*" "rnndemo.serving.x_load_*" "rnndemo.inspect.*"

mutate:
	bash scripts/setup.sh --dev
	rm -rf mutants
	.venv/bin/mutmut run $(MUTANTS)
	.venv/bin/python scripts/mutation_score.py $(MUTANTS)

train:
	bash scripts/setup.sh
	.venv/bin/python -m rnndemo train

memory:
	bash scripts/setup.sh
	.venv/bin/python -m rnndemo memory

bench:
	bash scripts/setup.sh --dev
	.venv/bin/python -m benchmarks
