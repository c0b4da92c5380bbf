"""Moderation write paths: screening new and edited reviews (the rules are in reviews/moderation.py) and
staff decisions to publish, hide or hold them."""

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from reviews import moderation
from reviews.models import Course, ModerationEvent, Review, ReviewReport, ReviewWithdrawal
from reviews.services.common import notify_review_saved

logger = logging.getLogger(__name__)

# New and edited learner reviews are screened by reviews/moderation.py inside their transaction; a suspicious
# one is held as pending (not counted in any public rating or ranking) with a ModerationEvent saying why.
# Staff then publish or hide it with a reason (review_moderation_decide → review_moderate).

MODERATION_RULES = moderation.Rules()
MODERATION_LOOKBACK_LIMIT = 2000
MODERATION_REASON_MAX_CHARS = 1000

MODERATION_ACTIONS = {"publish": Review.Status.PUBLISHED, "hide": Review.Status.HIDDEN}
_EVENT_FOR_STATUS: dict[str, str] = {
    Review.Status.PUBLISHED: ModerationEvent.Action.PUBLISHED,
    Review.Status.HIDDEN: ModerationEvent.Action.HIDDEN,
    Review.Status.PENDING: ModerationEvent.Action.PENDING,
}


def _recent_reviews(*, exclude_pk: int, since) -> list[moderation.RecentReview]:
    rows = list(
        Review.objects.filter(created_at__gte=since)
        .exclude(pk=exclude_pk)
        .order_by("-created_at")
        .values_list("pk", "author_id", "text", "created_at", "course_id", "author__date_joined")[
            :MODERATION_LOOKBACK_LIMIT
        ]
    )
    instructors: dict[int, set[int]] = {}
    for course_id, instructor_id in Course.instructors.through.objects.filter(
        course_id__in={row[4] for row in rows}
    ).values_list("course_id", "instructor_id"):
        instructors.setdefault(course_id, set()).add(instructor_id)
    return [
        moderation.RecentReview(
            id=pk,
            author_id=author_id,
            text=text,
            created_at=created_at,
            instructor_ids=frozenset(instructors.get(course_id, ())),
            author_joined_at=joined,
        )
        for pk, author_id, text, created_at, course_id, joined in rows
    ]


def review_screen(*, review: Review) -> moderation.Verdict:
    """Run the moderation heuristics on a saved learner review against the other recent reviews."""
    if review.author is None:
        return moderation.Verdict()
    now = timezone.now()
    candidate = moderation.Candidate(
        author_id=review.author.pk,
        author_joined_at=review.author.date_joined,
        text=review.text,
        instructor_ids=frozenset(review.course.instructors.values_list("pk", flat=True)),
        now=now,
    )
    since = now - timedelta(days=MODERATION_RULES.lookback_days)
    return moderation.screen(candidate, _recent_reviews(exclude_pk=review.pk, since=since), MODERATION_RULES)


# Any constant: every process takes the same PostgreSQL advisory lock.
_SCREENING_LOCK_ID = 7_400_201


