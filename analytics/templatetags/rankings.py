"""Scores, evidence and radar data for templates (`{% load rankings %}`).

`{% instructor_evidence instructor as evidence %}` feeds analytics/partials/instructor_evidence.html,
`{% ranking_highlights as highlights %}` the home page block. Chart data leaves through `json_script`.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from django import template
from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from analytics.models import CourseScore, EvidenceSnapshot, InstructorScore
from analytics.ranking_cache import scores_version
from analytics.scoring import NOTABLE_PRIOR_SHARE
from reviews.models import DIMENSIONS

register = template.Library()

HOME_HIGHLIGHTS = 5
HIGHLIGHTS_CACHE_SECONDS = 3600


@register.filter
def percent(value) -> str:
    """0–1 → "63"; None → "—"."""
    if value is None or value == "":
        return "—"
    return str(round(float(value) * 100))


@register.filter
def score100(value) -> str:
    """A 0–1 total as a score out of 100 with one decimal."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.1f}"


@register.filter
def weight_share(weights: dict, key: str) -> int:
    """A component's weight as a whole percentage of all the weights given."""
    total = sum(weights.values()) if weights else 0
    return round(100 * weights.get(key, 0) / total) if total else 0


@register.filter
def signal_name(signal: dict | None) -> str:
    """A stored top-signal entry's name in the current language."""
    if not signal:
        return ""
    if (get_language() or "").startswith("en") and signal.get("name_en"):
        return signal["name_en"]
    return signal.get("name_zh") or signal.get("name_en") or signal.get("key", "")


@register.filter
def first_signal(score) -> dict | None:
    signals = (score.breakdown or {}).get("top_signals") or []
    return signals[0] if signals else None


def radar_payload(scores: list, *, names: list[str]) -> dict:
    """Six teaching dimensions of each score (learners' own averages) plus the platform average."""
    indicators = [{"name": str(label), "min": 1, "max": 5} for _key, label in DIMENSIONS]
    series: list[dict[str, Any]] = []
    platform: dict[str, Any] = {}
    for name, score in zip(names, scores, strict=True):
        breakdown = score.breakdown or {}
        learner = breakdown.get("learner", {})
        platform = platform or breakdown.get("platform", {}).get("dimensions", {})
        series.append(
            {
                "name": name,
                "values": [learner.get("dimensions", {}).get(key) for key, _label in DIMENSIONS],
                "counts": [learner.get("dimension_counts", {}).get(key, 0) for key, _label in DIMENSIONS],
            }
        )
    if platform:
        series.append(
            {
                "name": _("Platform average"),
                "values": [platform.get(key) for key, _label in DIMENSIONS],
                "baseline": True,
            }
        )
    return {"indicators": indicators, "series": series, "noData": _("no ratings")}


@register.simple_tag
def instructor_evidence(instructor, user=None) -> dict:
    """Score, radar and GitHub evidence for one instructor (three queries; a fourth for staff)."""
    score = InstructorScore.objects.filter(instructor=instructor).first()
    snapshot = EvidenceSnapshot.objects.current_for(instructor)
    failure = None
    if user is not None and getattr(user, "is_staff", False):
        failed = EvidenceSnapshot.objects.filter(instructor=instructor, status=EvidenceSnapshot.Status.FAILED)
        failure = failed.order_by("-fetched_at", "-pk").first()
        if failure and snapshot and failure.fetched_at <= snapshot.last_refreshed:
            failure = None  # a later success replaced it
    total_ranked = InstructorScore.objects.filter(rank__isnull=False).count() if score and score.rank else 0
    return {
        "score": score,
        "breakdown": score.breakdown if score else {},
        "radar": radar_payload([score], names=[instructor.name]) if score else None,
        "snapshot": snapshot,
        "failure": failure,
        "ranked_count": total_ranked,
        "radar_id": f"instructor-radar-{instructor.pk}",
        "star_cap": settings.GITHUB_STAR_CAP_PER_REPO,
        "notable_prior_share": NOTABLE_PRIOR_SHARE,
    }


