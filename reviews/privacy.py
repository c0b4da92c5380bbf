"""Personal data in reviews as people see it: what others read (masked), what the author is told.

The finding itself is in reviews/pii.py (pure); the hold is the `personal_data` moderation rule."""

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from reviews import moderation, pii
from reviews.models import ModerationEvent, Review

KIND_LABELS: dict[str, Promise] = {
    pii.PHONE: _("a phone number"),
    pii.QQ: _("a QQ number"),
    pii.WECHAT: _("a WeChat id"),
    pii.EMAIL: _("an e-mail address"),
    pii.ID_CARD: _("an ID card number"),
}


def kinds_sentence(kinds: list[str]) -> str:
    """ "a phone number, an e-mail address" in the active language."""
    return gettext(", ").join(str(KIND_LABELS.get(kind, kind)) for kind in kinds)


def text_for(review: Review, user) -> str:
    """The review's text as `user` may read it: whole for its author, with personal data masked for anyone
    else (staff included, outside the moderation pages)."""
    if user is not None and getattr(user, "is_authenticated", False) and review.author_id == user.pk:
        return review.text
    return pii.mask(review.text)


def held_for_personal_data(review: Review) -> list[str]:
    """The kinds of personal data that made the screening hold this pending review ([] when it was held
    for something else, or is not pending)."""
    if review.status != Review.Status.PENDING:
        return []
    event = (
        ModerationEvent.objects.filter(review=review, action=ModerationEvent.Action.HELD)
        .order_by("-created_at", "-pk")
        .only("findings")
        .first()
    )
    for finding in event.findings if event else []:
        if finding.get("rule") == moderation.PERSONAL_DATA:
            return [kind for kind in finding.get("detail", {}).get("kinds", []) if kind in KIND_LABELS]
    return []


def personal_data_note(kinds: list[str]) -> str:
    """What the author is told about a review held for personal data."""
    if not kinds:
        return ""
    return gettext(
        "It contains personal data (%(kinds)s). Others would only see it masked; to protect whoever it "
        "belongs to, edit your review and take it out."
    ) % {"kinds": kinds_sentence(kinds)}
