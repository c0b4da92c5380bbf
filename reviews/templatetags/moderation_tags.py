"""Moderation details an author may see about their own review (trust)."""

from django import template

from reviews import privacy
from reviews.models import ModerationEvent, Review

register = template.Library()


@register.simple_tag
def moderation_note(review: Review) -> str:
    """The reason staff gave for hiding `review` ("" for any other status or when none was given)."""
    if review is None or review.status != Review.Status.HIDDEN:
        return ""
    event = (
        ModerationEvent.objects.filter(review=review, action=ModerationEvent.Action.HIDDEN)
        .order_by("-created_at", "-pk")
        .only("reason")
        .first()
    )
    return event.reason if event else ""


@register.simple_tag
def hold_note(review: Review) -> str:
    """Why the screening holds the author's pending review, when the author can do something about it (it
    holds personal data); "" otherwise."""
    if review is None:
        return ""
    return privacy.personal_data_note(privacy.held_for_personal_data(review))
