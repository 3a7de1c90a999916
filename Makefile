# Two commands do everything on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: help install run test lint chromium format clean-var

help:
	@echo "make run   - install, migrate, seed the demo, start web + worker + beat on http://127.0.0.1:8000"
	@echo "make test  - install what the tests need (Chromium included) and run every test"
	@echo "make lint  - ruff"

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

# Browser tests drive Debian's Chromium (Playwright cannot download browsers here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install chromium lint
	$(BIN)/pytest

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py compute_metrics --full
	@echo ""
	@echo "  UCE pod dashboard: http://127.0.0.1:8000"
	@echo "  Demo logins (password: demo): admin (superuser), leader (leads two pods), staff (Southeast US, Learn)"
	@echo "  Ctrl-C stops web, worker and beat."
	@echo ""
	@# On exit (Ctrl-C), stop the embedded PostgreSQL if nothing uses it any more.
	trap '$(PY) -m uce.embedded_db stop' EXIT; trap 'exit 130' INT TERM; PATH="$(BIN):$$PATH" $(BIN)/honcho start --procfile Procfile

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean-var:
	rm -rf var/
