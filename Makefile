# sdo-overlap: everything runs from the project's own .venv (Python 3.11).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The bundled embedding model is read from site-packages; never reach a hub.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install demo test lint bench evaluate clean-venv

install: $(STAMP)

# torch first, pinned to the CPU wheel, so nothing later pulls a CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "torch==2.13.0"
	$(BIN)/pip install --quiet -e ".[models,dev]"
	touch $(STAMP)

demo: install
	$(BIN)/sdo-overlap run --snapshot data/raw/sample

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check pipeline tests benchmarks
	$(BIN)/ruff format --check pipeline tests benchmarks

# Matcher sizes, then enrich/embed/areas cold, warm and 1 %-changed on a 3,000-item corpus slice
# (the previous path measured in the same run as the baseline; BERTopic row with .[bench]).
bench: install
	$(BIN)/python benchmarks/run_benchmarks.py
	$(BIN)/python benchmarks/bench_pipeline.py --n 3000

evaluate: install
	$(BIN)/sdo-overlap evaluate-corpus --corpus ../shared/data/corpus --gold ../shared/eval

clean-venv:
	rm -rf $(VENV)
