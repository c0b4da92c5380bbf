"""Failure-signal extraction runs: start (one at a time), worker liveness, and execution with progress,
in one process or as a workflow of chunks; signal_extraction computes and saves what a run found."""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from threadpoolctl import threadpool_limits

from analytics import jobs
from analytics.models import ReviewTokens, SignalRun
from analytics.services.signal_corpus import (
    Update,
    ensure_models,
    models_to_learn,
    outdated_review_ids,
    segment_stale,
    update_range,
)
from analytics.services.signal_extraction import (
    SignalRunAbandoned,
    cyclic_gc_paused,
    execute_signal_run,
    progress_writer,
)
from analytics.services.token_cache import commit_without_waiting, refresh_statistics
from analytics.services.training import stored_models
from analytics.signals import Parameters
from reviews.models import Review

logger = logging.getLogger(__name__)


# The run's `worker` while its chunks are out: no single process owns it (any worker may run a chunk), so
# only its heartbeat tells whether it is alive; the final task takes it over under its own id.
WORKFLOW = "workflow"


# Ranges of reviews segmented ahead while the models are learned, per chunk of their sample.
_AHEAD_PER_LEARNING_CHUNK = 3

# In a running run's counts: the plan was made again after the learning chunks (it is made once).
# ("<phase>_finished" holds the first review id of each chunk done, so that a chunk run twice counts once.)
_RESUMED = "resumed"


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


@dataclass(frozen=True)
class Plan:
    """What a run's workflow does next: segment the models' sample (`learning`: lists of review ids, one
    per task), after which the plan is made again (resume=True) and the models learned; or bring the reviews
    up to date (`chunks`: ranges of primary keys); with neither, the final step follows at once."""

    learning: list[list[int]]
    chunks: list[tuple[int, int]]
    # With `learning`: ranges of primary keys of the first reviews, for workers with nothing else to do
    # while the models are learned to segment ahead (signal_run_ahead_chunk).
    ahead: list[tuple[int, int]] = field(default_factory=list)


def signal_run_plan(*, run_id: int, resume: bool = False) -> Plan | None:
    """Start a run as a workflow: claim it, and when the stored models will not serve, plan the chunks that
    segment the sample the new ones learn from; otherwise (or resumed once those chunks are done: resume)
    learn the models if needed (from the sample, now cached) and split the reviews to bring up to date into
    chunks of consecutive primary keys, [(first, last), ...], for signal_run_chunk. None when the run is
    finished, a live worker has it, or it was resumed already.

    The chunk counts go to the run's counts ("learning", "learning_done", "chunks", "chunks_done") and its
    progress."""
    run = _resume_signal_run(run_id) if resume else _claim_signal_run(run_id, worker=WORKFLOW)
    if run is None:
        return None
    # Small enough that a chunk lost with its worker costs little to run again and the heartbeat the chunks
    # write stays fresh.
    size = max(1, settings.SIGNAL_RUN_CHUNK_SIZE)
    counts = dict(run.counts or {}) if resume else {"segmented": 0, "decided": 0, "trained": 0}
    try:
        with translation.override(settings.LANGUAGE_CODE), threadpool_limits(limits=1), cyclic_gc_paused():
            # After a large import, or the learning chunks' writes: the plan reads every review.
            refresh_statistics(Review, ReviewTokens)
            learning = None if resume else models_to_learn()
            if learning is not None and len(learning.sample) > size:
                # Worth sharing out: the workers segment the sample (what is fresh in the cache they skip),
                # then the models learn from it.
                sample = learning.sample
                batches = [sample[start : start + size] for start in range(0, len(sample), size)]
                _write_plan(run_id, {**counts, "learning": len(batches), "learning_done": 0}, "learning")
                # About as much as the other workers get done while one learns: that takes a few times as
                # long as segmenting the sample did. Beyond it, they would mostly find the chunks planned.
                ahead = _ranges(learning.published, size)[: _AHEAD_PER_LEARNING_CHUNK * len(batches)]
                return Plan(learning=batches, chunks=[], ahead=ahead)
            models, update = ensure_models(progress_writer(run_id))
            ranges = _ranges(outdated_review_ids(models), size)
            counts.update(
                chunks=len(ranges),
                chunks_done=0,
                segmented=int(counts.get("segmented", 0)) + update.segmented,
                trained=int(update.trained),
            )
            _write_plan(run_id, counts, "chunks")
    except BaseException as error:
        signal_run_fail(run_id=run_id, error=error)
        raise
    return Plan(learning=[], chunks=ranges)


