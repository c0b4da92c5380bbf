"""Write paths of the analytics app (signal runs, evidence, scores)."""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import socket
import threading
import time
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from itertools import chain
from pathlib import Path

import numpy as np
import sklearn
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Case, Count, Exists, F, OuterRef, Q, Sum, Value, When
from django.db.models.functions import MD5, TruncMonth
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from analytics.github import GitHubClient, GitHubError, GitHubRateLimited, fetch_evidence
from analytics.models import (
    CourseScore,
    EvidenceSnapshot,
    InstructorScore,
    OutboxMessage,
    ReviewSignal,
    ReviewTokens,
    SignalAssigner,
    SignalCluster,
    SignalDefinition,
    SignalRun,
)
from analytics.ranking_cache import publish_scores_version
from analytics.reports import PUBLIC_STATUSES, effective_definition
from analytics.scoring import (
    EVIDENCE_FIGURES,
    Rankable,
    RatingBucket,
    RatingSummary,
    assign_ranks,
    evidence_strength,
    has_enough_data,
    percentiles,
    rating_to_unit,
    signal_burden,
    signal_component,
    smoothed_mean,
    summarise_ratings,
    total_score,
)
from analytics.signals import (
    ComplaintClassifier,
    ExtractionResult,
    Parameters,
    RatingComplaintRule,
    SignalSpec,
    assign_one,
    extract,
    seed_phrases,
    summarise,
)
from analytics.text import get_segmenter, load_stopwords
from reviews.models import DIMENSION_KEYS, Course, Instructor, Review, dimension_field

logger = logging.getLogger(__name__)


# --- Failure signals (signals pipeline) ------------------------------------------------------------------

SIGNAL_SEEDS_PATH = Path(__file__).resolve().parent / "data" / "seeds.json"
KEYWORD_STOPWORDS_PATH = Path(__file__).resolve().parent / "data" / "keyword_stopwords.txt"
ACTIVE_RUN_STATUSES = (SignalRun.Status.QUEUED, SignalRun.Status.RUNNING)
GUIDED_STATUSES = (SignalDefinition.Status.SEEDED, SignalDefinition.Status.CONFIRMED)
# Reviews segmented (and their tokens cached) per step: one progress update and one short transaction each.
_TOKEN_CACHE_BATCH = 5000
_LOAD_CHUNK = 20000
# Upserts of fewer rows (one new review's cache row) skip the scratch table COPY needs.
_COPY_UPSERT_FROM = 500
_LEARNED_TERMS = 20


class SignalRunAbandoned(Exception):
    """The run was given up (marked failed) by someone else while this worker was still on it."""


def review_saved(*, review_id: int) -> None:
    """Called by reviews.services after a review is created or its text/rating/status changes (after commit).

    The follow-up (signal assignment, score refresh) travels through the outbox (analytics/outbox.py):
    reviews.services records it in the review's transaction with review_followup_record and it is sent right
    after commit; when the broker cannot be reached it stays in the database and the periodic drain sends it
    once the broker is back. A caller that did not record it first gets it recorded (and sent) here.
    """
    from analytics import outbox

    key = f"{outbox.REVIEW_SAVED}:{review_id}"
    if not OutboxMessage.objects.filter(key=key, processed_at__isnull=True).exists():
        review_followup_record(review_id=review_id)
    outbox.outbox_send(keys=[key])


def review_followup_record(*, review_id: int) -> None:
    """Write the review's follow-up to the outbox in the caller's transaction (trust: nothing lost)."""
    from analytics import outbox

    outbox.outbox_add(
        topic=outbox.REVIEW_SAVED, key=f"{outbox.REVIEW_SAVED}:{review_id}", payload={"review_id": review_id}
    )


def seed_signal_definitions() -> int:
    """Create the shipped failure signals (analytics/data/seeds.json) that do not exist yet.

    Idempotent. Definitions that exist are left as admins edited them (names, terms, status); a seeded
    definition whose seed terms were emptied gets the shipped ones back. Returns how many were created.
    """
    created = 0
    for seed in json.loads(SIGNAL_SEEDS_PATH.read_text(encoding="utf-8")):
        definition, was_created = SignalDefinition.objects.get_or_create(
            key=seed["key"],
            defaults={
                "name_zh": seed["name_zh"],
                "name_en": seed["name_en"],
                "description": seed["description"],
                "seed_terms": seed["seed_terms"],
                "status": SignalDefinition.Status.SEEDED,
            },
        )
        created += was_created
        if (
            not was_created
            and not definition.seed_terms
            and definition.status == SignalDefinition.Status.SEEDED
        ):
            definition.seed_terms = seed["seed_terms"]
            definition.save(update_fields=["seed_terms", "updated_at"])
    return created


