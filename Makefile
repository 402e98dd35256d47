# Two commands do all set-up: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
LAB_STAMP := $(VENV)/.lab-stamp
# jsii (under aws-cdk-lib) prints a banner on Node versions past end of life; it is noise here.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := $(shell node -p "process.versions.node.split('.')[0]" 2>/dev/null)
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

.PHONY: setup demo test lab bench bench-parts soak clean

setup: $(STAMP)

# Re-installs only when the project's dependency files change: a second `make setup` is a no-op.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: setup
	$(PY) -m pipeline_lib demo

test: setup
	$(PY) -m pytest
	$(PY) -m pytest --nbmake notebooks

# The one benchmark: the pipeline at scale, last line JSON (ITEMS=1000000 make bench for a million).
bench: setup
	$(PY) -m pipeline_lib bench --items $(or $(ITEMS),100000)

# Component benchmarks (Kinesis store vs moto's, local Athena vs DuckDB over a 1M-row lake).
bench-parts: setup
	$(PY) -m pytest -m benchmark -s tests/benchmarks

# The pipeline under random injected faults for SOAK_SECONDS (default 180), then a reconciliation.
SOAK_SECONDS ?= 180
soak: setup
	$(PY) tests/soak/soak.py --seconds $(SOAK_SECONDS)

$(LAB_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,lab]'
	@touch $(LAB_STAMP)

lab: $(LAB_STAMP)
	$(VENV)/bin/jupyter lab notebooks/

clean:
	rm -rf $(VENV) cdk.out .workbench .pytest_cache
