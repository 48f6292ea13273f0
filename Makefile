# The two set-up commands: `make demo` and `make test`. Each creates .venv when
# missing and installs the package with what it needs, then runs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo-output

.PHONY: demo test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed-%: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[$*]'
	@touch $@

# The tests also cover the optional Redis fleet support (tests/fleet) and batch runs on Ray (tests/batch).
$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test,redis,ray]'
	@touch $@

demo: $(VENV)/.installed-demo
	$(BIN)/adlens demo --out $(DEMO_DIR)

test: $(VENV)/.installed-test
	tools/ensure-chromium
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/vision.py
	$(BIN)/python benchmarks/signage.py
	$(BIN)/python benchmarks/recommend.py
	$(BIN)/python benchmarks/uplift.py
	$(BIN)/python benchmarks/api.py
	$(BIN)/python benchmarks/decide_cost.py

clean:
	rm -rf $(DEMO_DIR) .pytest_cache
