# The two commands a newcomer needs: `make app` and `make test`.
.PHONY: app test train bench memory

app:
	bash scripts/setup.sh
	.venv/bin/python -m streamlit run app.py --server.headless false

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
