"""Failure-signal extraction runs: start (one at a time), worker liveness, execution with progress, and
the compute-and-save of a run's clusters and assignments in one transaction."""

from __future__ import annotations

import gc
import logging
import os
import socket
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from itertools import chain
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Value
from django.db.models.functions import Greatest
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from threadpoolctl import threadpool_limits

from analytics import jobs
from analytics.models import (
    ACTIVE_RUN_STATUSES,
    ReviewSignal,
    SignalAssigner,
    SignalCluster,
    SignalDefinition,
    SignalRun,
)
from analytics.services.assignment import recount_clusters
from analytics.services.scores import scores_recompute_soon
from analytics.services.signal_corpus import (
    bring_up_to_date,
    load_corpus,
    segment_stale,
    stale_review_ids,
)
from analytics.services.token_cache import insert_rows
from analytics.signals import (
    ExtractionResult,
    Parameters,
    SignalSpec,
    extract,
    in_scope,
    seed_phrases,
    summarise,
)
from analytics.text import get_segmenter, load_stopwords
from reviews.models import Course, Review

logger = logging.getLogger(__name__)


KEYWORD_STOPWORDS_PATH = Path(__file__).resolve().parent.parent / "data" / "keyword_stopwords.txt"


GUIDED_STATUSES = (SignalDefinition.Status.SEEDED, SignalDefinition.Status.CONFIRMED)


# Reviews segmented (and their tokens cached) per step: one progress update and one short transaction each.
_TOKEN_CACHE_BATCH = 5000


_LOAD_CHUNK = 20000


_LEARNED_TERMS = 20


# The run's `worker` while its chunks are out: no single process owns it (any worker may run a chunk), so
# only its heartbeat tells whether it is alive; the final task takes it over under its own id.
WORKFLOW = "workflow"

# In a running run's counts: the first primary key of each chunk done, so that a chunk run twice counts once.
_CHUNKS_FINISHED = "chunks_finished"


class SignalRunAbandoned(Exception):
    """The run was given up (marked failed) by someone else while this worker was still on it."""


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


def signal_run_execute(*, run_id: int) -> SignalRun:
    """Execute one extraction run (the Celery task and `manage.py extract_signals` call this).

    Progress (0–100 and the step) and a heartbeat go to the run row as it goes. All clusters and
    assignments are written in one transaction that also marks the run current (and the previous one
    not); a run that fails or is killed part-way never becomes current. Idempotent: a finished run, or
    one another live worker is executing, is returned unchanged.
    """
    run = _claim_signal_run(run_id)
    if run is None:
        return SignalRun.objects.get(pk=run_id)
    return _execute_claimed(run)


