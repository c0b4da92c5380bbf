"""Shared fixtures. When DATABASE_URL / REDIS_URL name servers, they must answer: CI fails, never skips."""

import os

import pytest
from django.conf import settings


@pytest.fixture
def redis_url() -> str:
    """For tests marked `redis`: the Redis they must use. Missing configuration is a failure, not a skip."""
    url = os.environ.get("REDIS_URL", "")
    if not url:
        pytest.fail("This test needs a real Redis: set REDIS_URL (make test does).")
    return url


@pytest.fixture(scope="session", autouse=True)
def _services_answer(django_db_blocker):
    """Fail the whole run at once if a configured service is down, instead of skipping its tests."""
    if os.environ.get("REDIS_URL"):
        import redis

        redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=3).ping()
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        from django.db import connection

        with django_db_blocker.unblock():
            connection.ensure_connection()
