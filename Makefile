# The two commands a newcomer needs: `make demo` and `make test`. Both build .venv first if it is missing.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench venv clean calibrate check-contract

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (kstance needs Python 3.11)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	# torch first and pinned: only 2.13.0 is the small CPU build here
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -c constraints.txt -e '.[test,onnx,postgres]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/kstance demo

# two pytest-xdist workers, whole test files each (module fixtures are built once): the suite waits on servers and
# subprocesses much of the time, so two workers on two cores finish sooner (BENCHMARKS.md, "test suite")
TEST_WORKERS ?= 2
test: $(STAMP)
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) -m benchmarks

calibrate: $(STAMP)
	$(VENV)/bin/kstance calibrate

check-contract: $(STAMP)
	$(PY) ../shared/tools/check-contract

clean:
	rm -rf $(VENV) .kstance .pytest_cache
