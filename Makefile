# Two commands do everything on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: help install run test test-calendar lint chromium format clean-var

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
	$(MAKE) --no-print-directory test-calendar

# The suites whose results depend on "today", again at each date of tests/calendar/dates.py.
test-calendar: install
	$(PY) scripts/calendar_tests.py

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py compute_metrics --full
	$(PY) manage.py fit_propensity
	$(PY) manage.py evaluate_alerts
	$(PY) manage.py send_digests
	@echo ""
	@echo "  UCE pod dashboard: http://127.0.0.1:8000"
	@echo "  Demo logins (password: demo): admin (superuser), leader (leads two pods), staff (Southeast US, Learn), analyst (center of excellence: reads every pod)"
	@echo "  Mail (weekly digests, alerts) is written under var/mail/, one file per message."
	@echo "  Ctrl-C stops web, worker and beat."
	@echo ""
	@# On exit (Ctrl-C), stop the embedded PostgreSQL if nothing uses it any more.
	trap '$(PY) -m uce.embedded_db stop' EXIT; trap 'exit 130' INT TERM; PATH="$(BIN):$$PATH" $(BIN)/honcho start --procfile Procfile

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean-var:
	rm -rf var/

# Performance at scale, small size (1 million activities: about two minutes on 2 cores today, most of it the
# import); `python manage.py benchmark` runs the full 10 million. Both print the table and write docs/PERFORMANCE.md.
.PHONY: bench
bench: install
	$(PY) manage.py benchmark --activities 1000000 --pods 40 --accounts 20000

# Reliability figures in docs/RELIABILITY.md: access matrix, API fuzzing, hostile inputs, the fault tests with
# a one-minute broker outage, bandit and pip-audit as `make audit` runs them (an advisory service that cannot be
# reached is reported as "not run here", not as a pass or a failure) and a two-minute load test on loopback
# (several minutes in all).
.PHONY: reliability
reliability: install
	$(PY) scripts/reliability_report.py

# Supply chain (docs/SECURITY.md): bandit, then pip-audit of the pinned requirements. --strict fails when a
# package cannot be looked up, so a run that could not reach the advisory data never reads as "clean".
.PHONY: audit
audit: install
	$(BIN)/bandit -r pods jobs metrics devtools uce -ll --quiet
	$(BIN)/pip-audit -r requirements.txt --strict --progress-spinner off
