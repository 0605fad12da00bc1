# Real2Sim: every target first brings .venv up to date (scripts/bootstrap.sh, idempotent).
VENV ?= .venv
PY := $(VENV)/bin/python
export ROS_AUTOMATIC_DISCOVERY_RANGE ?= LOCALHOST

.PHONY: setup demo test test-slow lint bench help
help:
	@echo "make demo      - set up .venv, then run the pipeline on the bundled example"
	@echo "make test      - set up .venv, then run the default test suite"
	@echo "make test-slow - the slow tests (training, full benchmarks)"
	@echo "make bench     - the benchmarks/ scripts"

setup:
	@bash scripts/bootstrap.sh

demo: setup
	$(VENV)/bin/real2sim demo

test: setup
	@bash scripts/install_test_tools.sh
	$(PY) -m pytest -q

test-slow: setup
	$(PY) -m pytest -q -m slow

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks scripts