@register.simple_tag
def ranking_highlights() -> dict:
    """Top instructors and courses for the home page, cached until scores change (one query when cached)."""
    key = f"rankings:home:{scores_version()}"
    highlights = cache.get(key)
    if highlights is None:
        highlights = {
            "instructors": list(
                InstructorScore.objects.ranking().filter(rank__isnull=False)[:HOME_HIGHLIGHTS]
            ),
            "courses": list(CourseScore.objects.ranking().filter(rank__isnull=False)[:HOME_HIGHLIGHTS]),
        }
        cache.set(key, highlights, HIGHLIGHTS_CACHE_SECONDS)
    return highlights


# Staff who linked or refreshed an instructor's GitHub account: {instructor pk: ISO time of the request}.
EVIDENCE_REQUESTS_SESSION_KEY = "evidence_refresh_requests"
# After this long without a result the page stops waiting and says the worker may not be running.
EVIDENCE_REFRESH_PATIENCE = timedelta(minutes=2)


def evidence_error(snapshot: EvidenceSnapshot) -> str:
    """What went wrong with a failed refresh, in words a staff member can act on (the raw error is kept)."""
    summary = snapshot.payload_summary or {}
    kind = summary.get("error_kind", "")
    raw = snapshot.error or ""
    login = summary.get("login") or snapshot.instructor.github_login
    if kind == "GitHubNotFound" or (not kind and "(404)" in raw):
        return _("GitHub has no account called “%(login)s”. Check the spelling and link it again.") % {
            "login": login
        }
    if kind == "GitHubRateLimited" or (not kind and "rate limit" in raw):
        until = summary.get("rate_limited_until", "")[:16].replace("T", " ")
        if not until and (found := re.search(r"until (\d{4}-\d\d-\d\d \d\d:\d\d)", raw)):
            until = found.group(1)
        return _("GitHub's rate limit was reached; refresh again after %(until)s UTC.") % {"until": until}
    return _(
        "GitHub could not be reached (no network, or GitHub is down). The last good evidence stays; "
        "refresh again later."
    )


def github_refresh_state(instructor, request) -> dict | None:
    """Where the refresh a staff member started from this page stands: waiting, stalled, failed or done."""
    requested_at = request.session.get(EVIDENCE_REQUESTS_SESSION_KEY, {}).get(str(instructor.pk))
    if not requested_at:
        return None
    requested = datetime.fromisoformat(requested_at)
    latest = (
        EvidenceSnapshot.objects.filter(instructor=instructor)
        .filter(Q(fetched_at__gte=requested) | Q(checked_at__gte=requested))
        .order_by("-fetched_at", "-pk")
        .first()
    )
    if latest is None:
        waiting = timezone.now() - requested < EVIDENCE_REFRESH_PATIENCE
        return {"state": "waiting" if waiting else "stalled", "login": instructor.github_login}
    if latest.status == EvidenceSnapshot.Status.FAILED:
        return {"state": "failed", "message": evidence_error(latest), "detail": latest.error}
    return {"state": "done", "when": latest.last_refreshed}


@register.simple_tag(takes_context=True)
def github_refresh(context, instructor) -> dict | None:
    request = context.get("request")
    if request is None or not getattr(request.user, "is_staff", False):
        return None
    return github_refresh_state(instructor, request)


@register.filter
def friendly_evidence_error(snapshot) -> str:
    return evidence_error(snapshot) if snapshot else ""


@register.simple_tag
def attach_course_scores(courses) -> str:
    """Give each course of a list its CourseScore as `course.score` (None when unscored), in one query, so
    course cards can show the score and what learners warn about without a query per card."""
    courses = list(courses)
    scores = {score.course_id: score for score in CourseScore.objects.filter(course__in=courses)}
    for course in courses:
        course.score = scores.get(course.pk)
    return ""


@register.simple_tag
def course_score(course) -> CourseScore | None:
    return CourseScore.objects.filter(course=course).first()


@register.simple_tag
def ranked_course_count() -> int:
    return CourseScore.objects.filter(rank__isnull=False).count()
