# The README's commands. Every target sets up .venv from the lock file first.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.mlplab-installed
export DVC_NO_ANALYTICS := 1
# Stage commands call `python`, `dvc`, ...: the venv comes first on PATH.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: install repro test lint format params bench lock clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $@

repro: install  ## prepare -> train -> evaluate -> report
	$(BIN)/dvc repro

test: install  ## the whole test suite (unit + integration)
	$(BIN)/pytest

bench: install  ## prepare memory and train() vs a hand-written loop -> reports/benchmarks.md
	$(BIN)/python benchmarks/run.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

params: install  ## regenerate params.yaml from configs/
	$(BIN)/python -m mlplab.config.params

lock:  ## re-resolve the lock in a throwaway venv (needs the package registry)
	rm -rf /tmp/mlplab-lock && $(PYTHON) -m venv /tmp/mlplab-lock
	/tmp/mlplab-lock/bin/pip install --quiet -e '.[dev]'
	{ head -2 requirements.lock; /tmp/mlplab-lock/bin/pip freeze --all --exclude pip --exclude-editable \
	  | sed 's/^torch==\(.*\)+cpu$$/torch==\1/'; } > requirements.lock.tmp
	mv requirements.lock.tmp requirements.lock

clean:
	rm -rf $(VENV) logs outputs .pytest_cache
