# litecreds: `make run` serves it, `make test` tests it. Both start from a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: run test lint format bench clean litellm-env

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed
	$(BIN)/python -m litecreds.bootstrap
	$(BIN)/gunicorn litecreds.wsgi --bind 127.0.0.1:$(PORT) --workers 2 --access-logfile - --log-level warning

test: $(VENV)/.dev-installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(VENV)/.dev-installed
	$(BIN)/python bench/all.py

# The LiteLLM proxy for tests/test_litellm_proxy.py (large; .ci/run builds it).
litellm-env: .venv-litellm/.installed

.venv-litellm/.installed: requirements-litellm.txt
	$(PYTHON) -m venv .venv-litellm
	.venv-litellm/bin/pip install --quiet -r requirements-litellm.txt
	touch $@

clean:
	rm -rf $(VENV) .venv-litellm .pytest_cache .ruff_cache .hypothesis
