"""Rate limits for writes and log-ins, keyed on the real client address and stored in the shared cache.

Behind N trusted reverse proxies (settings.TRUSTED_PROXY_COUNT) the client is the Nth address from the right
of X-Forwarded-For: each proxy appends the address it received the request from, so everything left of that
was written by the client and is ignored (a client rotating X-Forwarded-For gets no fresh allowance). With 0
proxies the header is ignored and REMOTE_ADDR is the client. IPv6 clients are grouped by /64, the block one
subscriber usually gets.

Counters are fixed windows in the Django cache (Redis in production), incremented atomically, so every web
process and host shares them. When the cache cannot be reached the limits fail open: a Redis outage must not
stop learners from reading or writing.

Rates are settings.THROTTLE_RATES: {"<scope>.<key kind>": "<count>/<period>"}, e.g. "review_submit.user":
"10/hour"; key kinds are "user" (the logged-in account), "ip" (the client address) and, for log-in failures,
"username" (the name being tried). Periods: s, min, hour, day, optionally with a number ("15min").
"""

from __future__ import annotations

import ipaddress
import logging
import math
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BasicAuthentication
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger("courselens.security")

_PERIODS = {"s": 1, "sec": 1, "min": 60, "m": 60, "hour": 3600, "h": 3600, "day": 86400, "d": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$")


# --- Client address --------------------------------------------------------------------------------------


def _normalise(address: str) -> str | None:
    try:
        parsed = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def client_ip(request: HttpRequest) -> str:
    """The client address as the trusted proxies saw it (see the module docstring)."""
    remote = _normalise(request.META.get("REMOTE_ADDR", "")) or "unknown"
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return remote
    # The proxy nearest to us appended the last entry; N proxies appended the last N.
    candidate = forwarded[-min(proxies, len(forwarded))]
    return _normalise(candidate) or remote


# --- Counters --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    count: int
    period: int  # seconds

    @classmethod
    def parse(cls, text: str) -> Rate:
        match = _RATE.match(text)
        if not match or match.group(3) not in _PERIODS:
            raise ValueError(f"invalid rate {text!r}: use e.g. '10/hour' or '5/15min'")
        multiplier = int(match.group(2) or 1)
        return cls(count=int(match.group(1)), period=multiplier * _PERIODS[match.group(3)])


def rate_for(scope: str, kind: str) -> Rate | None:
    text = settings.THROTTLE_RATES.get(f"{scope}.{kind}")
    return Rate.parse(text) if text else None


def _key(scope: str, kind: str, ident: str, window: int) -> str:
    return f"{settings.THROTTLE_CACHE_PREFIX}:{scope}:{kind}:{ident}:{window}"


def _window(rate: Rate, now: float) -> tuple[int, int]:
    """(window number, seconds until it ends — at least 1)."""
    window = int(now // rate.period)
    return window, max(1, math.ceil((window + 1) * rate.period - now))


def _count(scope: str, kind: str, ident: str, rate: Rate, *, now: float, add: bool) -> int:
    """The window's count (after adding one hit when `add`); 0 when the cache is unavailable (fail open)."""
    window, _remaining = _window(rate, now)
    key = _key(scope, kind, ident, window)
    try:
        if not add:
            return int(cache.get(key) or 0)
        # add() is atomic: the first hit creates the counter, every other hit increments it (INCR on Redis).
        if cache.add(key, 1, timeout=rate.period + 1):
            return 1
        try:
            return cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.set(key, 1, timeout=rate.period + 1)
            return 1
    except Exception:  # noqa: BLE001 - a cache outage must not take the site down
        logger.warning("throttle: cache unavailable, %s.%s not enforced", scope, kind, exc_info=True)
        return 0


def idents(request: HttpRequest, user=None) -> dict[str, str]:
    """The keys a request counts against: its client address and, when logged in, its account."""
    keys = {"ip": client_ip(request)}
    user = user if user is not None else getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        keys["user"] = str(user.pk)
    return keys


def hit(scope: str, keys: dict[str, str], *, now: float | None = None) -> int | None:
    """Count one request of `scope` against every key with a configured rate.

    Returns None when allowed, else the number of seconds to wait (the Retry-After value). A refused request
    still counts, so hammering does not shorten the wait.
    """
    now = time.time() if now is None else now
    wait = 0
    for kind, ident in keys.items():
        rate = rate_for(scope, kind)
        if rate is None:
            continue
        if _count(scope, kind, ident, rate, now=now, add=True) > rate.count:
            wait = max(wait, _window(rate, now)[1])
    return wait or None


def blocked(scope: str, keys: dict[str, str], *, now: float | None = None) -> int | None:
    """Like hit() but only reads: the seconds to wait if any key is already over its limit, else None."""
    now = time.time() if now is None else now
    wait = 0
    for kind, ident in keys.items():
        rate = rate_for(scope, kind)
        if rate is None:
            continue
        if _count(scope, kind, ident, rate, now=now, add=False) >= rate.count:
            wait = max(wait, _window(rate, now)[1])
    return wait or None


# --- HTML views ------------------------------------------------------------------------------------------


def too_many_requests(request: HttpRequest, retry_after: int) -> HttpResponse:
    """429 with Retry-After: the friendly page for browsers, JSON for API clients."""
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"detail": _("Too many requests. Try again in %(seconds)d seconds.") % {"seconds": retry_after}},
            status=429,
        )
    else:
        response = HttpResponse(
            render_to_string("429.html", {"retry_after": retry_after}, request=request), status=429
        )
    response["Retry-After"] = str(retry_after)
    return response


