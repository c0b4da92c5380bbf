"""A learner's own reviews: submit, edit, delete, vote helpful and report."""

from collections.abc import Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from reviews.models import (
    DIMENSION_KEYS,
    Course,
    Review,
    ReviewContext,
    ReviewReport,
    ReviewRevision,
    ReviewVote,
    ReviewWithdrawal,
    dimension_field,
)
from reviews.services.common import notify_review_saved, require_user
from reviews.services.moderation import review_hold_if_suspicious
from reviews.validators import (
    validate_dimensions,
    validate_rating,
    validate_review_context,
    validate_review_text,
)

DUPLICATE_REVIEW_MESSAGE = _("You have already reviewed this course; you can edit your review instead.")


def _validated_review_input(
    *, rating: object, text: object, dimensions: object, context: object = None
) -> tuple[int, str, dict[str, int], ReviewContext]:
    errors: dict[str, list] = {}
    clean: dict[str, object] = {}
    for name, validator, value in (
        ("rating", validate_rating, rating),
        ("text", validate_review_text, text),
        ("dimensions", validate_dimensions, dimensions),
        ("context", validate_review_context, context),
    ):
        try:
            clean[name] = validator(value)
        except ValidationError as error:
            errors[name] = error.messages
    if errors:
        raise ValidationError(errors)
    return clean["rating"], clean["text"], clean["dimensions"], clean["context"]  # type: ignore[return-value]


def review_initial_status(*, author, course: Course, text: str) -> str:
    """The status a new learner review starts in. Moderation rules (spam, bursts) plug in here."""
    return Review.Status.PUBLISHED


def _record_revision(review: Review, *, context: ReviewContext, by) -> None:
    """Keep the review as it now stands (rating, text, dimensions, reviewer context) in its history."""
    ReviewRevision.objects.create(
        review=review,
        rating=review.rating,
        text=review.text,
        dimensions=review.dimensions,
        context=context.as_json(),
        edited_by=by,
    )


def review_submit(
    *,
    author,
    course: Course,
    rating: object,
    text: object,
    dimensions: Mapping[str, object] | None = None,
    context: Mapping[str, object] | None = None,
    source: str = Review.Source.WEB,
) -> Review:
    """Create the author's review of `course` and its first revision. `context` is the optional reviewer
    context (reviews.validators.validate_review_context).

    One review per (author, course): a second one, even submitted at the same moment as the first, raises
    ValidationError({"course": [...]}) and leaves exactly one row.
    """
    require_user(author)
    rating, text, dimensions, review_context = _validated_review_input(
        rating=rating, text=text, dimensions=dimensions, context=context
    )
    if Review.objects.filter(author=author, course=course).exists():
        raise ValidationError({"course": [DUPLICATE_REVIEW_MESSAGE]})
    initial_status = review_initial_status(author=author, course=course, text=text)
    try:
        with transaction.atomic():
            review = Review.objects.create(
                course=course,
                author=author,
                rating=rating,
                text=text,
                status=initial_status,
                source=source,
                created_at=timezone.now(),
                **{dimension_field(key): value for key, value in dimensions.items()},
                **review_context.model_fields(),
            )
            _record_revision(review, context=review_context, by=author)
            review_hold_if_suspicious(review=review)
            notify_review_saved(review.pk)
    except IntegrityError:
        # Lost a race against a concurrent submission: the database constraint kept exactly one row.
        if Review.objects.filter(author=author, course=course).exists():
            raise ValidationError({"course": [DUPLICATE_REVIEW_MESSAGE]}) from None
        raise
    return review


