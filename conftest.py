"""Loaded before any test module: configure Django for the test run.

pytest-django would import the settings before this file runs if DJANGO_SETTINGS_MODULE were set in
pyproject.toml, and the settings refuse to start without SECRET_KEY unless DEBUG or COURSELENS_DEV is set;
so both variables are set here and Django is set up right away (pytest-django's documented
"configure in a conftest" path).

The run gets its own var directory, so the on-disk Celery broker of a `make run` beside it never
receives the tests' messages (nor the other way round).
"""

import atexit
import os
import shutil
import tempfile

import django

os.environ.setdefault("COURSELENS_DEV", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courselens.settings")
if "COURSELENS_VAR_DIR" not in os.environ:
    os.environ["COURSELENS_VAR_DIR"] = tempfile.mkdtemp(prefix="courselens-test-var-")
    atexit.register(shutil.rmtree, os.environ["COURSELENS_VAR_DIR"], ignore_errors=True)
django.setup()
