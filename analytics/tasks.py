"""Celery tasks of the analytics app: they take ids and call analytics.services."""

from celery import shared_task
from celery.signals import worker_init
from django.core.cache import cache
from django.core.exceptions import ValidationError

from analytics import services, text
from reviews.models import Instructor

# --- Failure signals (signals pipeline) ------------------------------------------------------------------


@worker_init.connect
def _load_dictionaries_before_fork(**_kwargs) -> None:
    """Load jieba-rs and the user dictionary in the worker's main process, so forked pool processes
    share them instead of each loading them on its first task."""
    text.warm_up()


@shared_task(soft_time_limit=25 * 60, time_limit=30 * 60, ignore_result=True)
def extract_signals(run_id: int) -> str:
    """Execute one queued extraction run (progress goes to the SignalRun row). Idempotent."""
    return services.signal_run_execute(run_id=run_id).status


@shared_task(soft_time_limit=60, time_limit=90, ignore_result=True)
def extract_signals_nightly() -> int:
    """Nightly: start a full extraction run (or leave the one already in progress alone)."""
    return services.signal_run_start().pk


@shared_task(soft_time_limit=20, time_limit=30, ignore_result=True)
def assign_review_signals(review_id: int) -> int | None:
    """Assign one saved review to the current run's signals; returns the cluster id or None."""
    assignment = services.signal_review_assign(review_id=review_id)
    return assignment.cluster_id if assignment is not None else None


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
