# The two commands: `make demo` and `make test` (and `make serve` for the FastAPI example).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SERVE_STAMP := $(VENV)/.installed-serve
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: test demo serve docs bench bench-venv lint clean

$(STAMP): setup.cfg setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,docs]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/sphinx-build -q -W -b html docs docs/_build/html
	$(BIN)/python -m pytest -q

demo: $(STAMP)
	$(BIN)/python examples/blog.py

$(SERVE_STAMP): $(STAMP)
	$(BIN)/pip install -q -e '.[fastapi]'
	touch $(SERVE_STAMP)

# The FastAPI example, in memory unless MONGOMOTOR_URI names a server.
serve: $(SERVE_STAMP)
	$(BIN)/uvicorn --app-dir examples fastapi_app.app:app --host $(HOST) --port $(PORT)

docs: $(STAMP)
	$(BIN)/sphinx-build -W -b html docs docs/_build/html

# The fake server measures the clients' own cost; BENCH_ARGS="--server nx" uses nx-27017.
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

# mongomotor 0.17.3 from PyPI in bench/.venv-0173 (python -m bench also makes it on first use).
bench-venv: $(STAMP)
	$(BIN)/python -c "from bench.legacy import ensure_venv; import sys; sys.exit(ensure_venv())"

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) docs/_build .pytest_cache bench/.venv-0173