def signal_run_plan(*, run_id: int) -> list[tuple[int, int]] | None:
    """Start a run as a workflow: claim it and split its stale reviews into chunks of consecutive primary
    keys, [(first, last), ...], for signal_run_chunk. None when the run is finished or a live worker has it.

    The chunk counts go to the run's counts ("chunks", "chunks_done") and its progress."""
    run = _claim_signal_run(run_id, worker=WORKFLOW)
    if run is None:
        return None
    try:
        ids = stale_review_ids()
        # Small enough that a chunk lost with its worker costs little to run again and the heartbeat the
        # chunks write stays fresh.
        size = max(1, settings.SIGNAL_RUN_CHUNK_SIZE)
        ranges = [(ids[start], ids[min(start + size, len(ids)) - 1]) for start in range(0, len(ids), size)]
        with translation.override(settings.LANGUAGE_CODE):
            SignalRun.objects.filter(pk=run_id, status=SignalRun.Status.RUNNING).update(
                counts={"chunks": len(ranges), "chunks_done": 0},
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
    """Segment and cache the stale reviews of one chunk of a run (primary keys first..last) and mark the
    chunk done. Idempotent: a chunk delivered again after it finished (its worker died before acknowledging
    it) counts once. Nothing is done when the run is no longer running (it was given up)."""
    if not SignalRun.objects.filter(pk=run_id, status=SignalRun.Status.RUNNING).exists():
        return ChunkOutcome(0, completes_run=False)
    SignalRun.objects.filter(pk=run_id, status=SignalRun.Status.RUNNING).update(heartbeat_at=timezone.now())
    with threadpool_limits(limits=1):
        segmented = segment_stale(first, last)
    with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
        run = SignalRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != SignalRun.Status.RUNNING:
            return ChunkOutcome(segmented, completes_run=False)
        total = int(run.counts.get("chunks", 0))
        finished = sorted({*run.counts.get(_CHUNKS_FINISHED, []), first})
        done = len(finished)
        run.counts = {**run.counts, "chunks_done": done, _CHUNKS_FINISHED: finished}
        run.progress = max(run.progress, 3 + int(25 * done / max(total, 1)))
        run.step = _chunk_step(done, total)
        run.heartbeat_at = timezone.now()
        run.save(update_fields=["counts", "progress", "step", "heartbeat_at"])
        # Still the workflow's (no final step has taken it over yet) and every chunk is in.
        completes = done >= total and run.worker == WORKFLOW
    return ChunkOutcome(segmented, completes_run=completes)


def signal_run_finish(*, run_id: int) -> SignalRun:
    """The workflow's last step, once every chunk is cached: take the run over and compute and save it as
    signal_run_execute does (any review that turned stale since the chunks were planned is segmented here)."""
    run = _claim_signal_run(run_id, take_over=True)
    if run is None:
        return SignalRun.objects.get(pk=run_id)
    return _execute_claimed(run)


def signal_run_execute_in_chunks(*, run_id: int) -> SignalRun:
    """The workflow in this process, one chunk after another (no worker configured)."""
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
            _execute_signal_run(run)
    except SignalRunAbandoned:
        logger.warning("signal run %s was given up while it ran; its results were discarded", run_id)
    except BaseException as error:
        signal_run_fail(run_id=run_id, error=error)
        raise
    return SignalRun.objects.get(pk=run_id)


def _progress_writer(run_id: int) -> Callable[[int, str], None]:
    def write(percent: int, step: str) -> None:
        updated = SignalRun.objects.filter(pk=run_id, status=SignalRun.Status.RUNNING).update(
            # Never backwards: the final step of a workflow starts after its chunks moved the bar on.
            progress=Greatest(F("progress"), Value(max(0, min(99, percent)))),
            step=str(step)[:120],
            heartbeat_at=timezone.now(),
        )
        if not updated:
            raise SignalRunAbandoned(run_id)

    return write


_STEP_NAMES = {
    "assigning complaints to defined signals": gettext_noop("Assigning complaints to defined signals"),
    "discovering new signals": gettext_noop("Discovering new signals"),
    "describing signals": gettext_noop("Describing signals"),
}


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """A run builds millions of small objects (every review's words) and frees few of them before it ends;
    the cyclic garbage collector would walk them again and again and find nothing (about 1 s of a 5 s
    re-run on 100k reviews). Reference counting still frees everything as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _execute_signal_run(run: SignalRun) -> None:
    with _cyclic_gc_paused():
        _compute_and_save_signal_run(run)


def _compute_and_save_signal_run(run: SignalRun) -> None:
    started = time.monotonic()
    timings: dict[str, float] = {}
    progress = _progress_writer(run.pk)
    params = Parameters.from_mapping(run.parameters)

    progress(3, _("Loading reviews"))
    corpus = load_corpus()
    timings["load"] = round(time.monotonic() - started, 3)

    mark = time.monotonic()
    progress(8, _("Segmenting review text"))
    # Linear algebra on one thread: a worker shares its cores with other workers, and BLAS threads fighting
    # over two cores made the word vectors five times slower.
    with threadpool_limits(limits=1):
        models = bring_up_to_date(corpus, progress)
        timings["prepare"] = round(time.monotonic() - mark, 3)

        mark = time.monotonic()
        result = extract(
            corpus.packed,
            corpus.course_ids,
            _signal_specs(),
            vectors=models.vectors,
            parameters=params,
            keyword_stopwords=load_stopwords(KEYWORD_STOPWORDS_PATH),
            progress=lambda percent, step: progress(percent, _(_STEP_NAMES.get(step, step))),
        )
    corpus.packed = []
    timings["extract"] = round(time.monotonic() - mark, 3)

    mark = time.monotonic()
    progress(80, _("Building the report"))
    instructors: dict[int, list[int]] = defaultdict(list)
    for course_id, instructor_id in Course.instructors.through.objects.values_list(
        "course_id", "instructor_id"
    ):
        instructors[course_id].append(instructor_id)
    report = summarise(
        result,
        ratings=corpus.ratings,
        months=corpus.months,
        courses=corpus.course_ids,
        instructors=instructors,
    )
    report["unassigned_complaints"] = [corpus.review_ids[i] for i in result.unassigned]
    report["noise"] = {
        key[len("noise_") :]: value for key, value in corpus.counts.items() if key.startswith("noise_")
    }
    report["rating_mismatch"] = corpus.counts["rating_mismatch"]
    timings["report"] = round(time.monotonic() - mark, 3)

    progress(90, _("Saving results"))
    mark = time.monotonic()
    counts = {
        **{key: run.counts[key] for key in ("chunks", "chunks_done") if key in (run.counts or {})},
        **result.counts,
        "noise": sum(report["noise"].values()),
        "rating_mismatch": corpus.counts["rating_mismatch"],
        "undated": report["undated"],
        "segmented": corpus.counts["segmented"],
        "decided": corpus.counts["decided"],
        "trained": corpus.counts["trained"],
        "classifier": models.kind,
    }
    _save_signal_run(run, result, report, corpus.review_ids, counts, timings, started, mark)
    _prune_signal_runs()


def _definition_terms(definition: SignalDefinition, merged: list[SignalDefinition]) -> tuple:
    terms = [str(term) for term in definition.seed_terms or [] if str(term).strip()]
    for other in merged:
        terms.extend(str(term) for term in other.seed_terms or [] if str(term).strip())
    return seed_phrases(terms, get_segmenter().tokens)


def _scoped_courses(scope: list[str], courses: list[tuple[int, str, list[str]]]) -> frozenset[int] | None:
    """The courses in the scope (signals.in_scope: by tag or by title); None for no scope (every course)."""
    if not [tag for tag in scope if str(tag).strip()]:
        return None
    return frozenset(pk for pk, title, tags in courses if in_scope(scope, title=title, tags=tags))


def _courses_with_tags() -> list[tuple[int, str, list[str]]]:
    """Every course's id, title and tag names and slugs (a catalog has hundreds, not millions)."""
    tags: dict[int, list[str]] = defaultdict(list)
    for course_id, name, slug in Course.tags.through.objects.values_list(
        "course_id", "tag__name", "tag__slug"
    ):
        tags[course_id].extend((name, slug))
    return [(pk, title, tags[pk]) for pk, title in Course.objects.values_list("pk", "title")]


def _signal_specs() -> list[SignalSpec]:
    """The pipeline's view of the taxonomy: seeded and confirmed signals guide the assignment (within the
    courses their scope tags name); discovered and dismissed ones only keep their identity when a new
    cluster looks like them. A merged signal lends its terms to the one it was merged into."""
    definitions = list(SignalDefinition.objects.order_by("key"))
    catalog = _courses_with_tags()
    merged: dict[int, list[SignalDefinition]] = defaultdict(list)
    for definition in definitions:
        if definition.merged_into_id:
            merged[definition.merged_into_id].append(definition)
    learned: dict[int, dict[str, float]] = defaultdict(dict)
    current = SignalRun.objects.current().first()
    if current is not None:
        for definition_id, keywords in current.clusters.filter(definition__isnull=False).values_list(
            "definition_id", "keywords"
        ):
            for term, weight in keywords[:_LEARNED_TERMS]:
                learned[definition_id][str(term)] = float(weight)
    specs = []
    for definition in definitions:
        if definition.merged_into_id:
            continue
        guided = definition.status in GUIDED_STATUSES
        member_terms = {}
        if definition.status != SignalDefinition.Status.SEEDED:
            for other in [definition, *merged[definition.pk]]:
                member_terms.update(learned.get(other.pk, {}))
        specs.append(
            SignalSpec(
                key=definition.key,
                terms=_definition_terms(definition, merged[definition.pk]),
                learned=member_terms,
                guided=guided,
                courses=_scoped_courses([str(tag) for tag in definition.scope_tags or []], catalog),
                scope=tuple(
                    str(tag).strip().lower() for tag in definition.scope_tags or [] if str(tag).strip()
                ),
            )
        )
    return specs


def _new_definition_key() -> str:
    taken = set(SignalDefinition.objects.filter(key__startswith="candidate-").values_list("key", flat=True))
    number = len(taken) + 1
    while f"candidate-{number}" in taken:
        number += 1
    return f"candidate-{number}"


def _save_signal_run(
    run: SignalRun,
    result: ExtractionResult,
    report: dict,
    review_ids: list[int],
    counts: dict,
    timings: dict,
    started: float,
    save_started: float,
) -> None:
    """Write everything in one transaction and make the run current; nothing if it was given up."""
    with transaction.atomic():
        locked = SignalRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != SignalRun.Status.RUNNING or locked.worker != run.worker:
            raise SignalRunAbandoned(run.pk)
        definitions = {definition.key: definition for definition in SignalDefinition.objects.all()}
        clusters = []
        for group, summary in zip(result.groups, report["signals"], strict=True):
            definition = definitions.get(group.key) if group.key else None
            label = " · ".join(term for term, _weight in group.keywords[:3])
            if definition is None:
                definition = SignalDefinition.objects.create(
                    key=_new_definition_key(),
                    name_zh=label or _("New signal"),
                    status=SignalDefinition.Status.DISCOVERED,
                    seed_terms=[term for term, _weight in group.keywords[:8]],
                )
                definitions[definition.key] = definition
                group.key = definition.key
                summary["key"] = definition.key
            clusters.append(
                SignalCluster(
                    run=locked,
                    definition=definition,
                    label=label[:120],
                    keywords=[[term, weight] for term, weight in group.keywords],
                    size=summary["size"],
                    share=summary["share"],
                    lift=summary["lift"],
                    quote_clauses={
                        str(review_ids[member]): group.clauses.get(member, "")
                        for member in group.representatives
                    },
                )
            )
        SignalCluster.objects.bulk_create(clusters)
        insert_rows(
            ReviewSignal,
            ["run", "review", "cluster", "score"],
            (
                (locked.pk, review_ids[member], cluster.pk, round(score, 5))
                for cluster, group in zip(clusters, result.groups, strict=True)
                for member, score in zip(group.members, group.scores, strict=True)
            ),
        )
        # A learner may have deleted a review since the corpus was loaded: drop its rows (ReviewSignal's
        # foreign keys are not constraints) and keep it out of the quotes, instead of failing the run.
        gone = ReviewSignal.objects.filter(run=locked).exclude(
            Exists(Review.objects.filter(pk=OuterRef("review")))
        )
        deleted, _by_model = gone.delete()
        if deleted:
            recount_clusters([cluster.pk for cluster in clusters], complaints=result.counts["complaints"])
        representatives = {
            cluster.pk: [review_ids[member] for member in group.representatives]
            for cluster, group in zip(clusters, result.groups, strict=True)
        }
        existing = set(
            Review.objects.filter(pk__in=list(chain.from_iterable(representatives.values()))).values_list(
                "pk", flat=True
            )
        )
        through = SignalCluster.representative_reviews.through
        through.objects.bulk_create(
            [
                through(signalcluster_id=cluster_id, review_id=review_id)
                for cluster_id, members in representatives.items()
                for review_id in members
                if review_id in existing
            ]
        )
        for cluster, summary in zip(clusters, report["signals"], strict=True):
            summary["cluster"] = cluster.pk
        SignalAssigner.objects.create(
            run=locked, payload={**result.assigner, "clusters": [cluster.pk for cluster in clusters]}
        )
        SignalRun.objects.current().exclude(pk=locked.pk).update(is_current=False)
        timings["save"] = round(time.monotonic() - save_started, 3)
        timings["total"] = round(time.monotonic() - started, 3)
        locked.status = SignalRun.Status.SUCCEEDED
        locked.is_current = True
        locked.progress = 100
        locked.step = _("Done")
        locked.report = report
        locked.counts = counts
        locked.timings = timings
        locked.finished_at = timezone.now()
        locked.heartbeat_at = locked.finished_at
        locked.save()
        scores_recompute_soon()


def _prune_signal_runs(keep: int = 3) -> None:
    """Old runs keep their clusters (history) but drop per-review rows: only the last few keep those."""
    kept = list(
        SignalRun.objects.filter(status=SignalRun.Status.SUCCEEDED)
        .order_by("-is_current", "-finished_at")
        .values_list("pk", flat=True)[:keep]
    )
    old = SignalRun.objects.exclude(pk__in=kept).exclude(status__in=ACTIVE_RUN_STATUSES)
    ReviewSignal.objects.filter(run__in=old).delete()
    SignalAssigner.objects.filter(run__in=old).delete()