def _screen_one_at_a_time() -> None:
    """Two near-identical reviews saved at the same instant would each be screened before the other is
    committed, and both pass. Screening takes a transaction-scoped lock, so the second waits for the first
    to commit and then compares against it. (SQLite already runs one write transaction at a time.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SCREENING_LOCK_ID])


def review_hold_if_suspicious(*, review: Review, edited: bool = False) -> moderation.Verdict:
    """Hold a published learner review as pending when the screening finds it suspicious (call it inside the
    transaction that saves the review). After an edit only the near-duplicate and spam rules apply."""
    if review.status != Review.Status.PUBLISHED:
        return moderation.Verdict()
    _screen_one_at_a_time()
    verdict = review_screen(review=review)
    if not edited and review.author_id is not None:
        withdrawn = (
            ReviewWithdrawal.objects.filter(author_id=review.author_id, course_id=review.course_id)
            .order_by("-created_at")
            .first()
        )
        if withdrawn is not None:
            finding = moderation.Finding(moderation.RESUBMITTED, {"previous_status": withdrawn.status})
            verdict = moderation.Verdict((*verdict.findings, finding))
    if edited:
        verdict = moderation.Verdict(
            tuple(
                finding
                for finding in verdict.findings
                if finding.rule in (moderation.NEAR_DUPLICATE, moderation.SUSPECTED_SPAM)
            )
        )
    if not verdict.suspicious:
        return verdict
    Review.objects.filter(pk=review.pk).update(status=Review.Status.PENDING)
    review.status = Review.Status.PENDING
    ModerationEvent.objects.create(
        review=review,
        action=ModerationEvent.Action.HELD,
        from_status=Review.Status.PUBLISHED,
        findings=[{"rule": finding.rule, "detail": finding.detail} for finding in verdict.findings],
    )
    logger.info("moderation: review %s held for %s", review.pk, ", ".join(verdict.rules))
    return verdict


def _log_moderation(*, previous: dict[int, str], status: str, moderator, reason: str) -> None:
    ModerationEvent.objects.bulk_create(
        ModerationEvent(
            review_id=review_id,
            action=_EVENT_FOR_STATUS[status],
            from_status=from_status,
            reason=reason,
            moderator=moderator,
        )
        for review_id, from_status in previous.items()
    )


def review_moderation_decide(*, review: Review, moderator, action: str, reason: str = "") -> Review:
    """Staff publishes or hides one review with a reason (required to hide; shown to the author).

    `action` is "publish" or "hide". Open reports of the review count as handled. Returns the updated review.
    """
    if moderator is None or not moderator.is_staff:
        raise PermissionDenied(gettext("Only staff can moderate reviews."))
    errors: dict[str, list] = {}
    if action not in MODERATION_ACTIONS:
        errors["action"] = [_("Choose publish or hide.")]
    reason = (reason or "").strip()
    if "\x00" in reason:
        errors["reason"] = [_("The text contains a NUL character (\\x00); please remove it.")]
    elif len(reason) > MODERATION_REASON_MAX_CHARS:
        errors["reason"] = [
            _("Keep the reason under %(limit)d characters.") % {"limit": MODERATION_REASON_MAX_CHARS}
        ]
    elif action == "hide" and not reason:
        errors["reason"] = [_("Say why the review is hidden; its author will see the reason.")]
    if errors:
        raise ValidationError(errors)
    review_moderate(reviews=[review], status=MODERATION_ACTIONS[action], moderator=moderator, reason=reason)
    review.refresh_from_db()
    return review


def review_moderate(*, reviews: Iterable[Review], status: str, moderator, reason: str = "") -> int:
    """Staff sets the status of reviews (publish / hide / pending); their open reports count as handled.

    Every review gets a ModerationEvent with the reason. Returns how many reviews changed status.
    """
    if moderator is None or not moderator.is_staff:
        raise PermissionDenied(gettext("Only staff can moderate reviews."))
    if status not in Review.Status.values:
        raise ValidationError({"status": [_("Unknown review status.")]})
    ids = [review.pk for review in reviews]
    with transaction.atomic():
        previous = dict(Review.objects.select_for_update().filter(pk__in=ids).values_list("pk", "status"))
        changed_ids = list(
            Review.objects.filter(pk__in=ids).exclude(status=status).values_list("pk", flat=True)
        )
        Review.objects.filter(pk__in=changed_ids).update(status=status, updated_at=timezone.now())
        ReviewReport.objects.filter(review_id__in=ids, resolved=False).update(resolved=True)
        _log_moderation(previous=previous, status=status, moderator=moderator, reason=reason)
        for review_id in changed_ids:
            notify_review_saved(review_id)
    logger.info("moderation: %s set %d review(s) to %s", moderator.get_username(), len(changed_ids), status)
    return len(changed_ids)
