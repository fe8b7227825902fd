# Two commands on a fresh machine: `make demo` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch==2.13.0 resolves to the CPU wheel on the reference machines; see README for CUDA builds.
TORCH := torch==2.13.0

.PHONY: install install-dev demo test test-fast lint docs bench-ped2 clean-demo

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q $(TORCH)
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[dev,all]'
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

# Train the U-Net briefly on the built-in synthetic dataset, score its test videos, fuse and evaluate.
demo: install
	@set -e; run=outputs/demo/$$(date +%Y-%m-%d_%H-%M-%S); \
	$(BIN)/python train.py experiment=demo hydra.run.dir=$$run/train; \
	$(BIN)/python predict.py ckpt_path=$$run/train hydra.run.dir=$$run/predict; \
	$(BIN)/python ensemble.py "members=[$$run/predict]" hydra.run.dir=$$run/ensemble; \
	echo "demo outputs: $$run"

test: install-dev
	$(BIN)/python -m pytest -q

# The edit loop: unit tests and the few-step trainings, not the slow end-to-end runs (under
# 2 minutes on 2 cores); `make test` is the full suite CI runs.
test-fast: install-dev
	$(BIN)/python -m pytest -q -m "not slow"

# The documentation site (docs/, mkdocs.yml) into site/; --strict: a warning is an error.
docs: install-dev
	$(BIN)/mkdocs build --strict --site-dir site

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