def signal_run_start(*, parameters: dict | None = None, requested_by=None, enqueue: bool = True) -> SignalRun:
    """Queue an extraction run and enqueue its task; if one is already queued or running, return that one.

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
        return active
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
        return active
    if enqueue:
        transaction.on_commit(lambda: _enqueue_signal_run(run.pk))
    return run


def _active_signal_run() -> SignalRun | None:
    return SignalRun.objects.filter(status__in=ACTIVE_RUN_STATUSES).order_by("created_at").first()


def _enqueue_signal_run(run_id: int) -> None:
    from analytics.tasks import extract_signals

    try:
        extract_signals.delay(run_id)
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
    for run in SignalRun.objects.filter(status__in=ACTIVE_RUN_STATUSES):
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


def _claim_signal_run(run_id: int) -> SignalRun | None:
    """Move the run to running for this worker; None when it is finished or another live worker has it."""
    with transaction.atomic():
        run = SignalRun.objects.select_for_update().get(pk=run_id)
        if run.status in (SignalRun.Status.SUCCEEDED, SignalRun.Status.FAILED):
            return None
        if run.status == SignalRun.Status.RUNNING:
            beat = run.heartbeat_at or run.started_at or run.created_at
            fresh = timezone.now() - beat < timedelta(seconds=settings.SIGNAL_RUN_STALE_SECONDS)
            if fresh and not _worker_is_gone(run.worker):
                return None
        now = timezone.now()
        run.status = SignalRun.Status.RUNNING
        run.started_at = now
        run.heartbeat_at = now
        run.worker = _worker_id()
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
    try:
        with translation.override(settings.LANGUAGE_CODE):
            _execute_signal_run(run)
    except SignalRunAbandoned:
        logger.warning("signal run %s was given up while it ran; its results were discarded", run_id)
    except BaseException as error:
        SignalRun.objects.filter(pk=run_id, status=SignalRun.Status.RUNNING).update(
            status=SignalRun.Status.FAILED,
            error=f"{type(error).__name__}: {error}"[:2000],
            finished_at=timezone.now(),
        )
        raise
    return SignalRun.objects.get(pk=run_id)


def _progress_writer(run_id: int) -> Callable[[int, str], None]:
    def write(percent: int, step: str) -> None:
        updated = SignalRun.objects.filter(pk=run_id, status=SignalRun.Status.RUNNING).update(
            progress=max(0, min(99, percent)), step=str(step)[:120], heartbeat_at=timezone.now()
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
    training = signal_training_data()
    corpus = _load_corpus(training)
    timings["load"] = round(time.monotonic() - started, 3)

    mark = time.monotonic()
    progress(8, _("Segmenting review text"))
    refreshed = _refresh_stale(corpus, training, progress)
    timings["segment"] = round(time.monotonic() - mark, 3)

    mark = time.monotonic()
    result = extract(
        corpus.tokens,
        corpus.complaint,
        _signal_specs(),
        parameters=params,
        keyword_stopwords=load_stopwords(KEYWORD_STOPWORDS_PATH),
        context=training.context,
        progress=lambda percent, step: progress(percent, _(_STEP_NAMES.get(step, step))),
    )
    corpus.tokens = []
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
    timings["report"] = round(time.monotonic() - mark, 3)

    progress(90, _("Saving results"))
    mark = time.monotonic()
    counts = {**result.counts, "segmented": refreshed, "classifier": training.kind}
    _save_signal_run(run, result, report, corpus.review_ids, counts, timings, started, mark)
    _prune_signal_runs()


@dataclass
class _Corpus:
    """The published reviews of a run, in primary-key order (one entry per review in each list)."""

    review_ids: list[int] = field(default_factory=list)
    ratings: list[int] = field(default_factory=list)
    months: list[str] = field(default_factory=list)  # "YYYY-MM" in the site's time zone
    course_ids: list[int] = field(default_factory=list)
    # Content tokens (joined by spaces, as cached) and complaint decision; None until _refresh_stale fills
    # in the reviews whose cache row was missing or stale (text, rating or pipeline changed): `stale`.
    tokens: list[str | None] = field(default_factory=list)
    complaint: list[bool | None] = field(default_factory=list)
    stale: list[tuple[int, str]] = field(default_factory=list)  # (position, text)


def _with_cache(reviews: models.QuerySet, pipeline: str) -> models.QuerySet:
    """`reviews` annotated with `stale_text`: NULL when the review's cache row is fresh (same text, rating
    and pipeline), else the text to segment and classify again. Comparing in SQL means a re-run never
    fetches, let alone hashes, the text of an unchanged review."""
    fresh = Q(tokens__text_hash=MD5("text"), tokens__pipeline=pipeline, tokens__rating=F("rating"))
    return reviews.annotate(
        stale_text=Case(When(fresh, then=Value(None)), default=F("text"), output_field=models.TextField())
    )


def _load_corpus(training: TrainingData) -> _Corpus:
    """The published reviews with their cached tokens and complaint decisions, in one query of plain rows
    (no model instances, no datetime objects: creation times come as seconds since 1970)."""
    corpus = _Corpus()
    moments = array("q")
    rows = (
        _with_cache(Review.objects.filter(status=Review.Status.PUBLISHED), training.fingerprint)
        .annotate(moment=_EpochSeconds("created_at"))
        .order_by("pk")
        .values_list(
            "pk", "rating", "moment", "course_id", "tokens__tokens", "tokens__complaint", "stale_text"
        )
    )
    for review_id, rating, moment, course_id, cached, complaint, stale_text in rows.iterator(
        chunk_size=_LOAD_CHUNK
    ):
        if stale_text is None:
            corpus.tokens.append(cached)
            corpus.complaint.append(complaint)
        else:
            corpus.stale.append((len(corpus.tokens), stale_text))
            corpus.tokens.append(None)
            corpus.complaint.append(None)
        corpus.review_ids.append(review_id)
        corpus.ratings.append(rating)
        moments.append(moment)
        corpus.course_ids.append(course_id)
    corpus.months = _local_months(np.frombuffer(moments, dtype=np.int64), timezone.get_current_timezone())
    return corpus


class _EpochSeconds(models.Func):
    """A datetime as whole seconds since 1970 (UTC), computed by the database: loading 100k datetime
    objects (and converting each to the site's zone) cost more than the rest of a re-run's load."""

    output_field = models.BigIntegerField()

    def as_postgresql(self, compiler, connection, **extra_context):
        template = "FLOOR(EXTRACT(EPOCH FROM %(expressions)s))::bigint"
        return self.as_sql(compiler, connection, template=template, **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        # strftime's '%s' reaches SQLite through two %-formattings (the template's, then the parameters').
        template = "CAST(strftime('%%%%s', %(expressions)s) AS INTEGER)"
        return self.as_sql(compiler, connection, template=template, **extra_context)


def _local_months(moments: np.ndarray, zone: tzinfo) -> list[str]:
    """The month ("YYYY-MM") in `zone` of each moment (seconds since 1970): one search among the instants
    the zone's months begin (daylight saving included), not one time-zone conversion per review."""
    if not len(moments):
        return []
    first = datetime.fromtimestamp(int(moments.min()), zone)
    last = datetime.fromtimestamp(int(moments.max()), zone)
    starts, labels = [], []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        starts.append(datetime(year, month, 1, tzinfo=zone).timestamp())
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    positions = np.searchsorted(np.asarray(starts), moments, side="right") - 1
    return [labels[position] for position in positions.tolist()]


def _refresh_stale(corpus: _Corpus, training: TrainingData, progress: Callable[[int, str], None]) -> int:
    """Segment and classify the reviews whose cache row was missing or stale, cache them; how many."""
    stale = corpus.stale
    for start in range(0, len(stale), _TOKEN_CACHE_BATCH):
        batch = stale[start : start + _TOKEN_CACHE_BATCH]
        positions = [position for position, _text in batch]
        with transaction.atomic():
            fresh_tokens, fresh_complaint = _analyse_and_cache(
                [corpus.review_ids[position] for position in positions],
                [text for _position, text in batch],
                [corpus.ratings[position] for position in positions],
                training,
            )
        for position, review_tokens, complaint in zip(positions, fresh_tokens, fresh_complaint, strict=True):
            corpus.tokens[position] = review_tokens
            corpus.complaint[position] = complaint
        progress(8 + int(20 * (start + len(batch)) / len(stale)), _("Segmenting review text"))
    corpus.stale = []
    return len(stale)


def _analyse_and_cache(
    review_ids: list[int], texts: list[str], ratings: list[int], training: TrainingData
) -> tuple[list[str], list[bool]]:
    """Segment, classify and filter reviews, store the result in their cache rows (in the caller's
    transaction) and return each review's content tokens joined by spaces, and whether it is a complaint."""
    segmenter = get_segmenter()
    words = segmenter.words_many(texts)
    complaint = training.classifier.is_complaint(words, ratings).tolist()
    tokens = segmenter.filter_many(words)
    packed = [ReviewTokens.pack(review_tokens) for review_tokens in tokens]
    stamp = connection.ops.adapt_datetimefield_value(timezone.now())
    _insert_rows(
        ReviewTokens,
        ["review", "text_hash", "pipeline", "rating", "tokens", "complaint", "updated_at"],
        (
            (review_id, _md5(text), training.fingerprint, rating, stored, flag, stamp)
            for review_id, text, rating, stored, flag in zip(
                review_ids, texts, ratings, packed, complaint, strict=True
            )
            if stored is not None
        ),
        update_on_conflict=["text_hash", "pipeline", "rating", "tokens", "complaint", "updated_at"],
    )
    # A review whose tokens cannot be cached (see ReviewTokens.pack) still counts in this run.
    joined = [
        " ".join(review) if stored is None else stored for review, stored in zip(tokens, packed, strict=True)
    ]
    return joined, complaint


def _md5(text: str) -> str:
    """The digest the database's MD5() gives for the same text (its UTF-8 bytes, in hex)."""
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def _insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[tuple],
    *,
    update_on_conflict: Sequence[str] = (),
) -> None:
    """Insert plain tuples (values of `fields`, in order) into the model's table, without model instances.

    A run writes ~100k rows at a time; building a model instance and compiling an INSERT for each costs
    more than the database does. PostgreSQL gets them by COPY; other databases by one executemany.
    `update_on_conflict`: when a row with the same primary key exists, these fields are overwritten
    (upsert). No signals are sent and no ids are returned, like bulk_create.
    """
    meta = model._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = ", ".join(quote(meta.get_field(name).column) for name in fields)
    key = quote(meta.pk.column)
    updates = ", ".join(
        f"{column} = excluded.{column}"
        for column in (quote(meta.get_field(name).column) for name in update_on_conflict)
    )
    conflict = f" ON CONFLICT ({key}) DO UPDATE SET {updates}" if updates else ""
    with connection.cursor() as cursor:
        raw = cursor.cursor
        by_copy = connection.vendor == "postgresql" and hasattr(raw, "copy")
        if by_copy and conflict:
            rows = list(rows)
            by_copy = len(rows) >= _COPY_UPSERT_FROM
        if not by_copy:
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders}){conflict}", rows)
        elif not conflict:
            with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            # COPY cannot upsert: stream into a scratch table, then merge it in one statement.
            scratch = quote(f"{meta.db_table}_incoming")
            cursor.execute(f"DROP TABLE IF EXISTS {scratch}")
            cursor.execute(f"CREATE TEMPORARY TABLE {scratch} AS SELECT {columns} FROM {table} WITH NO DATA")
            with raw.copy(f"COPY {scratch} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {scratch}{conflict}")
            cursor.execute(f"DROP TABLE {scratch}")


