# The two commands a newcomer needs: `make app` and `make test`.
.PHONY: app test test-fast train bench memory

app:
	bash scripts/setup.sh
	@# Headless avoids Streamlit's first-run e-mail prompt; open a browser tab where there is a desktop.
	@(sleep 10; .venv/bin/python -m webbrowser -t http://localhost:8501 >/dev/null 2>&1 || true) &
	.venv/bin/python scripts/serve.py --server.headless true

test:
	bash scripts/setup.sh --dev
	.venv/bin/python -m pytest -q

# The quick loop while working (under a minute on 2 cores): unit, golden and AppTest tests in two workers;
# no browser, benchmark, training or hostile sweeps over every page (those are `slow`, in `make test`).
test-fast:
	bash scripts/setup.sh --dev
	.venv/bin/python -m pytest -q -n 2 -m "not slow and not browser"

train:
	bash scripts/setup.sh
	.venv/bin/python -m rnndemo train

memory:
	bash scripts/setup.sh
	.venv/bin/python -m rnndemo memory

bench:
	bash scripts/setup.sh --dev
	.venv/bin/python -m benchmarks
