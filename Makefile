# Convene: `make run` serves the app with a Celery worker and beat; `make test` runs the suite.
# Both set themselves up (virtualenv, locked dependencies, translations) on first use.

SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# The first Python >= 3.12 found: $PYTHON, then python3.12+ on PATH, then pyenv's versions
# (3.12 first: it is what .python-version and requirements.lock name).
PYTHON ?= $(shell for c in python3.12 python3.13 python3.14 python3 python \
	$$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3 2>/dev/null | sort -rV) \
	$$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[3-9]*/bin/python3 2>/dev/null | sort -V); do \
	  p=$$(command -v $$c 2>/dev/null) || continue; \
	  $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; \
	done)

.PHONY: help run test setup lint format messages extract-messages clean bench-http bench-fanout

help:
	@echo "make run    serve http://127.0.0.1:8000/ with a Celery worker and beat (embedded defaults)"
	@echo "make test   run the test suite"
	@echo "make lint   ruff check + format check + type check (mypy) + migrations check"
	@echo "make bench-http / make bench-fanout   the benchmarks (PostgreSQL + Redis; BENCH_ARGS=...)"

$(STAMP): requirements.lock
	@if [ -z "$(PYTHON)" ]; then \
	  echo "Convene needs Python 3.12 or newer, and none was found (tried python3.12+, python3," \
	       "and $${PYENV_ROOT:-~/.pyenv}/versions)."; \
	  echo "Install one, e.g. 'pyenv install 3.12' or 'apt-get install python3.12 python3.12-venv'," \
	       "or point to it: make run PYTHON=/path/to/python3.12"; \
	  exit 1; fi
	@echo "Setting up $(VENV) with $(PYTHON) ($$($(PYTHON) --version))"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# (the grep drops pip's notes about this machine's local package folders, when absent)
	@set -o pipefail; $(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip \
	  -r requirements.lock 2>&1 | { grep -v 'is ignored: it is neither a file' || true; }
	@touch $(STAMP)

setup: $(STAMP) messages

messages: $(STAMP)
	@$(PY) manage.py compile_translations

# For translators: add new and changed strings to every locale/<lang>/LC_MESSAGES/django.po
# (file names only, no line numbers, so that moving code does not rewrite the catalogues).
# Needs GNU gettext (xgettext, msgmerge): apt-get install gettext / brew install gettext.
extract-messages: $(STAMP)
	@command -v xgettext >/dev/null && command -v msgmerge >/dev/null || { \
	  echo "extract-messages needs GNU gettext: apt-get install gettext (or brew install gettext)"; exit 1; }
	$(PY) manage.py makemessages --no-obsolete --add-location file \
	  -l ar -l zh_Hans -l fr -l ru -l es -i var -i tests -i benchmarks -i node_modules

run: setup
	@$(PY) manage.py migrate --no-input -v 0
	@$(PY) manage.py seed_demo
	@$(PY) manage.py ensure_organiser
	@$(PY) manage.py serve

test: setup
	@$(PY) -m pytest $(PYTEST_ARGS)

# The benchmarks of README's "Performance and reliability" (PostgreSQL and Redis on 127.0.0.1).
bench-http: setup
	@$(PY) -m benchmarks.http $(BENCH_ARGS)

bench-fanout: setup
	@$(PY) -m benchmarks.fanout $(BENCH_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) manage.py makemigrations --check --dry-run

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) var
