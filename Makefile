# Real2Sim: every target first brings .venv up to date (scripts/bootstrap.sh, idempotent).
VENV ?= .venv
PY := $(VENV)/bin/python
export ROS_AUTOMATIC_DISCOVERY_RANGE ?= LOCALHOST

.PHONY: setup demo test test-slow lint bench help demos models results
help:
	@echo "make demo      - set up .venv, then run the pipeline on the bundled example"
	@echo "make test      - set up .venv, then run the default test suite"
	@echo "make test-slow - the slow tests (training, full benchmarks)"
	@echo "make bench     - the benchmarks/ scripts"
	@echo "make demos     - estimate the Something-Else videos into models/demos/ (~15 min)"
	@echo "make models    - train + benchmark the shipped policies (one at a time; hours)"
	@echo "make results   - regenerate results/README.md from models/ and results/"

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

demos: setup
	bash scripts/estimate_demos.sh

models: setup
	bash scripts/train_models.sh
	$(PY) scripts/make_results.py

results: setup
	$(PY) scripts/make_results.py
