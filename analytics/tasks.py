"""Celery tasks of the analytics app: they take ids and call one service each.

ENQUEUERS tells analytics.jobs how each job reaches the queue (registered in AnalyticsConfig.ready()), so
services ask for a task by name and never import this module.
"""

import logging
from collections.abc import Callable

from celery import group, shared_task
from celery.signals import worker_init, worker_ready
from django.core.cache import cache
from django.core.exceptions import ValidationError

from analytics import jobs, outbox, text
from analytics.services import evidence, repo_audit, scores, signal_runs, training
from reviews.models import Course, Instructor

logger = logging.getLogger(__name__)

# Publishing an outbox message must fail fast when the broker is down: the message is safe in the database.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


@worker_init.connect
def _load_dictionaries_before_fork(**_kwargs) -> None:
    """Load jieba-rs, the user dictionary and the labelled training clauses in the worker's main process,
    so forked pool processes share them instead of each loading them on its first task."""
    text.warm_up()
    try:
        training.labelled_training()
    except Exception:  # never keep a worker from starting; the first run loads them instead
        logger.exception("could not load the labelled reviews at worker start")


@shared_task(bind=True, soft_time_limit=25 * 60, time_limit=30 * 60, ignore_result=True)
def extract_signals(self, run_id: int) -> str:
    """Start one queued extraction run as a workflow (progress goes to the SignalRun row). Idempotent.

    When the stored models will not serve, a group of learn_signal_chunk tasks first segments the sample
    the new ones learn from, and the chunk that completes that set resumes the run in its own process to learn
    them (_advance), while segment_signal_range_ahead tasks, queued behind the learning chunks, keep the other
    workers segmenting the rest of the reviews. Then a group of segment_signal_chunk tasks, one per range of
    reviews to segment or decide, taken by whichever workers are free; the chunk that completes the set
    (counted in the database, not in the result backend, so a chunk run twice after its worker died counts
    once) queues finish_signal_run. With nothing to bring up to date, the final step runs here at once. Eager
    (.apply()), the same tasks run in this process."""
    return _advance(run_id, resume=False, eager=bool(self.request.is_eager))


def _advance(run_id: int, *, resume: bool, eager: bool) -> str:
    """Make the run's plan (again, resume) and send its next group of tasks, or run its final step."""
    plan = signal_runs.signal_run_plan(run_id=run_id, resume=resume)
    if plan is None:
        return "skipped"
    if plan.learning:
        learning = [learn_signal_chunk.si(run_id, review_ids) for review_ids in plan.learning]
        # Queued behind the learning chunks: whichever workers would wait while one of them learns the
        # models segment the other reviews ahead. In one process nothing waits: they would be wasted.
        ahead = [] if eager else [segment_signal_range_ahead.si(run_id, a, b) for a, b in plan.ahead]
        work = group([*learning, *ahead])
    elif plan.chunks:
        work = group(segment_signal_chunk.si(run_id, first, last) for first, last in plan.chunks)
    else:
        return signal_runs.signal_run_finish(run_id=run_id).status
    if eager:
        work.apply().get()  # a chunk that failed for good raises here, as it would in a worker's log
    else:
        work.apply_async()
    return "dispatched"


# The workflow's chunk tasks: acknowledged only when done (a chunk whose worker died is delivered again),
# retried when they fail.
_chunk_task = shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=5 * 60,
    time_limit=6 * 60,
    max_retries=3,
    default_retry_delay=2,
    ignore_result=True,
)


@_chunk_task
def learn_signal_chunk(self, run_id: int, review_ids: list[int]) -> int:
    """Segment and cache one chunk of the sample a run's new models learn from; the chunk that completes
    the set learns them and plans the run's chunks (extract_signals resumed), here and now: queued, it
    would wait behind the segmenting ahead. Delivered again or retried like segment_signal_chunk."""
    return _chunk(
        self,
        run_id,
        lambda: signal_runs.signal_run_learn_chunk(run_id=run_id, review_ids=review_ids),
        then=lambda eager: _advance(run_id, resume=True, eager=eager),
    )


@shared_task(soft_time_limit=5 * 60, time_limit=6 * 60, ignore_result=True)
def segment_signal_range_ahead(run_id: int, first: int, last: int) -> int:
    """Segment one range of a run's reviews while its models are learned (signal_run_ahead_chunk). Nothing
    depends on it (the run's chunks segment what is still stale), so a failure is logged, not retried."""
    try:
        return signal_runs.signal_run_ahead_chunk(run_id=run_id, first=first, last=last)
    except Exception:
        logger.exception("run %s: segmenting reviews %s-%s ahead failed", run_id, first, last)
        return 0


@_chunk_task
def segment_signal_chunk(self, run_id: int, first: int, last: int) -> int:
    """Segment, decide and cache one chunk of a run's reviews (primary keys first..last); the chunk that
    completes the run's set queues the final step. Idempotent: a chunk that died with its worker is
    delivered again (late acknowledgement; it queues the final step again if the set was complete, and
    the final step runs once) and one that failed is retried; when the retries are used up the run is
    marked failed."""
    return _chunk(
        self,
        run_id,
        lambda: signal_runs.signal_run_chunk(run_id=run_id, first=first, last=last),
        then=lambda eager: (
            finish_signal_run.apply(args=(run_id,)) if eager else finish_signal_run.delay(run_id)
        ),
    )


