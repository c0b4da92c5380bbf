"""Real processes for the fault tests: a private Redis, a private PostgreSQL cluster, gunicorn and Celery
workers.

Each runs in its own process group on its own port, is stopped by the test that started it, and never touches
the shared PostgreSQL (5432) or Redis (6379) of the machine.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

BIN = Path(sys.executable).parent


def wait_for(predicate, *, timeout: float, what: str, log: Path | None = None):
    """Poll `predicate` until it returns something truthy; on timeout fail, showing the process log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    tail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
    pytest.fail(f"Timed out after {timeout:.0f}s waiting for {what}.\n--- log ---\n{tail}")


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def shared_database_url() -> str:
    """The URL of the database this test run uses (a subprocess must see the same rows)."""
    db = connection.settings_dict
    if not db["ENGINE"].endswith("postgresql"):
        pytest.fail(
            "This test shares its database with other processes: run it on PostgreSQL (DATABASE_URL)."
        )
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{credentials}@{host}/{quote(db['NAME'], safe='')}"


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "DJANGO_"))}
    env.update(
        COURSELENS_DEV="1",
        COURSELENS_VAR_DIR=str(tmp_path / "var"),
        DJANGO_SETTINGS_MODULE="courselens.settings",
        CELERY_TASK_ALWAYS_EAGER="0",
        SECURE_SSL_REDIRECT="0",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class Process:
    """A child process in its own process group, output to a log file."""

    def __init__(self, args: list[str], *, env: dict[str, str], log: Path, cwd: Path | None = None) -> None:
        self.log = log
        self._log_file = log.open("ab")
        self.process = subprocess.Popen(
            args,
            cwd=cwd or settings.BASE_DIR,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.alive():
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._log_file.close()

    def kill(self) -> None:
        """SIGKILL the whole group: no shutdown, no acknowledgement, no clean-up."""
        self.stop(signal.SIGKILL)


class RedisServer(Process):
    """A throw-away redis-server (no persistence) on `port`."""

    def __init__(self, port: int, *, log: Path) -> None:
        if port_open(port):
            pytest.fail(f"Port {port} is taken; the fault tests need it for their own Redis.")
        self.port = port
        super().__init__(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            env=dict(os.environ),
            log=log,
        )
        wait_for(lambda: port_open(port), timeout=10, what=f"redis-server on {port}", log=log)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


class Gunicorn(Process):
    def __init__(self, port: int, *, env: dict[str, str], log: Path, workers: int = 1) -> None:
        self.port = port
        super().__init__(
            [
                str(BIN / "gunicorn"),
                "courselens.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--timeout",
                "30",
            ],
            env=env,
            log=log,
        )
        wait_for(lambda: port_open(port) or not self.alive(), timeout=60, what="gunicorn", log=log)
        if not self.alive():
            pytest.fail("gunicorn exited:\n" + log.read_text(errors="replace")[-3000:])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class CeleryWorker(Process):
    def __init__(self, *, app: str, env: dict[str, str], log: Path) -> None:
        super().__init__(
            [
                str(BIN / "celery"),
                "-A",
                app,
                "worker",
                "--pool=prefork",
                "--concurrency=1",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"trust-{uuid.uuid4().hex[:8]}@%h",
            ],
            env=env,
            log=log,
        )

        def ready() -> bool:
            if not self.alive():
                pytest.fail("The worker exited:\n" + log.read_text(errors="replace")[-3000:])
            return b" ready." in log.read_bytes()

        wait_for(ready, timeout=90, what="the Celery worker to be ready", log=log)


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.fail(f"PostgreSQL's {name} is not installed (Debian package postgresql).")
    return found[-1]


class PostgresCluster:
    """A private PostgreSQL cluster (initdb into a temporary folder) that the test may stop and start."""

    def __init__(self, port: int) -> None:
        if port_open(port):
            pytest.fail(f"Port {port} is taken; the fault tests need it for their own PostgreSQL.")
        self.port = port
        # Not under pytest's tmp_path: the postgres user must be able to reach the folder.
        root = Path(tempfile.mkdtemp(prefix="courselens-trust-pg-"))
        self.root = root
        self.data = root / "pgdata"
        self.log = root / "postgres.log"
        self._as_postgres = os.geteuid() == 0  # initdb refuses to run as root
        if self._as_postgres:
            shutil.chown(root, "postgres")
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start()
        self._run(_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "courselens")

    def _run(self, *args: str) -> None:
        command = ["runuser", "-u", "postgres", "--", *args] if self._as_postgres else list(args)
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            pytest.fail(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/courselens"

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off"
        options += f" -c unix_socket_directories={self.data}"
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        if port_open(self.port):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def user_for_other_processes(username: str):
    """A learner whose password the site's own processes can check: the test run hashes passwords with MD5
    (Django's test set-up), which the production configuration does not accept."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    from tests.factories import DEFAULT_PASSWORD, UserFactory

    user = UserFactory(username=username)
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(DEFAULT_PASSWORD, hasher.salt(), iterations=1000)
    user.save(update_fields=["password"])
    return user
