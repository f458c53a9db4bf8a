# Two entry points for a fresh machine:
#   make book   run every chapter (papermill) and build the HTML book into _build/html
#   make test   lint and layer contracts, unit tests, smoke-scale chapters, nbval, strict HTML build, browser check
# Both create .venv and install what they need from pyproject.toml + constraints.txt.

PYTHON  ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
SCALE   ?= full
RETRAIN ?= 0
PARAMS  ?=
# Extra papermill parameters for every chapter, e.g.  make book PARAMS='-p seeds 5'

STAMP := $(VENV)/.installed

.PHONY: book test install lint unit chapters-smoke nbval html browser constraints clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[book,test]'
	touch $@

install: $(STAMP)

book: $(STAMP)
	$(BIN)/python -m augrnn.book.runbook execute --scale $(SCALE) $(if $(filter 1 true yes,$(RETRAIN)),--retrain) $(PARAMS)
	$(BIN)/python -m augrnn.book.runbook html

test: $(STAMP)
	$(MAKE) lint unit chapters-smoke nbval html browser

# ruff (lint and format) and the import-linter contracts of pyproject.toml (the package's layers).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/python -m pytest -q -m "not book" tests

chapters-smoke: $(STAMP)
	$(BIN)/python -m augrnn.book.runbook execute --scale smoke

# nbval re-runs the executed copies (their injected parameters say scale="smoke") and compares the
# outputs of cells tagged nbval-check-output. It reuses the smoke runs that chapters-smoke has just
# trained (AUGRNN_REUSE_SMOKE=1), so it checks that each chapter runs and computes the same outputs
# from them; that training repeats its numbers is tests/book/test_same_seed.py's check (in unit).
nbval: $(STAMP)
	AUGRNN_REUSE_SMOKE=1 $(BIN)/python -m pytest -q --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
		_build/executed/book

html: $(STAMP)
	$(BIN)/python -m augrnn.book.runbook html

browser: $(STAMP)
	$(BIN)/python -m pytest -q -m book tests

constraints:
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^augrnn' \
		| sed 's/^torch==\([0-9.]*\)+.*/torch==\1/' > constraints.body
	{ sed -n '1,3p' constraints.txt; cat constraints.body; } > constraints.new && rm constraints.body
	mv constraints.new constraints.txt

clean:
	rm -rf _build
