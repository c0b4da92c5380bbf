"""Production configuration: .env.example documents every setting and passes Django's deploy check."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
ENV_EXAMPLE = BASE_DIR / ".env.example"
# os.environ.get("X"), os.environ["X"], os.getenv("X"), env_bool("X", …), env_list(\n "X", …)…
_ENV_READ = re.compile(
    r"""(?:os\.environ\.get|os\.environ\[|os\.getenv|env_\w+)\(?\s*["']([A-Z][A-Z0-9_]*)["']"""
)
_ENV_LINE = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")


def settings_env_names() -> set[str]:
    return set(_ENV_READ.findall((BASE_DIR / "courselens" / "settings.py").read_text(encoding="utf-8")))


def env_example() -> tuple[dict[str, str], set[str]]:
    """(active NAME=value lines, every documented name including optional '# NAME=' lines)."""
    active: dict[str, str] = {}
    documented: set[str] = set()
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = _ENV_LINE.match(line.strip())
        if match:
            commented, name, value = match.groups()
            documented.add(name)
            if not commented:
                active[name] = value
    return active, documented


def production_env(tmp_path: Path) -> dict[str, str]:
    """What .env.example exports, a real secret key and writable paths; nothing from the test run."""
    active, _documented = env_example()
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        **active,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "COURSELENS_VAR_DIR": str(tmp_path / "var"),
        "STATIC_ROOT": str(tmp_path / "staticfiles"),
    }


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_it_documents_every_setting_in_env_example():
    _active, documented = env_example()
    read = settings_env_names()
    assert "SECRET_KEY" in read and "DATABASE_URL" in read  # the pattern still finds the settings it must
    assert sorted(read - documented) == [], "settings.py reads variables that .env.example does not document"


def test_it_documents_no_variable_that_nothing_reads():
    _active, documented = env_example()
    compose = (BASE_DIR / "docker-compose.yml").read_text(encoding="utf-8")
    unused = {name for name in documented - settings_env_names() if f"${{{name}" not in compose}
    assert sorted(unused) == []


def test_it_passes_the_django_deploy_check_with_env_example(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_refuses_to_start_in_production_without_a_secret_key(tmp_path):
    env = production_env(tmp_path)
    env["SECRET_KEY"] = ""

    result = manage("check", env=env)

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_it_collects_static_files_for_production(tmp_path):
    env = production_env(tmp_path)

    result = manage("collectstatic", "--noinput", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    manifest = (tmp_path / "staticfiles" / "staticfiles.json").read_text(encoding="utf-8")
    assert "vendor/echarts-6.1.0.min.js" in manifest
    assert "css/app.css" in manifest
