"""Caching of the ranking pages: they change only when scores are recomputed, so they are rendered once per
score version and served from memory until the next recompute.

* `scores_version()` names the current set of scores: published to the shared cache by `scores_recompute`
  when it commits, read from the database when the cache has none; each process keeps it for
  LOCAL_SECONDS (so a new ranking reaches every web process within that time, immediately in this one).
* `cached_page()` keeps whole rendered pages for anonymous visitors (no session, no pending messages) in the
  shared cache and a small per-process LRU; the only per-visitor part of such a page, the CSRF token of the
  language switch, is rendered as a placeholder and filled in per response.
* With DEBUG on nothing is cached, so template edits show at once.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils.translation import get_language

VERSION_KEY = "rankings:version"
VERSION_SECONDS = 30  # without a published version (e.g. per-process cache): how long a read one is trusted
LOCAL_SECONDS = 2.0
PAGE_SECONDS = 3600
LOCAL_PAGES = 64
CSRF_PLACEHOLDER = "__courselens_csrf_token__"
CSRF_PLACEHOLDER_BYTES = CSRF_PLACEHOLDER.encode()

_lock = threading.Lock()
_local_version: tuple[float, str] | None = None
_local_pages: OrderedDict[str, bytes] = OrderedDict()


def scores_version() -> str:
    """Changes on every recompute. No query while known (this process, then the shared cache)."""
    global _local_version
    now = time.monotonic()
    known = _local_version
    if known and known[0] > now:
        return known[1]
    version = cache.get(VERSION_KEY)
    if version is None:
        from analytics.models import InstructorScore

        latest = InstructorScore.objects.aggregate(latest=Max("computed_at"))["latest"]
        version = latest.isoformat() if latest else "none"
        cache.set(VERSION_KEY, version, VERSION_SECONDS)
    _local_version = (now + LOCAL_SECONDS, version)
    return version


def publish_scores_version(version: str) -> None:
    """Called once new scores are committed: every page cached for older scores is from now on ignored."""
    cache.set(VERSION_KEY, version, None)
    forget_local()


def forget_local() -> None:
    """Drop this process's copies (the shared cache keeps its own)."""
    global _local_version
    with _lock:
        _local_version = None
        _local_pages.clear()


def key(*parts: str) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    return f"rankings:{parts[0]}:{digest}"


def _remember(page_key: str, page: bytes) -> None:
    with _lock:
        _local_pages[page_key] = page
        _local_pages.move_to_end(page_key)
        while len(_local_pages) > LOCAL_PAGES:
            _local_pages.popitem(last=False)


def is_plain_anonymous(request: HttpRequest) -> bool:
    """A visitor whose page has nothing personal in it: no session (so no login) and no pending messages."""
    return settings.SESSION_COOKIE_NAME not in request.COOKIES and "messages" not in request.COOKIES


def cached_page(request: HttpRequest, kind: str, render_page: Callable[[dict], str]) -> HttpResponse | None:
    """The whole page for a plain anonymous visitor, rendered at most once per score version, language and
    address; None for anybody else (they get the page rendered with the cached body)."""
    if settings.DEBUG or request.method != "GET" or not is_plain_anonymous(request):
        return None  # (with DEBUG on, template edits show at once)
    page_key = key(f"page-{kind}", scores_version(), get_language() or "", request.get_full_path())
    page = _local_pages.get(page_key)
    if page is None:
        page = cache.get(page_key)
        if page is None:
            page = render_page({"csrf_token": CSRF_PLACEHOLDER}).encode()
            cache.set(page_key, page, PAGE_SECONDS)
        _remember(page_key, page)
    # Kept encoded: a hit costs one bytes.replace, not a 60 kB str.encode.
    return HttpResponse(page.replace(CSRF_PLACEHOLDER_BYTES, get_token(request).encode()))


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
