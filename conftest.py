"""Loaded before any test module: configure Django for the test run.

pytest-django would import the settings before this file runs if DJANGO_SETTINGS_MODULE were set in
pyproject.toml, and the settings refuse to start without SECRET_KEY unless DEBUG or COURSELENS_DEV is set;
so both variables are set here and Django is set up right away (pytest-django's documented
"configure in a conftest" path).
"""

import os

import django

os.environ.setdefault("COURSELENS_DEV", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courselens.settings")
django.setup()
