"""The lock files pin what pyproject.toml asks for, and the image and `make` install from them."""

import re
import tomllib
from pathlib import Path

import pytest
from django.conf import settings
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

BASE_DIR = Path(settings.BASE_DIR)
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", re.MULTILINE)


def pinned(lock: str) -> dict[str, str]:
    text = (BASE_DIR / lock).read_text(encoding="utf-8")
    return {canonicalize_name(name): version for name, version in PIN.findall(text)}


def declared() -> dict[str, list[Requirement]]:
    project = tomllib.loads((BASE_DIR / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = [Requirement(line) for line in project["dependencies"]]
    test = [Requirement(line) for line in project["optional-dependencies"]["test"]]
    return {"requirements.txt": runtime, "requirements-test.txt": runtime + test}


@pytest.mark.parametrize("lock", ["requirements.txt", "requirements-test.txt"])
def test_it_pins_every_declared_dependency_within_its_range(lock):
    pins = pinned(lock)
    outside = {
        str(requirement): pins.get(canonicalize_name(requirement.name), "missing")
        for requirement in declared()[lock]
        if not requirement.specifier.contains(pins.get(canonicalize_name(requirement.name), "0"))
    }
    # When this fails, pyproject.toml changed without `make lock` (see README).
    assert outside == {}


def test_it_runs_the_tests_on_the_versions_the_image_ships():
    runtime, test = pinned("requirements.txt"), pinned("requirements-test.txt")
    assert {name: test.get(name) for name in runtime} == runtime


def test_it_installs_only_locked_hashed_packages_in_the_image_and_the_venv():
    dockerfile = (BASE_DIR / "Dockerfile").read_text(encoding="utf-8")
    makefile = (BASE_DIR / "Makefile").read_text(encoding="utf-8")

    assert re.search(r"pip install --require-hashes -r requirements\.txt$", dockerfile, re.MULTILINE)
    assert re.search(r"pip install --no-deps \.", dockerfile)
    assert re.search(r"pip install .*--require-hashes -r requirements-test\.txt$", makefile, re.MULTILINE)
    assert re.search(r"pip install .*--no-deps -e \.$", makefile, re.MULTILINE)
    assert "--hash=sha256:" in (BASE_DIR / "requirements.txt").read_text(encoding="utf-8")
