"""What analytics does when a learner's review changes: reassign its failure signal and refresh the scores.

reviews sends `reviews.signals.review_changed` inside the transaction of the write (created, edited,
moderated, deleted); AnalyticsConfig.ready() connects `on_review_changed`. The follow-up travels through the
outbox (analytics/outbox.py): it is recorded in the review's transaction with review_followup_record and sent
right after commit; when the broker cannot be reached it stays in the database and the periodic drain sends
it once the broker is back. `review_followup_apply` is the outbox handler the worker runs.
"""

from __future__ import annotations

from django.db import transaction

from analytics import outbox
from analytics.models import OutboxMessage
from analytics.services.assignment import signal_review_assign
from analytics.services.scores import scores_recompute_soon


def on_review_changed(*, review_id: int, **_signal_kwargs: object) -> None:
    """Receiver of reviews.signals.review_changed (runs inside the write's transaction)."""
    review_followup_record(review_id=review_id)
    # robust=True: the review is already committed; a broken follow-up must not turn the learner's
    # successful save into an error page (the drain sends what is left).
    transaction.on_commit(lambda: review_saved(review_id=review_id), robust=True)


def review_saved(*, review_id: int) -> None:
    """After commit: send the review's follow-up to the broker (recorded first if the caller did not)."""
    key = f"{outbox.REVIEW_SAVED}:{review_id}"
    if not OutboxMessage.objects.filter(key=key, processed_at__isnull=True).exists():
        review_followup_record(review_id=review_id)
    outbox.outbox_send(keys=[key])


def review_followup_record(*, review_id: int) -> None:
    """Write the review's follow-up to the outbox in the caller's transaction (nothing lost)."""
    outbox.outbox_add(
        topic=outbox.REVIEW_SAVED, key=f"{outbox.REVIEW_SAVED}:{review_id}", payload={"review_id": review_id}
    )


def review_followup_apply(*, review_id: int) -> None:
    """The outbox handler: reassign the review's failure signal (none once it is deleted or hidden) and
    refresh the rankings."""
    signal_review_assign(review_id=review_id)
    scores_recompute_soon()