def throttle(scope: str, *, methods: Iterable[str] = ("POST",)) -> Callable:
    """View decorator: count `methods` requests of `scope` per client address and account; 429 when over."""
    methods = frozenset(method.upper() for method in methods)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if request.method in methods:
                wait = hit(scope, idents(request))
                if wait:
                    logger.info("throttle: %s refused for %s", scope, client_ip(request))
                    return too_many_requests(request, wait)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


# --- REST API --------------------------------------------------------------------------------------------


class ActionRateThrottle(BaseThrottle):
    """DRF throttle for a viewset's write actions: the scope of each action is in `view.throttle_scopes`
    ({"create": "review_submit", "helpful": "review_vote", …}) or settings.THROTTLE_API_ACTIONS, keyed by the
    view's basename; other actions are not limited."""

    def __init__(self) -> None:
        self._wait: int | None = None

    def scope_for(self, view) -> str | None:
        scopes = getattr(view, "throttle_scopes", None)
        if scopes is None:
            scopes = settings.THROTTLE_API_ACTIONS.get(getattr(view, "basename", ""), {})
        return scopes.get(getattr(view, "action", None) or "")

    def allow_request(self, request, view) -> bool:
        scope = self.scope_for(view)
        if scope is None:
            return True
        self._wait = hit(scope, idents(request, request.user))
        return self._wait is None

    def wait(self) -> float | None:
        return self._wait


# --- Log-in ----------------------------------------------------------------------------------------------
# Failures are counted per client address and per username tried, from Django's user_login_failed signal, so
# the form, the API's Basic authentication and the admin log-in all count. Once a key is over its limit, the
# lock-out backend refuses every attempt (even a right password) until the window ends, and the log-in view
# and the API answer 429 with Retry-After.

LOGIN_SCOPE = "login"


def _login_keys(request, username: str | None) -> dict[str, str]:
    keys = {"ip": client_ip(request)} if request is not None else {}
    if username:
        # Quoted: the name is whatever the client typed (spaces, control characters) and becomes a cache key.
        keys["username"] = quote(str(username).strip().lower()[:150], safe="")
    return keys


def login_blocked(request, username: str | None) -> int | None:
    """Seconds until this client / username may try to log in again, or None."""
    return blocked(LOGIN_SCOPE, _login_keys(request, username))


@receiver(user_login_failed)
def _count_login_failure(sender, credentials: dict, request=None, **kwargs) -> None:
    # Django has already replaced the password in `credentials` by stars; only the username is logged.
    username = credentials.get("username") or ""
    keys = _login_keys(request, username)
    hit(LOGIN_SCOPE, keys)
    logger.warning("login failed for username=%r from %s", username[:150], keys.get("ip", "unknown"))


class LoginLockoutBackend:
    """First in AUTHENTICATION_BACKENDS: refuses (PermissionDenied) any attempt while the client or the
    username is locked out; otherwise lets the next backend decide. It never authenticates anyone itself."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        # A NUL cannot be in any stored username or password (PostgreSQL refuses it in a query): a failure,
        # counted like any other, rather than an error from the next backend.
        if "\x00" in str(username or "") or "\x00" in str(password or ""):
            raise PermissionDenied
        if login_blocked(request, username):
            raise PermissionDenied
        return None

    # No get_user(): no session ever names this backend (and the test client's force_login skips it).


class ThrottledBasicAuthentication(BasicAuthentication):
    """HTTP Basic for the API, answering 429 with Retry-After while the client or username is locked out."""

    def authenticate_credentials(self, userid, password, request=None):
        wait = login_blocked(request, userid)
        if wait:
            raise exceptions.Throttled(wait=wait)
        return super().authenticate_credentials(userid, password, request)


class ThrottledBasicAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents ThrottledBasicAuthentication in the OpenAPI schema as plain HTTP Basic."""

    target_class = ThrottledBasicAuthentication
    name = "basicAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic"}
