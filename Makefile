# Every target builds .venv from pyproject.toml first, so a fresh clone needs only Python 3.11.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test fuzz bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/codestand serve

test: $(STAMP)
	$(BIN)/python -m pytest

# Schemathesis on both stores for CODESTAND_FUZZ_MINUTES (default 12), round after round with
# fresh seeds, then a table of what was sent (tests/fuzz.py).
fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