def _chunk(
    task, run_id: int, work: Callable[[], signal_runs.ChunkOutcome], *, then: Callable[[bool], object]
):
    """Run one chunk of a workflow: retried when it fails (the run is failed when the retries are used
    up); the chunk that completes its set starts the next step (`then`, told whether this runs eagerly)."""
    try:
        chunk = work()
    except Exception as error:
        if task.request.retries >= task.max_retries:
            signal_runs.signal_run_fail(run_id=run_id, error=error)
            raise
        if task.request.is_eager:
            # Run in this process (.apply()): apply() runs the retry itself when the task returns it, whereas
            # raised (task_eager_propagates) it would end the whole workflow.
            return task.retry(exc=error, throw=False)
        raise task.retry(exc=error) from error
    if chunk.completes_run:
        then(bool(task.request.is_eager))
    return chunk.segmented


@shared_task(acks_late=True, soft_time_limit=25 * 60, time_limit=30 * 60, ignore_result=True)
def finish_signal_run(run_id: int) -> str:
    """The workflow's last step: load the (now cached and decided) corpus, extract and save the run.
    Queued more than once (a chunk delivered again), it runs once: the others find the run taken over."""
    return signal_runs.signal_run_finish(run_id=run_id).status


@shared_task(soft_time_limit=60, time_limit=90, ignore_result=True)
def extract_signals_nightly() -> int:
    """Nightly: start a full extraction run (or leave the one already in progress alone)."""
    run, _created = signal_runs.signal_run_start()
    return run.pk


@shared_task(soft_time_limit=240, time_limit=300, ignore_result=True)
def refresh_evidence(instructor_id: int) -> str:
    """Fetch one instructor's GitHub evidence (idempotent: an unchanged account changes nothing)."""
    try:
        snapshot = evidence.evidence_refresh(instructor_id=instructor_id)
    except (Instructor.DoesNotExist, ValidationError):
        return "skipped"  # deleted or unlinked since the task was queued: nothing to fetch
    return snapshot.status


@shared_task(soft_time_limit=120, time_limit=180, ignore_result=True)
def refresh_all_evidence() -> int:
    """Nightly: enqueue a refresh for every instructor linked to GitHub, spaced out for the rate limit."""
    return evidence.evidence_refresh_request(
        instructor_ids=list(Instructor.objects.values_list("pk", flat=True))
    )


@shared_task(soft_time_limit=600, time_limit=660, ignore_result=True)
def recompute_scores() -> int:
    """Recompute all instructor and course scores (after signal runs, evidence refreshes, and nightly)."""
    # Cleared first: a change arriving while this runs schedules one more recompute rather than being lost.
    cache.delete(scores.SCORES_PENDING_KEY)
    return len(scores.scores_recompute())


@shared_task(soft_time_limit=240, time_limit=300, ignore_result=True)
def refresh_repo_audit(course_id: int) -> str:
    """Check one course's companion repository (idempotent: an unchanged head commit downloads nothing)."""
    try:
        return repo_audit.repo_audit_refresh(course_id=course_id).status
    except (Course.DoesNotExist, ValidationError):
        return "skipped"  # deleted or unlinked since the task was queued


@shared_task(soft_time_limit=120, time_limit=180, ignore_result=True)
def refresh_all_repo_audits() -> int:
    """Nightly: enqueue a repository check for every course with a companion repository."""
    return repo_audit.repo_audit_request(course_ids=list(Course.objects.values_list("pk", flat=True)))


@shared_task(soft_time_limit=60, time_limit=90, ignore_result=True)
def deliver_outbox_message(message_id: int) -> bool:
    """Apply one outbox message (exactly once in effect: a repeated delivery finds it processed)."""
    return outbox.outbox_process(message_id=message_id)


@shared_task(soft_time_limit=60, time_limit=90, ignore_result=True)
def drain_outbox() -> int:
    """Periodic (beat) and at worker start: send the outbox messages the broker has not got yet."""
    return outbox.outbox_drain()


@worker_ready.connect
def _drain_outbox_at_worker_start(sender=None, **_kwargs) -> None:
    """A worker that (re)starts — typically after Redis came back — sends what was left unsent meanwhile.
    Queued, not run here: the worker's main process keeps no database connection across the fork."""
    try:
        drain_outbox.delay()
    except Exception:  # noqa: BLE001 - the broker may be down again; beat retries
        logger.warning("could not queue the outbox drain at worker start", exc_info=True)


# Looked up when called (not bound at import), so a test can replace a task's delay/apply_async.
ENQUEUERS: dict[str, Callable[..., object]] = {
    jobs.EXTRACT_SIGNALS: lambda *, run_id: extract_signals.delay(run_id),
    jobs.REFRESH_EVIDENCE: lambda *, instructor_id, countdown: refresh_evidence.apply_async(
        args=(instructor_id,), countdown=countdown
    ),
    jobs.RECOMPUTE_SCORES: lambda *, countdown: recompute_scores.apply_async(countdown=countdown),
    jobs.REFRESH_REPO_AUDIT: lambda *, course_id, countdown: refresh_repo_audit.apply_async(
        args=(course_id,), countdown=countdown
    ),
    jobs.DELIVER_OUTBOX_MESSAGE: lambda *, message_id: deliver_outbox_message.apply_async(
        args=(message_id,), retry=True, retry_policy=PUBLISH_RETRY_POLICY
    ),
}
