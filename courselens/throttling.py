"""Rate limits for writes and log-ins, keyed on the real client address and stored in the shared cache.

Behind N trusted reverse proxies (settings.TRUSTED_PROXY_COUNT) the client is the Nth address from the right
of X-Forwarded-For: each proxy appends the address it received the request from, so everything left of that
was written by the client and is ignored (a client rotating X-Forwarded-For gets no fresh allowance). With 0
proxies the header is ignored and REMOTE_ADDR is the client. IPv6 clients are grouped by /64, the block one
subscriber usually gets.

Counters are sliding windows (two fixed-window counters, the older one weighted) in the Django cache (Redis in
production), incremented atomically, so every web process and host shares them. While the cache cannot be
reached each process counts on its own: learners keep reading and writing during a Redis outage, and password
guessing stays limited.

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
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
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


# Process-local counters used while the shared cache cannot be reached: every process then enforces the limits
# on its own (N processes allow up to N times a limit) rather than not at all.
_local_counters = LocMemCache("courselens-throttle-fallback", {"MAX_ENTRIES": 20000, "CULL_FREQUENCY": 4})


def _shared_cache_up() -> bool:
    # ResilientRedisCache answers "miss" instead of raising while Redis is down; it says so here.
    return getattr(cache, "available", lambda: True)()


def _increment(store, key: str, timeout: int) -> int:
    # add() is atomic: the first hit creates the counter, every other hit increments it (INCR on Redis).
    if store.add(key, 1, timeout=timeout):
        return 1
    try:
        return store.incr(key)
    except ValueError:  # expired between add() and incr()
        store.set(key, 1, timeout=timeout)
        return 1


def _tally(store, keys: tuple[str, str], *, add: bool, timeout: int) -> tuple[int, int]:
    current_key, previous_key = keys
    current = _increment(store, current_key, timeout) if add else int(store.get(current_key) or 0)
    return current, int(store.get(previous_key) or 0)


def _count(scope: str, kind: str, ident: str, rate: Rate, *, now: float, add: bool) -> float:
    """Hits in the last `rate.period` seconds (after adding one when `add`), estimated as a sliding window:
    this window's count plus the previous window's, weighted by the share of it still inside the period. A
    fixed window alone lets a client spend two allowances back to back across a boundary.

    In the shared cache (every process and host sees the same counts); while it is down, in this process."""
    window, _remaining = _window(rate, now)
    keys = (_key(scope, kind, ident, window), _key(scope, kind, ident, window - 1))
    overlap = 1 - (now / rate.period - window)
    timeout = 2 * rate.period + 1
    try:
        current, previous = _tally(cache, keys, add=add, timeout=timeout)
        if _shared_cache_up():
            return current + previous * overlap
    except Exception:  # noqa: BLE001 - a cache outage must not take the site down
        pass
    logger.warning("throttle: cache unavailable, %s.%s counted in this process only", scope, kind)
    current, previous = _tally(_local_counters, keys, add=add, timeout=timeout)
    return current + previous * overlap


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


class ReadThrottleMiddleware:
    """Counts page and API reads (GET/HEAD) against the "read" scope per client, so nobody copies every review
    at full speed; static files are served before this runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("GET", "HEAD") and not request.path.startswith(settings.STATIC_URL):
            wait = hit("read", idents(request))
            if wait:
                logger.info("throttle: read refused for %s", client_ip(request))
                return too_many_requests(request, wait)
        return self.get_response(request)


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
# Failures are counted from Django's user_login_failed signal, so the form, the API's Basic authentication
# and the admin log-in all count, against three keys:
# - "ip": everything one client address tries;
# - "ip_username": one address guessing one account (the tight limit);
# - "username": one account guessed from anywhere (a looser limit against distributed guessing).
# Once a key is over its limit, the lock-out backend refuses every attempt (even a right password) until the
# window has slid on, and the log-in view and the API answer 429 with Retry-After.
# The username-wide limit alone would let anyone lock any account out by guessing from elsewhere, so a browser
# that logged in to that account before (a signed "known device" cookie) is exempt from it: the owner keeps
# getting in while an attacker is slowed down.

LOGIN_SCOPE = "login"
KNOWN_DEVICE_COOKIE = "known_login"
KNOWN_DEVICE_SALT = "courselens.throttling.known-device"
KNOWN_DEVICE_MAX_AGE = 180 * 86400


def _username_key(username: str) -> str:
    # Quoted: the name is whatever the client typed (spaces, control characters) and becomes a cache key.
    return quote(str(username).strip().lower()[:150], safe="")


def _known_device(request, username_key: str) -> bool:
    if request is None or not hasattr(request, "get_signed_cookie"):
        return False
    known = request.get_signed_cookie(
        KNOWN_DEVICE_COOKIE, default=None, salt=KNOWN_DEVICE_SALT, max_age=KNOWN_DEVICE_MAX_AGE
    )
    return known == username_key


def _login_keys(request, username: str | None, *, counting: bool = False) -> dict[str, str]:
    keys = {"ip": client_ip(request)} if request is not None else {}
    if username:
        name = _username_key(username)
        if "ip" in keys:
            keys["ip_username"] = f"{keys['ip']}|{name}"
        if counting or not _known_device(request, name):
            keys["username"] = name
    return keys


def login_blocked(request, username: str | None) -> int | None:
    """Seconds until this client may try to log in to `username` again, or None."""
    return blocked(LOGIN_SCOPE, _login_keys(request, username))


@receiver(user_login_failed)
def _count_login_failure(sender, credentials: dict, request=None, **kwargs) -> None:
    # Django has already replaced the password in `credentials` by stars; only the username is logged.
    username = credentials.get("username") or ""
    keys = _login_keys(request, username, counting=True)
    hit(LOGIN_SCOPE, keys)
    logger.warning("login failed for username=%r from %s", username[:150], keys.get("ip", "unknown"))


@receiver(user_logged_in)
def _remember_device(sender, request=None, user=None, **kwargs) -> None:
    if request is not None and user is not None:
        request.known_login = _username_key(user.get_username())


class KnownDeviceMiddleware:
    """Gives a browser that has just logged in the signed cookie that exempts it from the username-wide
    log-in limit for that account."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        known = getattr(request, "known_login", None)
        if known:
            response.set_signed_cookie(
                KNOWN_DEVICE_COOKIE,
                known,
                salt=KNOWN_DEVICE_SALT,
                max_age=KNOWN_DEVICE_MAX_AGE,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response


def lockout_message(wait: int) -> str:
    return _(
        "Too many failed log-ins for this account from here. Try again in %(minutes)d minutes, or reset "
        "your password."
    ) % {"minutes": max(1, math.ceil(wait / 60))}


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
