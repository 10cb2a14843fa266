# The README's commands. Every target but help sets up $(VENV) from the lock file first.
# Another Python: `make test-fast PYTHON=python3.12 VENV=.venv-3.12` (any of 3.11-3.13).
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.mlplab-installed
PLOTS_PAGE := .dvc/offline_plots.html
export DVC_NO_ANALYTICS := 1
# Stage commands call `python`, `dvc`, ...: the venv comes first on PATH.
export PATH := $(abspath $(BIN)):$(PATH)

.DEFAULT_GOAL := help
.PHONY: help install hooks repro test test-fast lint typecheck format params bench studies lock clean

help:  ## list these targets (`make` alone does this)
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' \
	  $(firstword $(MAKEFILE_LIST))

install: $(STAMP) $(PLOTS_PAGE)  ## create .venv (or VENV=...) from requirements.lock; every target does this first

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-deps -r requirements.lock
	# The lock's torch is this machine's CPU wheel on 3.11 (nothing more to install); on 3.12+
	# pip takes PyPI's CUDA build, whose nvidia-* libraries this resolves (several GB).
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $@

# `dvc plots show`/`diff`'s page (.dvc/config plots.html_template), Vega inline: works offline.
$(PLOTS_PAGE): $(STAMP)
	$(BIN)/python -m mlplab.reporting.vega_template $@

hooks: install  ## install the git pre-commit hooks (ruff, mypy) from .pre-commit-config.yaml
	$(BIN)/pre-commit install

repro: install  ## prepare -> train -> evaluate -> report
	$(BIN)/dvc repro

test: install  ## the whole test suite (unit + integration)
	$(BIN)/pytest

test-fast: install  ## the unit tests (tests/unit: no Trainer run, DVC or DDP): under a minute
	$(BIN)/pytest tests/unit -m "not slow"

bench: install  ## train() vs a hand-written loop, < 3 min (BENCH=--full: longer) -> reports/benchmarks.md
	$(BIN)/python benchmarks/run.py $(BENCH)

studies: install  ## every study preset at its default budget (~16 min here) -> reports/studies/, README Results
	$(BIN)/python src/study.py study=all

lint: install  ## ruff check, ruff format --check and mypy (what CI runs)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

typecheck: install  ## mypy alone, on the files [tool.mypy] lists in pyproject.toml
	$(BIN)/mypy

format: install  ## ruff check --fix, then ruff format
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

clean:  ## remove .venv (or VENV=...), logs/, outputs/ and the tool caches
	rm -rf $(VENV) logs outputs .pytest_cache .mypy_cache
