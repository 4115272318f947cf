# Two commands do all the set-up: `make run` (the main job) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test bench docs clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,train]'
	touch $@

# The textbook's chapter 5: TwoLayerNet 784-50-10 on MNIST, 10,000 SGD steps of 100, lr 0.1.
run: $(VENV)/.installed
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(VENV)/bin/graphgrad train \
		--model twolayer --optimizer sgd --lr 0.1 --batch-size 100 --iters 10000 \
		--weight-init-std 0.01 --sampling replacement --seed 0 --out runs/twolayer --overwrite --min-test-accuracy 0.97

test: $(VENV)/.installed
	$(PY) -m pytest -rs

bench: $(VENV)/.installed
	$(PY) benchmarks/op_overhead.py

# The documentation site (MkDocs + Material + mkdocstrings) in site/: open site/index.html.
docs: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[docs]'
	$(VENV)/bin/mkdocs build --strict

clean:
	rm -rf $(VENV) build site *.egg-info .pytest_cache .hypothesis
