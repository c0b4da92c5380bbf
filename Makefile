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

.PHONY: run test test-fast lint fmt demo messages worker browser clean lock

# Exactly the versions (and hashes) in the lock, then the project itself without resolving anything again.
$(STAMP): requirements-test.txt pyproject.toml
	@echo "Installing CourseLens and its locked dependencies into $(VENV) (once; again when the lock changes)"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -qq --require-hashes -r requirements-test.txt
	$(PY) -m pip install -qq --no-deps -e .
	touch $(STAMP)

# Regenerate both locks from pyproject.toml (after changing a dependency there; see README).
# The test lock is constrained by the runtime one, so the image and the tests run the same versions.
UV_COMPILE = $(VENV)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock" --quiet
lock: $(STAMP)
	$(PY) -m pip install -qq "uv>=0.5,<1"
	$(UV_COMPILE) $(LOCK_ARGS) -o requirements.txt
	$(UV_COMPILE) $(LOCK_ARGS) --extra test -c requirements.txt -o requirements-test.txt

# Standalone demo: SQLite under var/, on-disk Celery broker, a real worker (with beat) beside the web server.
# Ctrl-C (or SIGTERM to make) stops both; nothing is left running.
run: export DEBUG ?= 1
run: demo
	@echo "CourseLens: http://$(HOST):$(PORT)/  (demo accounts in README; Ctrl-C stops web and worker)"
	@var=$${COURSELENS_VAR_DIR:-var}; \
	$(VENV)/bin/celery -A courselens worker --beat --loglevel=INFO --concurrency=1 \
	  --schedule="$$var/celerybeat-schedule" & worker=$$!; \
	$(PY) manage.py runserver $(HOST):$(PORT) --noreload & web=$$!; \
	trap 'kill -TERM $$web $$worker 2>/dev/null; wait $$worker; exit 0' INT TERM; \
	wait $$web; status=$$?; kill -TERM $$worker 2>/dev/null; wait $$worker; exit $$status

# Migrate, compile translations, load the demo catalog + reviews, run one extraction and rank.
demo: export DEBUG ?= 1
demo: $(STAMP) messages
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo

# locale/*.po → .mo (msgfmt); the .mo files are committed too, so a machine without gettext still works.
messages: export COURSELENS_DEV = 1
messages: $(STAMP)
	@$(PY) manage.py compilemessages --ignore=.venv --verbosity=0 || \
	  echo "warning: compilemessages failed; the committed .mo files are used"

worker: $(STAMP)
	$(VENV)/bin/celery -A courselens worker --loglevel=INFO

# The suite runs against the local PostgreSQL and Redis (override DATABASE_URL / REDIS_URL to point elsewhere).
# COURSELENS_REQUIRE_SERVICES makes the run fail, never skip, when either is missing or does not answer.
test: export DATABASE_URL ?= $(TEST_DATABASE_URL)
test: export REDIS_URL ?= $(TEST_REDIS_URL)
test: export COURSELENS_REQUIRE_SERVICES = 1
test: $(STAMP) messages browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	COURSELENS_DEV=1 $(VENV)/bin/mypy
	$(PY) -m pytest $(PYTEST_ARGS)

# Fast tests on the standalone SQLite configuration (no servers, no browser).
test-fast: export DATABASE_URL =
test-fast: export REDIS_URL =
test-fast: export COURSELENS_REQUIRE_SERVICES =
test-fast: $(STAMP) messages
	$(PY) -m pytest -m "not e2e and not worker and not redis and not postgres" $(PYTEST_ARGS)

# Debian's chromium for the end-to-end tests (Playwright drives /usr/bin/chromium; nothing downloads a browser).
browser:
	@test -x /usr/bin/chromium || { \
	  sudo=$$(test "$$(id -u)" = 0 || echo sudo); \
	  echo "Installing Debian's chromium for the end-to-end tests"; \
	  $$sudo apt-get update -qq && \
	  $$sudo apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null; }

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	COURSELENS_DEV=1 $(VENV)/bin/mypy

fmt: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf var staticfiles .pytest_cache
