"""Shared fixtures. When DATABASE_URL / REDIS_URL name servers, they must answer: CI fails, never skips."""

import os

import pytest
from django.conf import settings
from django.test.utils import override_settings
from django.utils import translation


@pytest.fixture
def redis_url() -> str:
    """For tests marked `redis`: the Redis they must use. Missing configuration is a failure, not a skip."""
    url = os.environ.get("REDIS_URL", "")
    if not url:
        pytest.fail("This test needs a real Redis: set REDIS_URL (make test does).")
    return url


@pytest.fixture(scope="session", autouse=True)
def _services_answer(django_db_blocker):
    """Fail the whole run at once if a configured service is down, instead of skipping its tests.

    With COURSELENS_REQUIRE_SERVICES set (`make test`, CI), PostgreSQL and Redis must also be configured:
    an empty DATABASE_URL / REDIS_URL would otherwise quietly run the suite on SQLite without Redis.
    """
    if os.environ.get("COURSELENS_REQUIRE_SERVICES"):
        if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
            pytest.fail("make test runs on PostgreSQL: set DATABASE_URL=postgres://…", pytrace=False)
        if not os.environ.get("REDIS_URL"):
            pytest.fail("make test runs with Redis: set REDIS_URL=redis://…", pytrace=False)
    if os.environ.get("REDIS_URL"):
        import redis

        try:
            redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=3).ping()
        except redis.RedisError as exc:
            pytest.fail(f"Redis at REDIS_URL does not answer: {exc}", pytrace=False)
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        from django.db import connection
        from django.db.utils import OperationalError

        with django_db_blocker.unblock():
            try:
                # The server must answer; the named database itself need not exist (the test database is
                # created beside it), so ask through the maintenance database as Django's test runner does.
                with connection._nodb_cursor() as cursor:
                    cursor.execute("SELECT 1")
            except OperationalError as exc:
                pytest.fail(f"PostgreSQL at DATABASE_URL does not answer: {exc}", pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def _plain_http_test_server():
    """Tests talk plain HTTP (test client, live_server + Chromium) to a site configured for production.

    - Static files come from the source folders: production (DEBUG off) uses whitenoise's manifest storage,
      which needs collectstatic first (tests/courselens/test_deploy_check.py runs it with production
      settings).
    - No redirect to HTTPS and no Secure-only cookies, or the browser would drop the session and CSRF cookies.
      The production values are checked by tests/courselens/test_deploy_check.py.
    """
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(
        STORAGES=storages,
        SECURE_SSL_REDIRECT=False,
        SESSION_COOKIE_SECURE=False,
        CSRF_COOKIE_SECURE=False,
        # Hashing is not under test here; a fast hasher keeps user-heavy tests quick.
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    ):
        yield


# --- Trust -------------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_throttle_counters(settings):
    """Each test starts with unused rate limits: the counters live in the (process-wide) cache, and tests from
    the same client address would otherwise add up across the run."""
    import uuid

    settings.THROTTLE_CACHE_PREFIX = f"throttle-test-{uuid.uuid4().hex}"


@pytest.fixture(autouse=True)
def _site_language_after_each_test():
    """Every test starts in the site's language: a request with `Accept-Language: en` (LocaleMiddleware) or a
    view that switches language leaves it active in the thread, and the next test would read English."""
    yield
    translation.deactivate()
