"""Personal data in reviews as people see it: what others read (masked), what the author is told.

The finding itself is in reviews/pii.py (pure); the hold is the `personal_data` moderation rule."""

import re

from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from reviews import moderation, pii
from reviews.models import ModerationEvent, Review
from reviews.noise import NUMERAL_DIGITS

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


# What masking can hide: digits, the Latin letters of e-mail addresses and WeChat ids, Chinese numerals.
# A query with none of them cannot match inside masked personal data: the database alone answers it.
_MAY_BE_MASKED = re.compile("[0-9０-９A-Za-zＡ-Ｚａ-ｚ@＠" + "".join(NUMERAL_DIGITS) + "]")


def text_search(reviews: QuerySet[Review], query: str) -> QuerySet[Review]:
    """The reviews whose text contains `query` as others read it (personal data masked): a search must not
    find, digit by digit, the number a page shows as 138****5678."""
    found = reviews.filter(text__icontains=query)
    if not _MAY_BE_MASKED.search(query):
        return found
    needle = query.lower()
    hidden = [
        pk for pk, text in found.values_list("pk", "text").iterator() if needle not in pii.mask(text).lower()
    ]
    return found.exclude(pk__in=hidden) if hidden else found


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