def _ranges(ids: list[int], size: int) -> list[tuple[int, int]]:
    """Ranges (first, last) of `size` consecutive ones of the ordered primary keys `ids`."""
    return [(ids[start], ids[min(start + size, len(ids)) - 1]) for start in range(0, len(ids), size)]


def _resume_signal_run(run_id: int) -> SignalRun | None:
    """The run, for its plan to be made again once its learning chunks are done; None when it is not the
    workflow's any more or was resumed already (the last chunk delivered twice queues this twice)."""
    with transaction.atomic():
        run = SignalRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != SignalRun.Status.RUNNING or run.worker != WORKFLOW:
            return None
        if run.counts.get(_RESUMED):
            return None
        run.counts = {**run.counts, _RESUMED: True}
        run.heartbeat_at = timezone.now()
        run.save(update_fields=["counts", "heartbeat_at"])
        return run


def _write_plan(run_id: int, counts: dict, phase: str) -> None:
    SignalRun.objects.filter(pk=run_id, status=SignalRun.Status.RUNNING).update(
        counts=counts,
        progress=_PHASES[phase].start,
        step=_PHASES[phase].step(0, counts[phase]),
        heartbeat_at=timezone.now(),
    )


@dataclass(frozen=True)
class _Phase:
    """A kind of chunk: where its share of the progress bar starts and how far it goes, and its step."""

    start: int
    width: int
    label: str

    def step(self, done: int, total: int) -> str:
        return _(self.label) % {"done": done, "total": total}


_PHASES = {
    "learning": _Phase(2, 8, gettext_noop("Learning the platform's language %(done)d/%(total)d")),
    "chunks": _Phase(10, 33, gettext_noop("Segmenting %(done)d/%(total)d")),
}


@dataclass(frozen=True)
class ChunkOutcome:
    segmented: int
    # This chunk made the set of the run's chunks complete (or found it complete, delivered again): the
    # caller queues the next step.
    completes_run: bool


def signal_run_learn_chunk(*, run_id: int, review_ids: list[int]) -> ChunkOutcome:
    """Segment and cache (decisions pending) one chunk of the sample the run's models will learn from, and
    mark it done; the chunk that completes the set tells the caller to make the plan again (resume).
    Idempotent, like signal_run_chunk."""
    if not _running(run_id):
        return ChunkOutcome(0, completes_run=False)
    with threadpool_limits(limits=1), cyclic_gc_paused(), transaction.atomic():
        segmented = segment_stale(review_ids)
        return _chunk_done(run_id, "learning", review_ids[0], Update(segmented=segmented))


def signal_run_ahead_chunk(*, run_id: int, first: int, last: int) -> int:
    """While a run's models are learned, segment and cache (decisions pending) the stale reviews with
    primary keys first..last, so that the run's chunks then only decide them; how many. Work for a worker
    that would otherwise wait: once the run's chunks are planned it does nothing (they do the range), and
    what it did is never needed (a chunk segments what is still stale). Counted once when delivered twice."""
    running = SignalRun.objects.filter(pk=run_id, status=SignalRun.Status.RUNNING)
    counts = running.values_list("counts", flat=True).first()
    if counts is None or "chunks" in counts:
        return 0
    with threadpool_limits(limits=1), cyclic_gc_paused(), transaction.atomic():
        segmented = segment_stale(range(first, last + 1))
        return _chunk_done(run_id, "ahead", first, Update(segmented=segmented)).segmented


