# The two commands a newcomer needs: `make app` and `make test`.
.PHONY: app test train bench memory

app:
	bash scripts/setup.sh
	@# Headless avoids Streamlit's first-run e-mail prompt; open a browser tab where there is a desktop.
	@(sleep 10; .venv/bin/python -m webbrowser -t http://localhost:8501 >/dev/null 2>&1 || true) &
	.venv/bin/python -m streamlit run app.py --server.headless true

test:
	bash scripts/setup.sh --dev
	.venv/bin/python -m pytest -q

train:
	bash scripts/setup.sh
	.venv/bin/python -m rnndemo train

memory:
	bash scripts/setup.sh
	.venv/bin/python -m rnndemo memory

bench:
	bash scripts/setup.sh --dev
	.venv/bin/python -m rnndemo bench