@dataclass(frozen=True)
class TrainingData:
    """What the project's labelled reviews give every run: the complaint classifier, and their content
    tokens as background text for the TF-IDF and LSA spaces (more co-occurrence evidence on small corpora)."""

    classifier: ComplaintClassifier | RatingComplaintRule
    kind: str  # "trained" or "rating-rule"
    context: tuple[str, ...]  # each review's content tokens joined by spaces
    # Of the segmenter, the classifier and what it learned from: cached tokens and complaint decisions
    # made under another fingerprint are stale.
    fingerprint: str


class _TrainingCache:
    lock = threading.Lock()
    key: tuple | None = None
    value: TrainingData | None = None


def signal_training_data() -> TrainingData:
    """Trained (≈0.3 s, deterministic) from SIGNAL_TRAINING_REVIEWS/_LABELS; cached per process until those
    files change. Without usable training data the rule "rating ≤ 3" is used, and each run's counts say
    so ("classifier": "rating-rule")."""
    reviews_path = Path(settings.SIGNAL_TRAINING_REVIEWS)
    labels_path = Path(settings.SIGNAL_TRAINING_LABELS)
    try:
        key = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in (reviews_path, labels_path))
    except OSError:
        key = None
    with _TrainingCache.lock:
        if _TrainingCache.value is not None and _TrainingCache.key == key:
            return _TrainingCache.value
        try:
            if key is None:
                raise ValueError("training files are missing")
            value = _train(reviews_path, labels_path)
        except (ValueError, KeyError, TypeError, json.JSONDecodeError) as error:
            logger.warning("complaint classifier falls back to the rating rule: %s", error)
            rule = RatingComplaintRule()
            value = TrainingData(
                classifier=rule,
                kind="rating-rule",
                context=(),
                fingerprint=_pipeline_fingerprint(f"rating-rule {rule.at_or_below}".encode()),
            )
        _TrainingCache.key, _TrainingCache.value = key, value
        return value