def signal_run_chunk(*, run_id: int, first: int, last: int) -> ChunkOutcome:
    """Bring one chunk of a run's reviews up to date (primary keys first..last: segmented, decided by the
    run's models, cached) and mark the chunk done. Idempotent: a chunk delivered again after it finished
    (its worker died before acknowledging it) counts once. Nothing is done when the run is no longer
    running (it was given up)."""
    if not _running(run_id):
        return ChunkOutcome(0, completes_run=False)
    models = stored_models()
    if models is None:
        raise RuntimeError("the run's models are gone: the run must start again")
    with threadpool_limits(limits=1), cyclic_gc_paused(), transaction.atomic():
        update = update_range(first, last, models)
        return _chunk_done(run_id, "chunks", first, update)


def _running(run_id: int) -> bool:
    """Whether the run is still running (not given up); a chunk's end writes its heartbeat."""
    return SignalRun.objects.filter(pk=run_id, status=SignalRun.Status.RUNNING).exists()


def _chunk_done(run_id: int, phase: str, key: int, update: Update) -> ChunkOutcome:
    """Count chunk `key` of `phase` done (once, however often it is delivered) with what it did. Called in
    the transaction that wrote what it did: a worker killed before the commit leaves neither the work nor
    its count, and the chunk delivered again does both (after the commit, it finds the chunk counted)."""
    with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
        commit_without_waiting()
        run = SignalRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != SignalRun.Status.RUNNING:
            return ChunkOutcome(update.segmented, completes_run=False)
        counts = run.counts
        total = int(counts.get(phase, 0))
        finished = set(counts.get(f"{phase}_finished", []))
        if key not in finished:
            finished.add(key)
            counts["segmented"] = counts.get("segmented", 0) + update.segmented
            counts["decided"] = counts.get("decided", 0) + update.decided
        done = len(finished)
        run.counts = {**counts, f"{phase}_done": done, f"{phase}_finished": sorted(finished)}
        shown = _PHASES.get(phase)  # segmenting ahead shows no progress of its own
        if shown is not None:
            run.progress = max(run.progress, shown.start + int(shown.width * done / max(total, 1)))
            run.step = shown.step(done, total)
        run.heartbeat_at = timezone.now()
        run.save(update_fields=["counts", "progress", "step", "heartbeat_at"])
        # Still the workflow's (no final step has taken it over yet) and every chunk is in.
        completes = shown is not None and done >= total and run.worker == WORKFLOW
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
    """Execute one extraction run here (no worker configured; `manage.py extract_signals`): the workflow's
    steps one after another, each set of chunks shared out over this machine's cores (_local_processes)."""
    plan = signal_run_plan(run_id=run_id)
    try:
        with _local_processes() as run_all:
            if plan is not None and plan.learning:
                learning = [{"run_id": run_id, "review_ids": ids} for ids in plan.learning]
                run_all(signal_run_learn_chunk, learning)
                plan = signal_run_plan(run_id=run_id, resume=True)
            if plan is None:
                return SignalRun.objects.get(pk=run_id)
            run_all(signal_run_chunk, [{"run_id": run_id, "first": a, "last": b} for a, b in plan.chunks])
    except BaseException as error:
        signal_run_fail(run_id=run_id, error=error)
        raise
    return signal_run_finish(run_id=run_id)


@contextmanager
def _local_processes() -> Iterator[Callable[[Callable[..., object], list[dict]], None]]:
    """A way to run chunks (a function, and the keyword arguments of each): in SIGNAL_RUN_LOCAL_PROCESSES
    processes forked from this one, each with its own database connection, when the database is PostgreSQL and
    this process is in no transaction (the processes would not see what it has not committed; SQLite takes one
    writer at a time); else one after another here. In order either way: the first error stops the rest and is
    raised here."""
    processes = settings.SIGNAL_RUN_LOCAL_PROCESSES
    if processes < 2 or connection.vendor != "postgresql" or connection.in_atomic_block:

        def one_by_one(work: Callable[..., object], items: list[dict]) -> None:
            for item in items:
                work(**item)

        yield one_by_one
        return
    connections.close_all()  # a forked copy of a connection would be shared: each process opens its own
    pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"))

    def shared_out(work: Callable[..., object], items: list[dict]) -> None:
        for future in [pool.submit(work, **item) for item in items]:
            future.result()

    try:
        yield shared_out
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


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
