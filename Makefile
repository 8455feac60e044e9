# Two commands on a fresh machine with only Python 3.11+: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test venv typecheck lint lock clean

$(BIN)/hplj: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(BIN)/hplj

venv: $(BIN)/hplj

demo: venv
	$(BIN)/hplj demo

test: venv
	$(BIN)/python -m mypy  # strict, on every package: [tool.mypy] in pyproject.toml
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check .

# requirements.txt (the lock a PaaS and the Dockerfile install) from pyproject.toml and this venv
lock: venv
	$(BIN)/python tools/lock_requirements.py

clean:
	rm -rf $(VENV)
