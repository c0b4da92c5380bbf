"""Celery tasks of the analytics app: they take ids and call analytics.services."""

from celery import shared_task
from django.core.cache import cache
from django.core.exceptions import ValidationError

from analytics import services
from reviews.models import Instructor

# --- Evidence and scores (evidence & ranking) ------------------------------------------------------------


@shared_task(soft_time_limit=240, time_limit=300, ignore_result=True)
def refresh_evidence(instructor_id: int) -> str:
    """Fetch one instructor's GitHub evidence (idempotent: an unchanged account changes nothing)."""
    try:
        snapshot = services.evidence_refresh(instructor_id=instructor_id)
    except (Instructor.DoesNotExist, ValidationError):
        return "skipped"  # deleted or unlinked since the task was queued: nothing to fetch
    return snapshot.status


@shared_task(soft_time_limit=120, time_limit=180, ignore_result=True)
def refresh_all_evidence() -> int:
    """Nightly: enqueue a refresh for every instructor linked to GitHub, spaced out for the rate limit."""
    return services.evidence_refresh_request(
        instructor_ids=list(Instructor.objects.values_list("pk", flat=True))
    )


@shared_task(soft_time_limit=600, time_limit=660, ignore_result=True)
def recompute_scores() -> int:
    """Recompute all instructor and course scores (after signal runs, evidence refreshes, and nightly)."""
    # Cleared first: a change arriving while this runs schedules one more recompute rather than being lost.
    cache.delete(services.SCORES_PENDING_KEY)
    return len(services.scores_recompute())
