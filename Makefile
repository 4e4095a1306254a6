# Every target builds .venv from pyproject.toml first, so a fresh clone needs only Python 3.11.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-quick fuzz bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/codestand serve

test: $(STAMP)
	$(BIN)/python -m pytest

# For iteration: every suite on the memory store only, stopping at the first failure.
test-quick: $(STAMP)
	CODESTAND_TEST_STORES=memory $(BIN)/python -m pytest -x -q

# Schemathesis on both stores for CODESTAND_FUZZ_MINUTES (default 12), round after round with
# fresh seeds, then a table of what was sent (tests/fuzz.py).
fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
