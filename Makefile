# CourseLens: `make run` serves the demo site, `make test` runs the suite (PostgreSQL + Redis on 127.0.0.1).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/courselens
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
PYTEST_ARGS ?=

.PHONY: run test test-fast lint fmt demo worker browser clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# Standalone demo: SQLite under var/, on-disk Celery broker, a real worker beside the web server.
run: export DEBUG ?= 1
run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py compilemessages --ignore=.venv >/dev/null 2>&1 || true
	$(PY) manage.py load_demo
	@echo "CourseLens: http://$(HOST):$(PORT)/  (demo accounts in README; Ctrl-C stops web and worker)"
	@trap 'kill 0' INT TERM EXIT; \
	$(VENV)/bin/celery -A courselens worker --beat --loglevel=INFO --concurrency=1 --schedule=var/celerybeat-schedule & \
	$(PY) manage.py runserver $(HOST):$(PORT) --noreload

worker: $(STAMP)
	$(VENV)/bin/celery -A courselens worker --loglevel=INFO

# The suite runs against the local PostgreSQL and Redis (override DATABASE_URL / REDIS_URL to point elsewhere).
test: export DATABASE_URL ?= $(TEST_DATABASE_URL)
test: export REDIS_URL ?= $(TEST_REDIS_URL)
test: $(STAMP) browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest $(PYTEST_ARGS)

# Fast tests on the standalone SQLite configuration (no servers, no browser).
test-fast: export DATABASE_URL =
test-fast: export REDIS_URL =
test-fast: $(STAMP)
	$(PY) -m pytest -m "not e2e and not worker and not redis" $(PYTEST_ARGS)

browser:
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || \
	  (echo "Installing Debian's chromium for the end-to-end tests" && \
	   $$(test "$$(id -u)" = 0 || echo sudo) apt-get install -y --no-install-recommends chromium fonts-noto-cjk >/dev/null || \
	   ($$(test "$$(id -u)" = 0 || echo sudo) apt-get update >/dev/null && \
	    $$(test "$$(id -u)" = 0 || echo sudo) apt-get install -y --no-install-recommends chromium fonts-noto-cjk >/dev/null))

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf var staticfiles .pytest_cache
