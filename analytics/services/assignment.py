"""One review's failure signal between runs: assign a new or edited review to the current run's clusters."""

from __future__ import annotations

import functools
import threading

from django.db import connection, transaction
from django.db.models import Case, Count, F, FloatField, OuterRef, PositiveIntegerField, Subquery, Value, When
from django.db.models.functions import Cast, Greatest, Round

from analytics import clauses, pipeline
from analytics.models import (
    ReviewSignal,
    SignalAssigner,
    SignalCluster,
    SignalRun,
)
from analytics.services.token_cache import store, with_cache
from analytics.services.training import segmenter_fingerprint, stored_models
from analytics.signals import (
    assign_one,
)
from analytics.text import get_segmenter
from reviews.models import Review, Tag


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


# Stands for the review's id in the compiled query (_review_query); no review has a negative id.
_REVIEW_ID = -7_340_251


def _review_query(segmenter_part: str, run_id: int, review_id: int) -> tuple[str, list]:
    """The SQL and parameters of the query that reads one review to assign: its rating, status, course
    title, cached clauses (and what made them), its text's MD5 (kept by the database), its text when the
    clauses are stale, and its signal in the run, the review locked (assignments of one review wait for
    each other, so clusters move by exactly one).
    Django takes about 2 ms to build and compile it, five times what the database takes to answer; it is
    compiled once per segmenter and run, and only the review's id changes."""
    sql, params = _compiled_review_query(segmenter_part, run_id)
    return sql, [review_id if value == _REVIEW_ID else value for value in params]


@functools.lru_cache(maxsize=8)
def _compiled_review_query(segmenter_part: str, run_id: int) -> tuple[str, tuple]:
    previous_cluster = ReviewSignal.objects.filter(run_id=run_id, review_id=OuterRef("pk")).values(
        "cluster_id"
    )
    query = (
        with_cache(Review.objects.filter(pk=_REVIEW_ID), segmenter_part)
        .annotate(previous=Subquery(previous_cluster[:1]))
        .select_for_update(of=("self",))
        .values_list(
            "rating",
            "status",
            "course__title",
            "cached_tokens",
            "cached_pipeline",
            "cached_noise",
            "text_hash",
            "stale_text",
            "previous",
        )
    )
    with transaction.atomic():  # a locking query compiles only in a transaction
        sql, params = query.query.get_compiler(using=query.db).as_sql()
    if list(params).count(_REVIEW_ID) != 1:
        raise RuntimeError("the review query does not hold the review's id once")
    return sql, tuple(params)


def signal_review_assign(*, review_id: int) -> ReviewSignal | None:
    """Assign one new or edited review to the current run's signals (the light task after a save).

    The review goes through the same noise gate, clauses and complaint model as in a run (the stored
    models); a review that is not published, noise, without a complaint clause, or like no signal loses its
    assignment.
    """
    run = SignalRun.objects.current().only("pk", "counts").first()
    if run is None:
        return None
    models = stored_models()
    segmenter_part = segmenter_fingerprint()
    with transaction.atomic():  # the cache row and the assignment: one commit
        with connection.cursor() as cursor:
            sql, params = _review_query(segmenter_part, run.pk, review_id)
            cursor.execute(sql, params)
            review = cursor.fetchone()
        match = None
        previous = review[-1] if review is not None else None
        if review is not None and review[1] == Review.Status.PUBLISHED:
            rating, _status, course_title, cached, made_by, noise, text_hash, stale_text, _previous = review
            if stale_text is not None:
                prepared = pipeline.prepare([stale_text], get_segmenter())[0]
            else:
                prepared = pipeline.Prepared(clauses.unpack(cached or ""), noise or "")
            # Without a learned model yet (the first run learns it) only the words are kept, so that run does
            # not cut them again; it decides them.
            pipeline_id = segmenter_part + (models.fingerprint[:16] if models is not None else "")
            if stale_text is not None or (models is not None and made_by != pipeline_id):
                review_clauses = (
                    pipeline.decide([prepared.clauses], [rating], models.complaints)[0]
                    if models is not None
                    else prepared.clauses
                )
                cached = clauses.pack(review_clauses)
                complaint = any(clause.complaint for clause in review_clauses)
                store(
                    [(review_id, text_hash, rating, cached, complaint, prepared.noise)], pipeline=pipeline_id
                )
            complaint_clauses = [clause.tokens for clause in clauses.unpack(cached or "") if clause.complaint]
            if models is not None and complaint_clauses:
                assigner = _current_assigner(run)
                tags = Tag.objects.filter(courses__reviews=review_id).values_list("name", "slug")
                found = assign_one(
                    assigner,
                    complaint_clauses,
                    course_title=course_title,
                    course_tags=[value for pair in tags for value in pair],
                    vectors=models.vectors,
                    evidence=models.complaints.log_odds_many(complaint_clauses).tolist(),
                )
                if found is not None:
                    match = (assigner["clusters"][found[0]], found[1])
        if match is None:
            if previous is not None:
                ReviewSignal.objects.filter(run=run, review_id=review_id).delete()
            assignment = None
        else:
            # One upsert on the (run, review) constraint: a new review is assigned on every save.
            (assignment,) = ReviewSignal.objects.bulk_create(
                [ReviewSignal(run=run, review_id=review_id, cluster_id=match[0], score=round(match[1], 5))],
                update_conflicts=True,
                unique_fields=["run", "review"],
                update_fields=["cluster", "score"],
            )
        current = match[0] if match else None
        if current != previous:  # the clusters it left and joined change size
            _move_between_clusters(previous, current, complaints=int(run.counts.get("complaints", 0)))
    return assignment


def _move_between_clusters(left: int | None, joined: int | None, *, complaints: int) -> None:
    """One review left cluster `left` and joined `joined` (either None): their sizes move by one and their
    shares with them, in one update (counting a large cluster's assignments again cost more at a million
    reviews than assigning the review)."""
    moves = [(cluster_id, delta) for cluster_id, delta in ((left, -1), (joined, 1)) if cluster_id is not None]
    size = Case(
        *(When(pk=pk, then=Greatest(F("size") + delta, 0)) for pk, delta in moves),
        output_field=PositiveIntegerField(),
    )
    SignalCluster.objects.filter(pk__in=[pk for pk, _delta in moves]).update(
        size=size, share=Round(Cast(size, FloatField()) / max(1, complaints), 4)
    )


def recount_clusters(cluster_ids: list[int], *, complaints: int) -> None:
    """Set the clusters' size and share of complaints from their assignments, after rows came or went: one
    count, one update, however many clusters."""
    sizes = dict(
        ReviewSignal.objects.filter(cluster_id__in=cluster_ids)
        .values_list("cluster_id")
        .annotate(n=Count("pk"))
        .values_list("cluster_id", "n")
    )
    total = max(1, complaints)
    SignalCluster.objects.filter(pk__in=cluster_ids).update(
        size=Case(
            *(When(pk=pk, then=Value(sizes.get(pk, 0))) for pk in cluster_ids),
            default=F("size"),
            output_field=PositiveIntegerField(),
        ),
        share=Case(
            *(When(pk=pk, then=Value(round(sizes.get(pk, 0) / total, 4))) for pk in cluster_ids),
            default=F("share"),
            output_field=FloatField(),
        ),
    )
