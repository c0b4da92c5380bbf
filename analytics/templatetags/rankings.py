"""Scores, evidence and radar data for templates (`{% load rankings %}`).

`{% instructor_evidence instructor as evidence %}` feeds analytics/partials/instructor_evidence.html,
`{% ranking_highlights as highlights %}` the home page block. Chart data leaves through `json_script`.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.core.cache import cache
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from analytics.models import CourseScore, EvidenceSnapshot, InstructorScore
from analytics.ranking_cache import scores_version
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
