"""Failure-signal extraction runs: start (one at a time), worker liveness, and execution with progress,
in one process or as a workflow of chunks; signal_extraction computes and saves what a run found."""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from threadpoolctl import threadpool_limits

from analytics import jobs
from analytics.models import SignalRun
from analytics.services.signal_corpus import ensure_models, outdated_review_ids, update_range
from analytics.services.signal_extraction import (
    SignalRunAbandoned,
    cyclic_gc_paused,
    execute_signal_run,
    progress_writer,
)
from analytics.services.training import stored_models
from analytics.signals import Parameters

logger = logging.getLogger(__name__)


# The run's `worker` while its chunks are out: no single process owns it (any worker may run a chunk), so
# only its heartbeat tells whether it is alive; the final task takes it over under its own id.
WORKFLOW = "workflow"


# In a running run's counts: the first primary key of each chunk done, so that a chunk run twice counts once.
_CHUNKS_FINISHED = "chunks_finished"


def signal_run_start(
    *, parameters: dict | None = None, requested_by=None, enqueue: bool = True
) -> tuple[SignalRun, bool]:
    """Queue an extraction run and enqueue its task; if one is already queued or running, return that one.
    Returns (run, created): created is False when the run was already queued or running.

    Invalid parameters raise ValidationError({"parameters": [...]}) and nothing is stored. A run whose
    worker died (no heartbeat, or its process is gone) is marked failed first so a new one can start.
    enqueue=False only queues the run (`extract_signals` then executes it in its own process).
    """
    try:
        effective = Parameters.from_mapping(parameters)
    except ValueError as error:
        raise ValidationError({"parameters": [str(error)]}) from error
    signal_runs_fail_stale()
    active = _active_signal_run()
    if active is not None:
        return active, False
    user = requested_by if getattr(requested_by, "is_authenticated", False) else None
    try:
        with transaction.atomic():
            run = SignalRun.objects.create(
                status=SignalRun.Status.QUEUED,
                parameters=effective.as_dict(),
                requested_by=user,
                step=_("Waiting for a worker"),
            )
    except IntegrityError:
        # Another request queued a run between our check and our insert (one_active_run): use that one.
        active = _active_signal_run()
        if active is None:
            raise
        return active, False
    if enqueue:
        transaction.on_commit(lambda: _enqueue_signal_run(run.pk))
    return run, True


def _active_signal_run() -> SignalRun | None:
    return SignalRun.objects.active().first()


def _enqueue_signal_run(run_id: int) -> None:
    try:
        jobs.enqueue(jobs.EXTRACT_SIGNALS, run_id=run_id)
    except Exception as error:
        logger.exception("could not enqueue signal run %s", run_id)
        SignalRun.objects.filter(pk=run_id, status=SignalRun.Status.QUEUED).update(
            status=SignalRun.Status.FAILED,
            error=_("The task queue could not be reached: %(error)s") % {"error": error},
            finished_at=timezone.now(),
        )


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _worker_is_gone(worker: str) -> bool:
    """True when the run's worker process ran on this host and no longer exists."""
    host, _sep, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def signal_runs_fail_stale() -> int:
    """Mark failed the runs that cannot finish: a running one whose worker stopped (heartbeat older than
    SIGNAL_RUN_STALE_SECONDS, or its process gone), a queued one no worker took within the queue timeout.
    Returns how many were marked."""
    now = timezone.now()
    stale_beat = now - timedelta(seconds=settings.SIGNAL_RUN_STALE_SECONDS)
    queue_timeout = now - timedelta(seconds=settings.SIGNAL_RUN_QUEUE_TIMEOUT_SECONDS)
    marked = 0
    for run in SignalRun.objects.active():
        if run.status == SignalRun.Status.RUNNING:
            beat = run.heartbeat_at or run.started_at or run.created_at
            if beat >= stale_beat and not _worker_is_gone(run.worker):
                continue
            error = _("The worker stopped during the run (no heartbeat since %(time)s).") % {
                "time": timezone.localtime(beat).strftime("%Y-%m-%d %H:%M:%S")
            }
        elif run.created_at < queue_timeout:
            error = _("No worker picked the run up.")
        else:
            continue
        marked += SignalRun.objects.filter(pk=run.pk, status=run.status).update(
            status=SignalRun.Status.FAILED, error=error, finished_at=now
        )
    return marked


