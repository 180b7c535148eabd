# Two commands: `make run` sets up and runs quizgen on the course in content/; `make test` sets up and
# runs the tests. Both create .venv on first use. torch is pinned to the CPU wheel this machine has on
# disk: an unpinned torch would download several GB of CUDA libraries.
VENV ?= .venv
PYTHON ?= python3
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin

.PHONY: setup run test clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check "$(TORCH)"
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[lab,test]"
	touch $@

run: setup
	$(BIN)/quizgen check content

test: setup
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build .pytest_cache .hypothesis
