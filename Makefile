# Two commands do all the set-up: `make run` (the main job) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,train]'
	touch $@

run: $(VENV)/.installed
	$(PY) examples/shopping_graph.py
	$(PY) examples/cs231n_gates.py
	$(PY) examples/sigmoid_graph.py

test: $(VENV)/.installed
	$(PY) -m pytest

bench: $(VENV)/.installed
	$(PY) benchmarks/op_overhead.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
