"""Keep serving, or fail cleanly, when a backing service is down.

- ResilientRedisCache: the Redis cache backend, but an unreachable Redis reads as a cache miss and writes are
  skipped (logged), for a few seconds at a time without retrying, so pages keep working during a Redis outage.
- server_error: the 500 handler (JSON under /api/); a lost database connection becomes a 503 "temporarily
  unavailable" page (JSON under /api/) with Retry-After instead of a generic error. Every write path runs in
  a transaction, so a request cut off by the outage leaves nothing half-written.
"""

from __future__ import annotations

import logging
import sys
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("courselens.resilience")

_REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
# After a failure the cache counts as down for this long: no request waits on a dead Redis again and again.
CACHE_RETRY_SECONDS = 5.0
DATABASE_RETRY_AFTER_SECONDS = 30


class ResilientRedisCache(RedisCache):
    """Django's RedisCache that degrades to "no cache" while Redis cannot be reached."""

    _down_until = 0.0

    def _available(self) -> bool:
        return time.monotonic() >= self._down_until

    def available(self) -> bool:
        """False for a few seconds after Redis failed to answer (reads meanwhile return the default)."""
        return self._available()

    def _failed(self, operation: str) -> None:
        if self._available():
            logger.warning("cache: Redis unreachable during %s; running without cache for a while", operation)
        self._down_until = time.monotonic() + CACHE_RETRY_SECONDS

    def _guard(self, operation: str, call, fallback):
        if not self._available():
            return fallback
        try:
            return call()
        except _REDIS_DOWN:
            self._failed(operation)
            return fallback

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(
            "add", lambda: super(ResilientRedisCache, self).add(key, value, timeout, version), False
        )

    def get(self, key, default=None, version=None):
        return self._guard(
            "get", lambda: super(ResilientRedisCache, self).get(key, default, version), default
        )

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(
            "set", lambda: super(ResilientRedisCache, self).set(key, value, timeout, version), None
        )

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(
            "touch", lambda: super(ResilientRedisCache, self).touch(key, timeout, version), False
        )

    def delete(self, key, version=None):
        return self._guard("delete", lambda: super(ResilientRedisCache, self).delete(key, version), False)

    def get_many(self, keys, version=None):
        return self._guard("get_many", lambda: super(ResilientRedisCache, self).get_many(keys, version), {})

    def has_key(self, key, version=None):
        return self._guard("has_key", lambda: super(ResilientRedisCache, self).has_key(key, version), False)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(
            "set_many", lambda: super(ResilientRedisCache, self).set_many(data, timeout, version), list(data)
        )

    def delete_many(self, keys, version=None):
        return self._guard(
            "delete_many", lambda: super(ResilientRedisCache, self).delete_many(keys, version), None
        )

    def incr(self, key, delta=1, version=None):
        # No value can stand in for a counter: callers (e.g. the throttles) handle the failure themselves.
        if not self._available():
            raise RedisConnectionError("cache marked unavailable")
        try:
            return super().incr(key, delta, version)
        except _REDIS_DOWN:
            self._failed("incr")
            raise


def _database_down() -> bool:
    error = sys.exc_info()[1]
    while error is not None:
        if isinstance(error, OperationalError | InterfaceError):
            return True
        error = error.__cause__ or error.__context__
    return False


@requires_csrf_token
def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    """handler500: 503 with Retry-After while the database is unreachable, the friendly 500 page otherwise.
    Both render without touching the database (no session, no user)."""
    if not _database_down():
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"detail": _("Something went wrong on our side; please try again.")}, status=500
            )
        return HttpResponseServerError(loader.get_template(template_name).render())
    logger.error("database unavailable while serving %s %s", request.method, request.path)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"detail": _("The service is temporarily unavailable. Please try again in a moment.")}, status=503
        )
    else:
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response
