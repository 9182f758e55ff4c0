# newsdesk — `make run` serves the chat on the seed archive; `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: run test lint index browser bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# `make run` installs only what running needs; the test tools and the LLM test server (llama.cpp
# compiles from source, ~4–5 min) are installed by `make test` alone.
$(RUN_STAMP): pyproject.toml | $(PY)
	$(PIP) install --quiet -e .
	touch $(RUN_STAMP)

$(TEST_STAMP): pyproject.toml | $(PY)
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(PIP) install --quiet -e '.[test,llm,ray]'
	touch $(TEST_STAMP) $(RUN_STAMP)

run: $(RUN_STAMP)
	@if [ ! -f "$${NEWSDESK_INDEX_DIR:-index}/LIVE" ]; then $(VENV)/bin/newsdesk index rebuild; fi
	$(PY) app.py

index: $(RUN_STAMP)
	$(VENV)/bin/newsdesk index rebuild

# Debian's Chromium drives the browser tests (never `playwright install`).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check assistant tests benchmarks evals app.py
	$(VENV)/bin/mypy assistant

test: $(TEST_STAMP) browser lint
	$(VENV)/bin/pytest -q -rs

bench: $(TEST_STAMP)
	$(PY) benchmarks/index_throughput.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
