# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	PODIUM_HOME=$${PODIUM_HOME:-out/home} $(BIN)/podium demo --out out/demo.mp4

# The whole suite: lint and import order, then every test (the slow end-to-end ones too).
test: lint
	$(BIN)/python -m pytest -q --durations=15

# The fast tier while working: everything but the tests marked slow.
test-fast: lint
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python benchmarks/render_speed.py

clean:
	rm -rf out $(VENV)
