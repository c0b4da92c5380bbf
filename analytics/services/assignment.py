"""One review's failure signal between runs: assign a new or edited review to the current run's clusters."""

from __future__ import annotations

import threading

from django.db import transaction
from django.db.models import Count

from analytics.models import (
    ReviewSignal,
    ReviewTokens,
    SignalAssigner,
    SignalCluster,
    SignalRun,
)
from analytics.services.token_cache import analyse_and_cache, with_cache
from analytics.services.training import signal_training_data
from analytics.signals import (
    assign_one,
)
from reviews.models import Review


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
    run = SignalRun.objects.current().only("pk", "counts").first()
    if run is None:
        return None
    training = signal_training_data()
    with transaction.atomic():  # the cache row and the assignment: one commit
        review = (
            with_cache(Review.objects.filter(pk=review_id), training.fingerprint)
            .values_list("rating", "status", "tokens__tokens", "tokens__complaint", "stale_text")
            .first()
        )
        match = None
        if review is not None and review[1] == Review.Status.PUBLISHED:
            rating, _status, cached, complaint, stale_text = review
            if stale_text is not None:
                ([cached], [complaint]) = analyse_and_cache([review_id], [stale_text], [rating], training)
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
            recount_clusters(
                [cluster_id for cluster_id in (previous, current) if cluster_id is not None],
                complaints=int(run.counts.get("complaints", 0)),
            )
    return assignment


def recount_clusters(cluster_ids: list[int], *, complaints: int) -> None:
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