def _claim_signal_run(run_id: int, *, worker: str = "", take_over: bool = False) -> SignalRun | None:
    """Move the run to running for this worker (or `worker`); None when it is finished or another live
    worker has it. take_over: the run's chunks are done and this process continues it (the final task)."""
    with transaction.atomic():
        run = SignalRun.objects.select_for_update().get(pk=run_id)
        if run.status in (SignalRun.Status.SUCCEEDED, SignalRun.Status.FAILED):
            return None
        if take_over and run.status == SignalRun.Status.RUNNING and run.worker == WORKFLOW:
            run.worker = _worker_id()
            run.heartbeat_at = timezone.now()
            run.save(update_fields=["worker", "heartbeat_at"])
            return run
        if run.status == SignalRun.Status.RUNNING:
            beat = run.heartbeat_at or run.started_at or run.created_at
            fresh = timezone.now() - beat < timedelta(seconds=settings.SIGNAL_RUN_STALE_SECONDS)
            if fresh and not _worker_is_gone(run.worker):
                return None
        now = timezone.now()
        run.status = SignalRun.Status.RUNNING
        run.started_at = now
        run.heartbeat_at = now
        run.worker = worker or _worker_id()
        run.progress = 1
        run.step = _("Starting")
        run.error = ""
        run.save(
            update_fields=["status", "started_at", "heartbeat_at", "worker", "progress", "step", "error"]
        )
        return run


def signal_run_plan(*, run_id: int) -> list[tuple[int, int]] | None:
    """Start a run as a workflow: claim it, learn the models first if the stored ones will not serve (from
    a bounded sample), and split the reviews to bring up to date into chunks of consecutive primary keys,
    [(first, last), ...], for signal_run_chunk. None when the run is finished or a live worker has it.

    The chunk counts go to the run's counts ("chunks", "chunks_done") and its progress."""
    run = _claim_signal_run(run_id, worker=WORKFLOW)
    if run is None:
        return None
    try:
        with translation.override(settings.LANGUAGE_CODE), threadpool_limits(limits=1), cyclic_gc_paused():
            models, update = ensure_models(progress_writer(run_id))
            ids = outdated_review_ids(models)
            # Small enough that a chunk lost with its worker costs little to run again and the heartbeat the
            # chunks write stays fresh.
            size = max(1, settings.SIGNAL_RUN_CHUNK_SIZE)
            ranges = [
                (ids[start], ids[min(start + size, len(ids)) - 1]) for start in range(0, len(ids), size)
            ]
            SignalRun.objects.filter(pk=run_id, status=SignalRun.Status.RUNNING).update(
                counts={
                    "chunks": len(ranges),
                    "chunks_done": 0,
                    "segmented": update.segmented,
                    "decided": 0,
                    "trained": int(update.trained),
                },
                progress=3,
                step=_chunk_step(0, len(ranges)),
                heartbeat_at=timezone.now(),
            )
    except BaseException as error:
        signal_run_fail(run_id=run_id, error=error)
        raise
    return ranges


def _chunk_step(done: int, total: int) -> str:
    return _("Segmenting %(done)d/%(total)d") % {"done": done, "total": total}


@dataclass(frozen=True)
class ChunkOutcome:
    segmented: int
    # This chunk made the set of the run's chunks complete (or found it complete, delivered again): the
    # caller queues the final step.
    completes_run: bool


