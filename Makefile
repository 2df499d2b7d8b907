# The two commands that work on a fresh machine (Python 3.11+, no AWS, no Docker):
#   make run    runs the main job on the embedded default
#   make test   runs the tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-extras bench conformance model data clean venv serving-code

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install when the project's metadata changes. The job libraries (numpy, pandas,
# scikit-learn, ...) are held to the versions the inference image pins, so the baked-in model
# unpickles here as it does in the image, and `smlift build` can reuse this environment.
CONSTRAINTS := containers/inference/requirements.txt
$(STAMP): pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]' -c $(CONSTRAINTS)
	touch $@

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/smlift run --parity

test: $(STAMP)
	$(BIN)/python -m pytest

# The extras pin old packages (sagemaker<3, setuptools<81): they get a venv of their own, so
# the main .venv stays as the image pins it.
EXTRAS := .venv-extras
test-extras:
	test -x $(EXTRAS)/bin/python || $(PYTHON) -m venv $(EXTRAS)
	$(EXTRAS)/bin/python -m pip install --quiet -e '.[test,studio,notebook]'
	$(EXTRAS)/bin/python -m pytest -m extras

conformance: $(STAMP)
	$(BIN)/python ../shared/conformance/run.py ../shared/conformance/cases --jobs 2 --failures -- $(BIN)/smlift execute

bench: $(STAMP)
	$(BIN)/python bench/asl_engine.py
	$(BIN)/python bench/pipeline_vs_legacy.py

# The model baked into containers/inference/: the legacy train.py, run untouched (its relative
# paths, its seed) in a scratch folder on 50,000 generated bookings.
model: $(STAMP)
	tmp=$$(mktemp -d) && cp legacy_src/*.py $$tmp/ && \
	(cd $$tmp && $(CURDIR)/$(BIN)/python make_data.py && $(CURDIR)/$(BIN)/python train.py) && \
	cp $$tmp/model/model.pkl containers/inference/model.pkl && rm -rf $$tmp

# The inference image serves too (containers/inference/serve.py), with the pipeline's cleaning and
# business rules: its build context holds copies of the two scripts (a test fails when they differ).
serving-code:
	cp scripts/preprocessing.py scripts/postprocessing.py containers/inference/

# The example input: 2,000 dirty bookings, a different seed from the training data.
data: $(STAMP)
	cd legacy_src && $(CURDIR)/$(BIN)/python make_data.py --rows 2000 --seed 7 --out $(CURDIR)/examples/data/bookings.csv

clean:
	rm -rf $(VENV) $(EXTRAS) .smlift .pytest_cache
