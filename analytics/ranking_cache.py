"""Caching of the ranking pages: they change only when scores are recomputed, so they are rendered once per
score version and served from Django's cache (Redis in production) until the next recompute.

* `scores_version()` names the current set of scores: published to the shared cache by `scores_recompute`
  when it commits, read from the database when the cache has none; each process keeps it for
  LOCAL_SECONDS (so a new ranking reaches every web process within that time, immediately in this one).
* `cached_page()` keeps whole rendered pages for anonymous visitors (no session, no pending messages), keyed
  on the page's normalised filters: query parameters the page does not understand (?utm=…) neither make
  entries nor reach the cached HTML. Nothing per visitor is in such a page: its language switch posts
  without a CSRF token (the set_language view is CSRF-exempt, see courselens/urls.py).
* Every entry expires (PAGE_SECONDS), so Redis's volatile-lru policy may evict it under memory pressure
  while the broker's keys, which have no expiry, are never evicted.
* With DEBUG on nothing is cached, so template edits show at once.
"""

from __future__ import annotations

import copy
import hashlib
import time
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils.http import urlencode
from django.utils.translation import get_language

from analytics.models import InstructorScore

VERSION_KEY = "rankings:version"
VERSION_SECONDS = 30  # without a published version (e.g. per-process cache): how long a read one is trusted
LOCAL_SECONDS = 2.0
PAGE_SECONDS = 3600
# The csrf_token template variable for a page rendered for everybody: {% csrf_token %} renders nothing (and
# the CSRF middleware sets no cookie, as nothing asked for a token).
NO_CSRF_TOKEN = ""

_local_version: tuple[float, str] | None = None


def scores_version() -> str:
    """Changes on every recompute. No query while known (this process, then the shared cache)."""
    global _local_version
    now = time.monotonic()
    known = _local_version
    if known and known[0] > now:
        return known[1]
    version = cache.get(VERSION_KEY)
    if version is None:
        latest = InstructorScore.objects.aggregate(latest=Max("computed_at"))["latest"]
        version = latest.isoformat() if latest else "none"
        cache.set(VERSION_KEY, version, VERSION_SECONDS)
    _local_version = (now + LOCAL_SECONDS, version)
    return version


def publish_scores_version(version: str) -> None:
    """Called once new scores are committed: every page cached for older scores is from now on ignored."""
    # One small key that must outlive the pages it names: no expiry, so volatile-lru never evicts it.
    cache.set(VERSION_KEY, version, None)
    forget_local()


def forget_local() -> None:
    """Drop this process's copy of the version (the shared cache keeps its own)."""
    global _local_version
    _local_version = None


def key(*parts: str) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    return f"rankings:{parts[0]}:{digest}"


def is_plain_anonymous(request: HttpRequest) -> bool:
    """A visitor whose page has nothing personal in it: no session (so no login) and no pending messages."""
    return settings.SESSION_COOKIE_NAME not in request.COOKIES and "messages" not in request.COOKIES


def canonical_query(filters: Mapping[str, str]) -> str:
    """The query string of the normalised filters (empty ones left out), in a fixed order."""
    return urlencode(sorted((name, value) for name, value in filters.items() if value))


def _as_canonical(request: HttpRequest, query: str) -> HttpRequest:
    """The request as if it had asked for the canonical address: what a shared page may show of it (the
    language switch sends the visitor back to request.get_full_path)."""
    canonical = copy.copy(request)
    canonical.META = {**request.META, "QUERY_STRING": query}
    canonical.GET = QueryDict(query)
    return canonical


def cached_page(
    request: HttpRequest,
    kind: str,
    filters: Mapping[str, str],
    render_page: Callable[[HttpRequest, dict], str],
    *,
    cacheable: Callable[[], bool],
) -> HttpResponse | None:
    """The whole page for a plain anonymous visitor, rendered at most once per score version, language and
    normalised filters; None for anybody else (they get the page rendered with the cached body), and on a
    miss when `cacheable()` says the filters are not ones to keep a page for."""
    if settings.DEBUG or request.method != "GET" or not is_plain_anonymous(request):
        return None  # (with DEBUG on, template edits show at once)
    query = canonical_query(filters)
    page_key = key(f"page-{kind}", scores_version(), get_language() or "", query)
    page = cache.get(page_key)
    if page is None:
        if not cacheable():
            return None
        page = render_page(_as_canonical(request, query), {"csrf_token": NO_CSRF_TOKEN}).encode()
        cache.set(page_key, page, PAGE_SECONDS)
    return HttpResponse(page)


def cached_fragment(kind: str, parts: list[str], build: Callable[[], Any]) -> Any:
    """Something rendered for every visitor alike (a ranking table, an API page), once per score version."""
    if settings.DEBUG:
        return build()
    fragment_key = key(kind, scores_version(), get_language() or "", *parts)
    value = cache.get(fragment_key)
    if value is None:
        value = build()
        cache.set(fragment_key, value, PAGE_SECONDS)
    return value
