"""Helpers every write path of the reviews app shares: who may write, and telling listeners (analytics)
that a review changed."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext

from reviews.models import Review
from reviews.signals import review_changed


def require_user(user) -> None:
    if user is None or not user.is_authenticated:
        raise PermissionDenied(gettext("Please log in first."))


def notify_review_saved(review_id: int) -> None:
    # Called inside the write's transaction: receivers (analytics) record their follow-up with the change, so
    # it is kept while the broker is down and sent once it is back.
    review_changed.send(sender=Review, review_id=review_id)
