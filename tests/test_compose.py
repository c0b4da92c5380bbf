"""docker-compose.yml and the Dockerfile name things that exist (no Docker engine is needed to check that)."""

import importlib
import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands

from tests.courselens.test_deploy_check import env_example

BASE_DIR = Path(settings.BASE_DIR)
APP_SERVICES = ["web", "worker", "beat"]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text(encoding="utf-8"))


def command_lines(service: dict) -> list[list[str]]:
    """The service's command as argv lists; `sh -c "a && b && exec c"` becomes one list per step."""
    command = service["command"]
    if isinstance(command, str):
        command = shlex.split(command)
    if command[:2] == ["sh", "-c"]:
        return [shlex.split(step.strip()) for step in re.split(r"&&", command[2])]
    return [command]


def check_entry_point(argv: list[str]) -> None:
    if argv[0] == "exec":
        argv = argv[1:]
    program, args = argv[0], argv[1:]
    if program == "python" and args[0] == "manage.py":
        assert args[1] in get_commands(), f"manage.py has no {args[1]!r} command"
    elif program == "celery":
        app_path = args[args.index("-A") + 1]
        module = importlib.import_module(app_path)
        assert module.celery_app.main == "courselens"
        subcommand = next(arg for arg in args[args.index("-A") + 2 :] if not arg.startswith("-"))
        assert subcommand in {"worker", "beat"}
    elif program == "gunicorn":
        module_path, attr = args[0].split(":")
        assert callable(getattr(importlib.import_module(module_path), attr))
    else:
        pytest.fail(f"unexpected program in a compose command: {argv}")


def test_it_defines_the_production_services(compose):
    services = compose["services"]

    assert set(services) == {"postgres", "redis", *APP_SERVICES}
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_it_runs_only_commands_that_exist(compose, name):
    service = compose["services"][name]
    lines = command_lines(service)

    assert lines
    for argv in lines:
        check_entry_point(argv)


def test_it_migrates_and_collects_static_files_before_gunicorn_starts(compose):
    steps = [argv[:3] for argv in command_lines(compose["services"]["web"])]

    assert steps[0] == ["python", "manage.py", "migrate"]
    assert steps[1] == ["python", "manage.py", "collectstatic"]
    assert steps[2][:2] == ["exec", "gunicorn"]
    assert "--workers" in command_lines(compose["services"]["web"])[2]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_it_configures_the_app_from_env_and_waits_for_healthy_dependencies(compose, name):
    service = compose["services"][name]

    assert service["env_file"] == ".env"
    assert service["image"] == "courselens:latest"
    conditions = {dependency["condition"] for dependency in service["depends_on"].values()}
    assert conditions == {"service_healthy"}


def test_it_only_interpolates_variables_documented_in_env_example():
    text = (BASE_DIR / "docker-compose.yml").read_text(encoding="utf-8")
    referenced = set(re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)", text))
    _active, documented = env_example()

    assert referenced >= {"POSTGRES_PASSWORD", "WEB_CONCURRENCY"}
    assert sorted(referenced - documented) == []


def test_it_builds_a_non_root_python_image_without_local_state():
    dockerfile = (BASE_DIR / "Dockerfile").read_text(encoding="utf-8")
    ignored = (BASE_DIR / ".dockerignore").read_text(encoding="utf-8").split()

    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.MULTILINE)
    users = re.findall(r"^USER (\S+)$", dockerfile, re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}
    assert re.search(r"pip install .*\s\.($|\s)", dockerfile, re.MULTILINE)
    assert {".git", ".venv", "var", ".env"} <= set(ignored)


def test_it_bounds_redis_memory_without_evicting_the_broker_queues(compose):
    argv = command_lines(compose["services"]["redis"])[0]
    options = dict(zip(argv[1::2], argv[2::2], strict=False))
    assert options["--maxmemory"].endswith(("mb", "gb"))
    # volatile-*: only keys with an expiry (cache entries) are evicted; Celery's queues have none.
    assert options["--maxmemory-policy"] in {"volatile-lru", "volatile-lfu", "volatile-ttl"}
