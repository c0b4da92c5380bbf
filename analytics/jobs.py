"""Background jobs by name: how services ask for work in a worker without importing analytics.tasks.

analytics.tasks imports the services (a task takes ids and calls one), so the services cannot import the
tasks back. They call `enqueue(EXTRACT_SIGNALS, run_id=...)` instead, and AnalyticsConfig.ready() registers,
for each name, the callable that hands the job to Celery (analytics.tasks.ENQUEUERS).
"""

from __future__ import annotations

from collections.abc import Callable

EXTRACT_SIGNALS = "extract_signals"
REFRESH_EVIDENCE = "refresh_evidence"
RECOMPUTE_SCORES = "recompute_scores"
REFRESH_REPO_AUDIT = "refresh_repo_audit"
DELIVER_OUTBOX_MESSAGE = "deliver_outbox_message"

_enqueuers: dict[str, Callable[..., object]] = {}


def register(name: str, enqueue_job: Callable[..., object]) -> None:
    """Say how the job `name` reaches the queue (called once per job from AppConfig.ready())."""
    _enqueuers[name] = enqueue_job


def enqueue(name: str, **arguments: object) -> None:
    """Hand the job to the broker now; broker errors propagate to the caller, which decides what is kept."""
    try:
        enqueue_job = _enqueuers[name]
    except KeyError:
        raise LookupError(f"no enqueuer registered for the job {name!r}") from None
    enqueue_job(**arguments)