def review_edit(
    *,
    review: Review,
    editor,
    rating: object,
    text: object,
    dimensions: Mapping[str, object] | None = None,
    context: Mapping[str, object] | None = None,
) -> Review:
    """Change the author's own review and append a ReviewRevision with the new version.

    `dimensions=None` keeps the current dimension ratings; a mapping replaces all six (missing keys are
    cleared). `context` works the same way for the reviewer context. Saving identical content stores
    nothing new.
    """
    if not review.is_editable_by(editor):
        raise PermissionDenied(gettext("You can only edit your own review."))
    rating, text, new_dimensions, new_context = _validated_review_input(
        rating=rating, text=text, dimensions=dimensions, context=context
    )
    with transaction.atomic():
        review = Review.objects.select_for_update().get(pk=review.pk)
        if dimensions is None:
            new_dimensions = review.dimensions
        if context is None:
            new_context = review.context
        current = (review.rating, review.text, review.dimensions, review.context)
        if current == (rating, text, new_dimensions, new_context):
            return review
        review.rating = rating
        review.text = text
        for key in DIMENSION_KEYS:
            setattr(review, dimension_field(key), new_dimensions.get(key))
        for name, value in new_context.model_fields().items():
            setattr(review, name, value)
        review.save()
        _record_revision(review, context=new_context, by=editor)
        review_hold_if_suspicious(review=review, edited=True)
        notify_review_saved(review.pk)
    return review


def review_delete(*, review: Review, user) -> None:
    """Delete the author's own review with its history, votes and reports. A held or hidden review leaves a
    ReviewWithdrawal behind, so the next review of that course by the same account is held too."""
    if not review.is_editable_by(user):
        raise PermissionDenied(gettext("You can only delete your own review."))
    with transaction.atomic():
        review_id = review.pk
        if review.status != Review.Status.PUBLISHED:
            ReviewWithdrawal.objects.create(author=user, course_id=review.course_id, status=review.status)
        review.delete()
        notify_review_saved(review_id)


def review_vote_helpful(*, review: Review, user) -> Review:
    """Mark `review` as helpful for `user` (idempotent) and return it with the updated helpful_count."""
    require_user(user)
    if review.author_id == user.pk:
        raise ValidationError({"review": [_("You cannot vote for your own review.")]})
    if review.status != Review.Status.PUBLISHED:
        raise ValidationError({"review": [_("This review is not published.")]})
    with transaction.atomic():
        _vote, created = ReviewVote.objects.get_or_create(review=review, user=user)
        if created:
            Review.objects.filter(pk=review.pk).update(helpful_count=F("helpful_count") + 1)
    review.refresh_from_db(fields=["helpful_count"])
    return review


def review_unvote_helpful(*, review: Review, user) -> Review:
    """Take back `user`'s helpful vote (idempotent) and return the review with the updated helpful_count."""
    require_user(user)
    with transaction.atomic():
        deleted, _detail = ReviewVote.objects.filter(review=review, user=user).delete()
        if deleted:
            Review.objects.filter(pk=review.pk, helpful_count__gt=0).update(
                helpful_count=F("helpful_count") - 1
            )
    review.refresh_from_db(fields=["helpful_count"])
    return review


REPORT_DETAIL_MAX_CHARS = 1000


def review_report(*, review: Review, reporter, reason: str, detail: str = "") -> ReviewReport:
    """Flag `review` for the moderators: one report per (reporter, review), never one's own review."""
    require_user(reporter)
    errors: dict[str, list] = {}
    if review.author_id == reporter.pk:
        errors["review"] = [_("You cannot report your own review.")]
    if reason not in ReviewReport.Reason.values:
        errors["reason"] = [_("Choose one of the listed reasons.")]
    detail = (detail or "").strip()
    if "\x00" in detail:
        errors["detail"] = [_("The text contains a NUL character (\\x00); please remove it.")]
    elif len(detail) > REPORT_DETAIL_MAX_CHARS:
        errors["detail"] = [
            _("Keep the details under %(limit)d characters.") % {"limit": REPORT_DETAIL_MAX_CHARS}
        ]
    if errors:
        raise ValidationError(errors)
    already = ValidationError(
        {"review": [_("You have already reported this review; the moderators will look at it.")]}
    )
    if ReviewReport.objects.filter(review=review, reporter=reporter).exists():
        raise already
    try:
        with transaction.atomic():
            return ReviewReport.objects.create(review=review, reporter=reporter, reason=reason, detail=detail)
    except IntegrityError:
        raise already from None