def signal_run_chunk(*, run_id: int, first: int, last: int) -> ChunkOutcome:
    """Bring one chunk of a run's reviews up to date (primary keys first..last: segmented, decided by the
    run's models, cached) and mark the chunk done. Idempotent: a chunk delivered again after it finished
    (its worker died before acknowledging it) counts once. Nothing is done when the run is no longer
    running (it was given up)."""
    if not SignalRun.objects.filter(pk=run_id, status=SignalRun.Status.RUNNING).update(
        heartbeat_at=timezone.now()
    ):
        return ChunkOutcome(0, completes_run=False)
    models = stored_models()
    if models is None:
        raise RuntimeError("the run's models are gone: the run must start again")
    with threadpool_limits(limits=1), cyclic_gc_paused():
        update = update_range(first, last, models)
    with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
        run = SignalRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != SignalRun.Status.RUNNING:
            return ChunkOutcome(update.segmented, completes_run=False)
        counts = run.counts
        total = int(counts.get("chunks", 0))
        finished = set(counts.get(_CHUNKS_FINISHED, []))
        if first not in finished:
            finished.add(first)
            counts["segmented"] = counts.get("segmented", 0) + update.segmented
            counts["decided"] = counts.get("decided", 0) + update.decided
        done = len(finished)
        run.counts = {**counts, "chunks_done": done, _CHUNKS_FINISHED: sorted(finished)}
        run.progress = max(run.progress, 3 + int(40 * done / max(total, 1)))
        run.step = _chunk_step(done, total)
        run.heartbeat_at = timezone.now()
        run.save(update_fields=["counts", "progress", "step", "heartbeat_at"])
        # Still the workflow's (no final step has taken it over yet) and every chunk is in.
        completes = done >= total and run.worker == WORKFLOW
    return ChunkOutcome(update.segmented, completes_run=completes)


def signal_run_finish(*, run_id: int) -> SignalRun:
    """The workflow's last step, once every chunk is cached: take the run over, then compute and save it
    (any review that turned stale since the chunks were planned is brought up to date here).

    Progress (0–100 and the step) and a heartbeat go to the run row as it goes. All clusters and
    assignments are written in one transaction that also marks the run current (and the previous one
    not); a run that fails or is killed part-way never becomes current. Idempotent: a finished run, or one
    another live worker is executing, is returned unchanged."""
    run = _claim_signal_run(run_id, take_over=True)
    if run is None:
        return SignalRun.objects.get(pk=run_id)
    return _execute_claimed(run)


def signal_run_execute(*, run_id: int) -> SignalRun:
    """Execute one extraction run in this process (no worker configured; `manage.py extract_signals`): the
    workflow's steps one after another, the chunks in order."""
    ranges = signal_run_plan(run_id=run_id)
    if ranges is None:
        return SignalRun.objects.get(pk=run_id)
    for first, last in ranges:
        try:
            signal_run_chunk(run_id=run_id, first=first, last=last)
        except BaseException as error:
            signal_run_fail(run_id=run_id, error=error)
            raise
    return signal_run_finish(run_id=run_id)


def signal_run_fail(*, run_id: int, error: BaseException) -> None:
    """Mark the running run failed with the error (a chunk that failed for good, or the final step)."""
    SignalRun.objects.filter(pk=run_id, status=SignalRun.Status.RUNNING).update(
        status=SignalRun.Status.FAILED,
        error=f"{type(error).__name__}: {error}"[:2000],
        finished_at=timezone.now(),
    )


def _execute_claimed(run: SignalRun) -> SignalRun:
    run_id = run.pk
    try:
        with translation.override(settings.LANGUAGE_CODE):
            execute_signal_run(run)
    except SignalRunAbandoned:
        logger.warning("signal run %s was given up while it ran; its results were discarded", run_id)
    except BaseException as error:
        signal_run_fail(run_id=run_id, error=error)
        raise
    return SignalRun.objects.get(pk=run_id)
