# Two commands: `make run` sets up and runs quizgen on the course in content/; `make test` sets up and
# runs the tests. Both create .venv on first use. torch is pinned to the CPU wheel this machine has on
# disk: an unpinned torch would download several GB of CUDA libraries.
VENV ?= .venv
PYTHON ?= python3
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --quiet --disable-pip-version-check

.PHONY: setup test-setup system-packages run test test-fast test-slow clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) "$(TORCH)"
	$(PIP) -e ".[lab,test,cluster]"
	touch $@

# The tests drive a real browser (Debian's chromium) and run the Nu HTML Checker (Java), axe-core and
# gift-pegjs from npm; `quizgen grade` jails notebooks with bubblewrap. apt-get needs root, as CI has;
# elsewhere install chromium and bubblewrap yourself.
system-packages:
	@command -v chromium >/dev/null && command -v java >/dev/null && command -v bwrap >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium default-jre-headless \
	    bubblewrap >/dev/null)

node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --silent
	touch $@

test-setup: setup system-packages node_modules/.installed

# The main job on the embedded course: check it, run its labs (cached in build/lab-cache; about
# 3 minutes for the three on 2 CPU cores, said before they start) and build the site, the notebooks
# and every export into build/.
run: setup
	$(BIN)/quizgen check content
	$(BIN)/quizgen verify --seeds 1
	$(BIN)/quizgen build

# verify runs every lab once with the shipped checkpoint and checks every claim the course makes.
test: test-setup
	$(BIN)/quizgen verify --seeds 1
	$(BIN)/python -m pytest

# While working: every test but those marked slow (full-size notebooks, grading in the sandbox, the
# wheel), a few minutes on 2 cores. `make test` runs everything, as CI does; test-slow the rest.
test-fast: test-setup
	$(BIN)/python -m pytest -m "not slow"

test-slow: test-setup
	$(BIN)/quizgen verify --seeds 1
	$(BIN)/python -m pytest -m slow

clean:
	rm -rf $(VENV) build node_modules .pytest_cache .hypothesis
