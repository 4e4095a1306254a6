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

# A longer Schemathesis session than the one `make test` runs.
fuzz: $(STAMP)
	CODESTAND_FUZZ_EXAMPLES=$${CODESTAND_FUZZ_EXAMPLES:-500} $(BIN)/python -m pytest tests/contract -v

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