def _pipeline_fingerprint(*parts: bytes) -> str:
    digest = hashlib.sha256(get_segmenter().fingerprint.encode())
    for part in (sklearn.__version__.encode(), *parts):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()[:32]


def _train(reviews_path: Path, labels_path: Path) -> TrainingData:
    reviews_bytes, labels_bytes = reviews_path.read_bytes(), labels_path.read_bytes()
    labels: dict[str, str] = {}
    for line in labels_bytes.decode("utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            labels[str(item["id"])] = str(item["label"])
    texts, ratings, complaint = [], [], []
    for line in reviews_bytes.decode("utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        label = labels.get(str(item["id"]))
        if label is None:
            continue
        texts.append(str(item["text"]))
        ratings.append(int(item["rating"]))
        complaint.append(label != "praise")
    segmenter = get_segmenter()
    words = segmenter.words_many(texts)
    classifier = ComplaintClassifier().fit(words, ratings, complaint)
    return TrainingData(
        classifier=classifier,
        kind="trained",
        context=tuple(" ".join(segmenter.filter(w)) for w in words),
        fingerprint=_pipeline_fingerprint(
            repr((classifier.version, classifier.c, classifier.threshold)).encode(),
            reviews_bytes,
            labels_bytes,
        ),
    )


def _definition_terms(definition: SignalDefinition, merged: list[SignalDefinition]) -> tuple:
    terms = [str(term) for term in definition.seed_terms or [] if str(term).strip()]
    for other in merged:
        terms.extend(str(term) for term in other.seed_terms or [] if str(term).strip())
    return seed_phrases(terms, get_segmenter().tokens)


def _signal_specs() -> list[SignalSpec]:
    """The pipeline's view of the taxonomy: seeded and confirmed signals guide the assignment; discovered
    and dismissed ones only keep their identity when a new cluster looks like them. A merged signal
    lends its terms to the one it was merged into."""
    definitions = list(SignalDefinition.objects.order_by("key"))
    merged: dict[int, list[SignalDefinition]] = defaultdict(list)
    for definition in definitions:
        if definition.merged_into_id:
            merged[definition.merged_into_id].append(definition)
    learned: dict[int, dict[str, float]] = defaultdict(dict)
    current = SignalRun.objects.filter(is_current=True).first()
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
                )
            )
        SignalCluster.objects.bulk_create(clusters)
        _insert_rows(
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
            _recount_clusters([cluster.pk for cluster in clusters], complaints=result.counts["complaints"])
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
        SignalRun.objects.filter(is_current=True).exclude(pk=locked.pk).update(is_current=False)
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


class _AssignerCache:
    lock = threading.Lock()
    run_id: int | None = None
    payload: dict | None = None


def _current_assigner(run: SignalRun) -> dict:
    with _AssignerCache.lock:
        if _AssignerCache.run_id != run.pk:
            payload = SignalAssigner.objects.filter(run=run).values_list("payload", flat=True).first()
            _AssignerCache.run_id, _AssignerCache.payload = run.pk, payload or {}
        return _AssignerCache.payload or {}


def signal_review_assign(*, review_id: int) -> ReviewSignal | None:
    """Assign one new or edited review to the current run's signals (the light task after a save).

    A review that is not published, not a complaint, or like no signal loses its assignment.
    """
    run = SignalRun.objects.filter(is_current=True).only("pk", "counts").first()
    if run is None:
        return None
    training = signal_training_data()
    with transaction.atomic():  # the cache row and the assignment: one commit
        review = (
            _with_cache(Review.objects.filter(pk=review_id), training.fingerprint)
            .values_list("rating", "status", "tokens__tokens", "tokens__complaint", "stale_text")
            .first()
        )
        match = None
        if review is not None and review[1] == Review.Status.PUBLISHED:
            rating, _status, cached, complaint, stale_text = review
            if stale_text is not None:
                ([cached], [complaint]) = _analyse_and_cache([review_id], [stale_text], [rating], training)
            if complaint:
                assigner = _current_assigner(run)
                found = assign_one(assigner, ReviewTokens.unpack(cached))
                if found is not None:
                    match = (assigner["clusters"][found[0]], found[1])
        previous = (
            ReviewSignal.objects.filter(run=run, review_id=review_id)
            .values_list("cluster_id", flat=True)
            .first()
        )
        if match is None:
            if previous is not None:
                ReviewSignal.objects.filter(run=run, review_id=review_id).delete()
            assignment = None
        else:
            assignment, _created = ReviewSignal.objects.update_or_create(
                run=run, review_id=review_id, defaults={"cluster_id": match[0], "score": round(match[1], 5)}
            )
        current = match[0] if match else None
        if current != previous:  # the clusters it left and joined change size
            _recount_clusters(
                [cluster_id for cluster_id in (previous, current) if cluster_id is not None],
                complaints=int(run.counts.get("complaints", 0)),
            )
    return assignment


def _recount_clusters(cluster_ids: list[int], *, complaints: int) -> None:
    """Set the clusters' size and share of complaints from their assignments, after rows came or went."""
    sizes = dict(
        ReviewSignal.objects.filter(cluster_id__in=cluster_ids)
        .values_list("cluster_id")
        .annotate(n=Count("pk"))
        .values_list("cluster_id", "n")
    )
    for cluster_id in cluster_ids:
        size = sizes.get(cluster_id, 0)
        SignalCluster.objects.filter(pk=cluster_id).update(
            size=size, share=round(size / max(1, complaints), 4)
        )


def signal_report(*, run: SignalRun | None = None) -> dict:
    """DESIGN's `extract_signals` JSON for a run (default: the current one).

    {"run": id, "signals": [{"key", "name", "status", "keywords", "keyword_weights", "size", "share",
    "lift", "review_ids", "examples"}], "unassigned_complaints": [ids]} — review ids are external ids or
    "pk:N"; each review appears in at most one signal.
    """
    if run is None:
        run = SignalRun.objects.filter(is_current=True).first()
    if run is None:
        return {"run": None, "signals": [], "unassigned_complaints": []}

    def review_key(pk: int, external_id: str | None) -> str:
        return external_id or f"pk:{pk}"

    members: dict[int, list[str]] = defaultdict(list)
    assigned: set[int] = set()
    for cluster_id, review_pk, external_id in (
        ReviewSignal.objects.filter(run=run)
        .order_by("cluster_id", "-score", "review_id")
        .values_list("cluster_id", "review_id", "review__external_id")
    ):
        members[cluster_id].append(review_key(review_pk, external_id))
        assigned.add(review_pk)
    signals = []
    for cluster in run.clusters.select_related("definition").prefetch_related("representative_reviews"):
        definition = cluster.definition
        examples = [
            {"review_id": review_key(review.pk, review.external_id), "text": review.text}
            for review in cluster.representative_reviews.all()
        ]
        signals.append(
            {
                "key": definition.key if definition else f"cluster-{cluster.pk}",
                "name": (definition.name_zh if definition else "") or cluster.label,
                "name_en": definition.name_en if definition else "",
                "status": definition.status if definition else SignalDefinition.Status.DISCOVERED,
                "merged_into": definition.merged_into.key if definition and definition.merged_into else None,
                "keywords": [term for term, _weight in cluster.keywords],
                "keyword_weights": cluster.keywords,
                "size": len(members[cluster.pk]),
                "share": cluster.share,
                "lift": cluster.lift,
                "review_ids": members[cluster.pk],
                "examples": examples,
            }
        )
    signals.sort(key=lambda signal: (-signal["size"], signal["key"]))
    unassigned_pks = [pk for pk in run.report.get("unassigned_complaints", []) if pk not in assigned]
    external = dict(Review.objects.filter(pk__in=unassigned_pks).values_list("pk", "external_id"))
    return {
        "run": run.pk,
        "signals": signals,
        "unassigned_complaints": [
            review_key(pk, external.get(pk)) for pk in unassigned_pks if pk in external
        ],
    }


def _clean_names(*, name_zh: str, name_en: str, description: str) -> dict[str, str]:
    cleaned = {
        "name_zh": (name_zh or "").strip(),
        "name_en": (name_en or "").strip(),
        "description": description,
    }
    errors = {}
    if not cleaned["name_zh"]:
        errors["name_zh"] = [_("Give the signal a Chinese name.")]
    elif len(cleaned["name_zh"]) > 120:
        errors["name_zh"] = [_("At most 120 characters.")]
    if len(cleaned["name_en"]) > 120:
        errors["name_en"] = [_("At most 120 characters.")]
    if errors:
        raise ValidationError(errors)
    cleaned["description"] = (description or "").strip()
    return cleaned


def signal_rename(
    *, definition: SignalDefinition, name_zh: str, name_en: str = "", description: str = ""
) -> SignalDefinition:
    """Rename a signal (Chinese name required) and update its description."""
    cleaned = _clean_names(name_zh=name_zh, name_en=name_en, description=description)
    for field_name, value in cleaned.items():
        setattr(definition, field_name, value)
    definition.save(update_fields=[*cleaned, "updated_at"])
    return definition


def signal_confirm(*, definition: SignalDefinition) -> SignalDefinition:
    """Confirm a signal: it is shown publicly and, from the next run on, guides the assignment."""
    if definition.merged_into_id:
        raise ValidationError(_("This signal is merged into another one; confirm that one instead."))
    if not definition.seed_terms:
        definition.seed_terms = _current_keywords(definition)
    definition.status = SignalDefinition.Status.CONFIRMED
    definition.save(update_fields=["status", "seed_terms", "updated_at"])
    return definition


def signal_dismiss(*, definition: SignalDefinition) -> SignalDefinition:
    """Dismiss a signal: hidden from public pages and no longer used to assign reviews."""
    definition.status = SignalDefinition.Status.DISMISSED
    definition.save(update_fields=["status", "updated_at"])
    return definition


def signal_promote(
    *, definition: SignalDefinition, name_zh: str, name_en: str = "", description: str = ""
) -> SignalDefinition:
    """Turn a discovered candidate into a confirmed signal with a proper name; its current keywords become
    its seed terms, so the next run assigns reviews to it like to the shipped ones."""
    if definition.status != SignalDefinition.Status.DISCOVERED:
        raise ValidationError(_("Only a discovered candidate can be promoted."))
    if definition.merged_into_id:
        raise ValidationError(_("This signal is merged into another one; promote that one instead."))
    cleaned = _clean_names(name_zh=name_zh, name_en=name_en, description=description)
    with transaction.atomic():
        for field_name, value in cleaned.items():
            setattr(definition, field_name, value)
        keywords = _current_keywords(definition)
        if keywords:
            definition.seed_terms = keywords
        definition.status = SignalDefinition.Status.CONFIRMED
        definition.save()
    return definition


def signal_merge(*, definition: SignalDefinition, into: SignalDefinition) -> SignalDefinition:
    """Merge a signal into another: its reviews count as the other's, and its terms join the other's."""
    if into.pk == definition.pk:
        raise ValidationError({"into": [_("A signal cannot be merged into itself.")]})
    if into.merged_into_id:
        raise ValidationError({"into": [_("That signal is itself merged into another one.")]})
    if into.status == SignalDefinition.Status.DISMISSED:
        raise ValidationError({"into": [_("A dismissed signal cannot take others in.")]})
    with transaction.atomic():
        SignalDefinition.objects.filter(merged_into=definition).update(
            merged_into=into, updated_at=timezone.now()
        )
        definition.merged_into = into
        definition.save(update_fields=["merged_into", "updated_at"])
    return definition


def _current_keywords(definition: SignalDefinition, limit: int = 10) -> list[str]:
    cluster = SignalCluster.objects.filter(run__is_current=True, definition=definition).first()
    if cluster is None:
        return list(definition.seed_terms or [])
    return [str(term) for term, _weight in cluster.keywords[:limit]]


# --- Evidence and scores (evidence & ranking) ------------------------------------------------------------

SCORES_PENDING_KEY = "analytics:scores-recompute-pending"
DEMO_FIGURE_KEYS = (
    "go_repos",
    "go_stars",
    "followers",
    "golang_go_commits",
    "allowlist_merged_prs",
    "months_since_activity",
)


def _github_client(*, etag_cache: dict) -> GitHubClient:
    return GitHubClient(
        base_url=settings.GITHUB_API_URL,
        token=settings.GITHUB_TOKEN,
        timeout=settings.GITHUB_TIMEOUT_SECONDS,
        max_retries=settings.GITHUB_MAX_RETRIES,
        max_wait=settings.GITHUB_MAX_WAIT_SECONDS,
        etag_cache=etag_cache,
    )


def evidence_refresh(*, instructor_id: int) -> EvidenceSnapshot:
    """Fetch one instructor's GitHub evidence and keep it as a snapshot.

    Returns the new OK snapshot; or the current one untouched but for `checked_at` when GitHub confirms
    nothing changed (ETag 304s, same figures); or, on any failure, a FAILED snapshot carrying the error for
    admins while the last good snapshot stays current. A change schedules a score recompute.
    Raises ValidationError when the instructor has no GitHub login.
    """
    instructor = Instructor.objects.get(pk=instructor_id)
    login = instructor.github_login
    if not login:
        raise ValidationError({"github_login": [_("Link a GitHub login before refreshing evidence.")]})
    current = EvidenceSnapshot.objects.current_for(instructor)
    same_login = current is not None and current.payload_summary.get("login", "").lower() == login.lower()
    now = timezone.now()
    try:
        with _github_client(etag_cache=current.etags if same_login else {}) as client:
            evidence = fetch_evidence(
                client,
                login,
                allowlist=settings.GITHUB_ALLOWLIST,
                star_cap=settings.GITHUB_STAR_CAP_PER_REPO,
                now=now,
            )
    except GitHubError as exc:
        logger.warning("evidence refresh for %s (%s) failed: %s", instructor.slug, login, exc)
        summary: dict = {"login": login}
        if isinstance(exc, GitHubRateLimited):
            summary["rate_limited_until"] = exc.until.isoformat()
        return EvidenceSnapshot.objects.create(
            instructor=instructor,
            fetched_at=now,
            status=EvidenceSnapshot.Status.FAILED,
            payload_summary=summary,
            error=str(exc),
        )
    if same_login and current.figures == evidence.figures and current.payload_summary == evidence.summary:
        current.checked_at = now
        current.etags = client.etags_used
        current.save(update_fields=["checked_at", "etags"])
        return current
    snapshot = EvidenceSnapshot.objects.create(
        instructor=instructor,
        fetched_at=now,
        status=EvidenceSnapshot.Status.OK,
        figures=evidence.figures,
        payload_summary=evidence.summary,
        etags=client.etags_used,
    )
    scores_recompute_soon()
    return snapshot


def evidence_refresh_request(*, instructor_ids: list[int], spacing_seconds: int = 5) -> int:
    """Enqueue `refresh_evidence` for the linked instructors among `instructor_ids`, spaced out so a batch
    stays inside GitHub's limits. Returns how many were enqueued (after commit)."""
    from analytics.tasks import refresh_evidence

    linked = list(
        Instructor.objects.filter(pk__in=instructor_ids, github_login__isnull=False)
        .exclude(github_login="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )

    def enqueue() -> None:
        for position, instructor_id in enumerate(linked):
            refresh_evidence.apply_async(args=[instructor_id], countdown=position * spacing_seconds)

    transaction.on_commit(enqueue)
    return len(linked)


def evidence_load_demo(*, path: str | Path) -> int:
    """Load shipped evidence snapshots (demo/evidence.json, fictional accounts) so the offline demo shows
    evidence. Links each instructor (by slug) to its login. Idempotent: one snapshot per instructor and
    fetched_at. Any bad row → ValidationError naming it, nothing stored. Returns the number of rows."""
    try:
        rows = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValidationError({"path": [f"{path}: {exc}"]}) from exc
    if not isinstance(rows, list):
        raise ValidationError({"path": [f"{path}: expected a JSON list"]})
    problems: list[str] = []
    parsed: list[tuple[str, str, datetime, dict, list]] = []
    for number, row in enumerate(rows, start=1):
        try:
            slug, login = str(row["slug"]), str(row["github_login"])
            fetched_at = parse_datetime(str(row["fetched_at"]))
            if fetched_at is None:
                raise ValueError("fetched_at is not an ISO 8601 date-time")
            if timezone.is_naive(fetched_at):
                fetched_at = timezone.make_aware(fetched_at)
            figures = {key: row["figures"][key] for key in DEMO_FIGURE_KEYS}
            top_repos = [
                {
                    "name": str(repo["name"]),
                    "stars": int(repo["stars"]),
                    "description": repo.get("description", ""),
                }
                for repo in row.get("top_repos", [])
            ]
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"row {number}: {exc!r}")
            continue
        parsed.append((slug, login, fetched_at, figures, top_repos))
    instructors = {i.slug: i for i in Instructor.objects.filter(slug__in=[row[0] for row in parsed])}
    problems += [f"unknown instructor slug {row[0]!r}" for row in parsed if row[0] not in instructors]
    taken = dict(
        Instructor.objects.filter(github_login__in=[row[1] for row in parsed])
        .exclude(slug__in=[row[0] for row in parsed])
        .values_list("github_login", "slug")
    )
    problems += [f"GitHub login {login!r} already belongs to {slug!r}" for login, slug in taken.items()]
    if problems:
        raise ValidationError({"path": problems})
    with transaction.atomic():
        for slug, login, fetched_at, figures, top_repos in parsed:
            instructor = instructors[slug]
            if instructor.github_login != login:
                instructor.github_login = login
                instructor.save(update_fields=["github_login"])
            EvidenceSnapshot.objects.update_or_create(
                instructor=instructor,
                source="github",
                fetched_at=fetched_at,
                defaults={
                    "status": EvidenceSnapshot.Status.OK,
                    "figures": figures,
                    "payload_summary": {
                        "login": login,
                        "html_url": f"https://github.com/{login}",
                        "top_repos": top_repos,
                        "demo": True,
                    },
                    "error": "",
                },
            )
    return len(parsed)


def scores_recompute_soon(*, delay_seconds: int = 30) -> None:
    """Ask for a score recompute shortly after this transaction commits; requests within the same window
    share one task. If the broker is down the nightly recompute catches up."""
    from analytics.tasks import recompute_scores

    def enqueue() -> None:
        if not cache.add(SCORES_PENDING_KEY, True, timeout=delay_seconds + 600):
            return
        try:
            recompute_scores.apply_async(countdown=delay_seconds)
        except Exception:
            cache.delete(SCORES_PENDING_KEY)
            logger.exception("could not enqueue a score recompute; the nightly run will catch up")

    transaction.on_commit(enqueue)


def _rating_buckets_by_course(*, now: datetime) -> tuple[dict[int, list[RatingBucket]], list[RatingBucket]]:
    """Published reviews summed per course and month in one aggregate query."""
    dimension_aggregates = {}
    for key in DIMENSION_KEYS:
        dimension_aggregates[f"{key}_sum"] = Sum(dimension_field(key))
        dimension_aggregates[f"{key}_n"] = Count(dimension_field(key))
    rows = (
        Review.objects.filter(status=Review.Status.PUBLISHED)
        .annotate(month=TruncMonth("created_at"))
        .values("course_id", "month")
        .annotate(n=Count("pk"), rating_sum=Sum("rating"), **dimension_aggregates)
        .order_by()
    )
    by_course: dict[int, list[RatingBucket]] = defaultdict(list)
    everything: list[RatingBucket] = []
    for row in rows:
        bucket = RatingBucket(
            # A review counts as written in the middle of its month.
            age_days=(now - row["month"]).total_seconds() / 86400 - 15,
            count=row["n"],
            rating_sum=float(row["rating_sum"]),
            dim_sums={key: float(row[f"{key}_sum"] or 0) for key in DIMENSION_KEYS},
            dim_counts={key: row[f"{key}_n"] for key in DIMENSION_KEYS},
        )
        by_course[row["course_id"]].append(bucket)
        everything.append(bucket)
    return by_course, everything


def _flagged_by_course(run_id: int | None) -> tuple[dict[int, Counter], dict[int, SignalDefinition]]:
    """Per course: how many published reviews of the current run fall in each public (seeded or confirmed)
    failure signal, merged definitions counted as their target. Two queries."""
    if run_id is None:
        return {}, {}
    rows = (
        ReviewSignal.objects.filter(run_id=run_id, review__status=Review.Status.PUBLISHED)
        .filter(
            Q(cluster__definition__merged_into__isnull=True, cluster__definition__status__in=PUBLIC_STATUSES)
            | Q(cluster__definition__merged_into__status__in=PUBLIC_STATUSES)
        )
        .values("review__course_id", "cluster__definition_id")
        .annotate(n=Count("review_id", distinct=True))
        .order_by()
    )
    rows = list(rows)
    definitions = {
        definition.pk: effective_definition(definition)
        for definition in SignalDefinition.objects.select_related("merged_into").filter(
            pk__in={row["cluster__definition_id"] for row in rows}
        )
    }
    flagged: dict[int, Counter] = defaultdict(Counter)
    for row in rows:
        target = definitions[row["cluster__definition_id"]]
        flagged[row["review__course_id"]][target.pk] += row["n"]
    return flagged, {target.pk: target for target in definitions.values()}


def _top_signals(counts: Counter, *, review_count: int, definitions: dict, limit: int = 3) -> list[dict]:
    return [
        {
            "key": definitions[pk].key,
            "name_zh": definitions[pk].name_zh,
            "name_en": definitions[pk].name_en,
            "count": count,
            "share": round(count / review_count, 4) if review_count else 0.0,
        }
        for pk, count in sorted(counts.items(), key=lambda item: (-item[1], definitions[item[0]].key))[:limit]
    ]


def _learner_breakdown(summary: RatingSummary, *, prior_mean: float, half_life: float) -> tuple[float, dict]:
    smoothed = smoothed_mean(
        total=summary.weighted_sum,
        count=summary.weighted_count,
        prior_mean=prior_mean,
        prior_weight=settings.SCORE_PRIOR_WEIGHT,
    )
    return rating_to_unit(smoothed), {
        "smoothed_rating": round(smoothed, 4),
        "mean_rating": round(summary.mean, 4) if summary.mean is not None else None,
        "review_count": summary.count,
        "weighted_count": round(summary.weighted_count, 3),
        "prior_mean": round(prior_mean, 4),
        "prior_weight": settings.SCORE_PRIOR_WEIGHT,
        "half_life_days": half_life,
        "dimensions": {key: _round(value) for key, value in summary.dimensions.items()},
        "dimension_counts": summary.dimension_counts,
    }


def _burden_breakdown(
    flagged: int, *, review_count: int, run_id: int | None, prior_share: float
) -> tuple[float | None, dict]:
    if run_id is None:
        return None, {"run_id": None, "neutral": True}
    burden = signal_burden(
        flagged=flagged,
        reviews=review_count,
        prior_share=prior_share,
        prior_weight=settings.SCORE_BURDEN_PRIOR_WEIGHT,
    )
    return burden, {
        "run_id": run_id,
        "neutral": False,
        "flagged": flagged,
        "reviews": review_count,
        "share": round(flagged / review_count, 4) if review_count else None,
        "smoothed": round(burden, 4),
        "prior_share": round(prior_share, 4),
        "prior_weight": settings.SCORE_BURDEN_PRIOR_WEIGHT,
    }


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def scores_recompute() -> list[InstructorScore]:
    """Recompute every instructor's and course's score and rank (analytics/scoring.py has the formula).

    Reads everything in a constant number of aggregate queries whatever the number of instructors,
    courses or reviews, then replaces all InstructorScore and CourseScore rows in one transaction, so
    readers see either the old or the new ranking. Returns the instructor scores, ranked first.
    """
    now = timezone.now()
    weights = dict(settings.SCORE_WEIGHTS)
    half_life = settings.SCORE_RECENCY_HALF_LIFE_DAYS
    min_reviews = settings.SCORE_MIN_REVIEWS

    buckets_by_course, all_buckets = _rating_buckets_by_course(now=now)
    courses_of: dict[int, list[int]] = defaultdict(list)
    for course_id, instructor_id in Course.instructors.through.objects.values_list(
        "course_id", "instructor_id"
    ):
        courses_of[instructor_id].append(course_id)
    instructors = list(Instructor.objects.order_by("pk").values_list("pk", "name"))
    course_ids = list(Course.objects.order_by("pk").values_list("pk", flat=True))
    run_id = SignalRun.objects.filter(is_current=True).values_list("pk", flat=True).first()
    flagged_by_course, definitions = _flagged_by_course(run_id)
    snapshots = {
        snapshot.instructor_id: snapshot
        for snapshot in EvidenceSnapshot.objects.current().only(
            "pk", "instructor_id", "fetched_at", "figures"
        )
    }

    platform = summarise_ratings(all_buckets, dimension_keys=DIMENSION_KEYS, half_life_days=0)
    prior_mean = platform.mean if platform.mean is not None else 3.0
    total_flagged = sum(sum(counts.values()) for counts in flagged_by_course.values())
    prior_share = total_flagged / platform.count if platform.count else 0.0
    platform_info = {
        "mean_rating": _round(platform.mean),
        "review_count": platform.count,
        "dimensions": {key: _round(value) for key, value in platform.dimensions.items()},
        "signal_share": round(prior_share, 4) if run_id else None,
    }
    parameters = {
        "weights": weights,
        "min_reviews": min_reviews,
        "star_cap_per_repo": settings.GITHUB_STAR_CAP_PER_REPO,
        "evidence_figures": {name: {"cap": cap, "weight": w} for name, (cap, w) in EVIDENCE_FIGURES.items()},
    }

    strengths = {
        pk: evidence_strength(snapshots[pk].figures) if pk in snapshots else 0.0 for pk, _n in instructors
    }
    evidence_percentile = dict(zip(strengths, percentiles(list(strengths.values())), strict=True))

    instructor_scores: list[InstructorScore] = []
    rankables: list[Rankable] = []
    for pk, name in instructors:
        course_list = courses_of.get(pk, [])
        summary = summarise_ratings(
            (bucket for course_id in course_list for bucket in buckets_by_course.get(course_id, [])),
            dimension_keys=DIMENSION_KEYS,
            half_life_days=half_life,
        )
        learner, learner_info = _learner_breakdown(summary, prior_mean=prior_mean, half_life=half_life)
        counts: Counter = sum(
            (flagged_by_course.get(course_id, Counter()) for course_id in course_list), Counter()
        )
        burden, burden_info = _burden_breakdown(
            sum(counts.values()), review_count=summary.count, run_id=run_id, prior_share=prior_share
        )
        snapshot = snapshots.get(pk)
        has_evidence = strengths[pk] > 0
        components = {
            "learner": learner,
            "evidence": evidence_percentile[pk],
            "signal_burden": signal_component(burden),
        }
        total = total_score(components, weights)
        enough = has_enough_data(
            review_count=summary.count, has_evidence=has_evidence, min_reviews=min_reviews
        )
        instructor_scores.append(
            InstructorScore(
                instructor_id=pk,
                computed_at=now,
                learner=learner,
                evidence=evidence_percentile[pk],
                signal_burden=burden,
                total=total,
                enough_data=enough,
                review_count=summary.count,
                breakdown={
                    **parameters,
                    "components": {key: round(value, 4) for key, value in components.items()},
                    "learner": learner_info,
                    "evidence": {
                        "has_evidence": has_evidence,
                        "strength": round(strengths[pk], 4),
                        "percentile": round(evidence_percentile[pk], 4),
                        "snapshot_id": snapshot.pk if snapshot else None,
                        "fetched_at": snapshot.fetched_at.isoformat() if snapshot else None,
                        "figures": snapshot.figures if snapshot else {},
                    },
                    "signal_burden": burden_info,
                    "top_signals": _top_signals(counts, review_count=summary.count, definitions=definitions),
                    "platform": platform_info,
                },
            )
        )
        rankables.append(
            Rankable(key=pk, total=total, review_count=summary.count, enough_data=enough, name=name)
        )
    ranks = assign_ranks(rankables)
    for score in instructor_scores:
        score.rank = ranks[score.instructor_id]

    course_scores: list[CourseScore] = []
    course_rankables: list[Rankable] = []
    for course_id in course_ids:
        summary = summarise_ratings(
            buckets_by_course.get(course_id, []), dimension_keys=DIMENSION_KEYS, half_life_days=half_life
        )
        learner, learner_info = _learner_breakdown(summary, prior_mean=prior_mean, half_life=half_life)
        counts = flagged_by_course.get(course_id, Counter())
        burden, burden_info = _burden_breakdown(
            sum(counts.values()), review_count=summary.count, run_id=run_id, prior_share=prior_share
        )
        components = {"learner": learner, "signal_burden": signal_component(burden)}
        total = total_score(components, weights)
        enough = summary.count >= min_reviews
        course_scores.append(
            CourseScore(
                course_id=course_id,
                computed_at=now,
                learner=learner,
                signal_burden=burden,
                total=total,
                enough_data=enough,
                review_count=summary.count,
                breakdown={
                    "weights": {key: weights[key] for key in components if key in weights},
                    "min_reviews": min_reviews,
                    "components": {key: round(value, 4) for key, value in components.items()},
                    "learner": learner_info,
                    "signal_burden": burden_info,
                    "top_signals": _top_signals(counts, review_count=summary.count, definitions=definitions),
                    "platform": platform_info,
                },
            )
        )
        course_rankables.append(
            Rankable(
                key=course_id,
                total=total,
                review_count=summary.count,
                enough_data=enough,
                name=str(course_id),
            )
        )
    course_ranks = assign_ranks(course_rankables)
    for score in course_scores:
        score.rank = course_ranks[score.course_id]

    with transaction.atomic():
        InstructorScore.objects.all().delete()
        InstructorScore.objects.bulk_create(instructor_scores, batch_size=500)
        CourseScore.objects.all().delete()
        CourseScore.objects.bulk_create(course_scores, batch_size=500)
        transaction.on_commit(lambda: publish_scores_version(now.isoformat()))
    return sorted(instructor_scores, key=lambda score: (score.rank is None, score.rank or 0, -score.total))
