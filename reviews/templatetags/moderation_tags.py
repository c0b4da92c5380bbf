"""Moderation details an author may see about their own review (trust)."""

from django import template

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
