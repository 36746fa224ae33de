# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.omniplay-installed

.PHONY: setup demo test lock clean

setup: $(STAMP)

$(STAMP): pyproject.toml requirements/lock.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "omniplay needs Python 3.11+"'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/lock.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

demo: setup
	$(BIN)/omniplay demo

test: setup
	$(BIN)/python -m pytest

# Re-resolve the pinned set from pyproject.toml (maintainers only).
lock:
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/python -m pip install --quiet -e '.[postgres,spark,test]'
	.lockvenv/bin/python -m pip freeze --exclude-editable | grep -v '^omniplay' > requirements/lock.txt
	rm -rf .lockvenv

clean:
	rm -rf target dbt_packages logs data/demo
