"""Small presentation helpers for the review pages (no HTML is built here: templates keep escaping)."""

from django import template
from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from reviews import pii, privacy
from reviews.models import DIFFICULTY_LABELS, DIMENSIONS, ReviewContext, dimension_field
from reviews.validators import validate_review_context

register = template.Library()


@register.filter
def star_fill(value) -> int:
    """A 0..5 rating as the number of filled half stars (0..10), for the `fill-N` CSS classes."""
    try:
        halves = round(float(value) * 2)
    except (TypeError, ValueError):
        return 0
    return max(0, min(10, halves))


@register.filter
def initial(name) -> str:
    """First visible character of a name, for a letter avatar."""
    text = str(name or "").strip()
    return text[:1].upper() if text else "?"


@register.simple_tag
def page_range(page_obj) -> list:
    """Page numbers around the current page, with Paginator.ELLIPSIS where pages are left out."""
    return list(page_obj.paginator.get_elided_page_range(page_obj.number, on_each_side=1, on_ends=1))


@register.filter
def dimension_ratings(review) -> list[tuple[str | Promise, int]]:
    """(label, rating) for the teaching dimensions this review rated, in the standard order."""
    return [
        (label, value)
        for key, label in DIMENSIONS
        if (value := getattr(review, dimension_field(key), None)) is not None
    ]


@register.filter
def review_url(review) -> str:
    """Where a review can be read: its course page, opened at the page of the list that holds it."""
    return f"{review.course.get_absolute_url()}?review={review.pk}#review-{review.pk}"


@register.filter
def text_for(review, user) -> str:
    """The review's text as `user` reads it: whole for its author, personal data masked for everyone else."""
    return privacy.text_for(review, user)


@register.filter
def masked(text) -> str:
    """Text with personal data masked, for fragments that are the same for every reader (cached quotes)."""
    return pii.mask(str(text))


def _context_items(context: ReviewContext) -> list[str]:
    items = []
    if context.taken:
        items.append(_("Took it in %(month)s") % {"month": context.taken.strftime("%Y-%m")})
    if context.finished is not None:
        items.append(_("Finished") if context.finished else _("Did not finish"))
    if context.weekly_hours:
        items.append(_("%(hours)d h a week") % {"hours": context.weekly_hours})
    if context.difficulty:
        items.append(
            _("Difficulty %(level)d/5 (%(label)s)")
            % {"level": context.difficulty, "label": DIFFICULTY_LABELS[context.difficulty]}
        )
    if context.would_recommend is not None:
        items.append(_("Recommends it") if context.would_recommend else _("Does not recommend it"))
    return items


@register.filter
def review_context(review) -> list[str]:
    """Short phrases for what the reviewer said about how they took the course ("Finished", "6 h a week")."""
    return _context_items(review.context)


@register.filter
def revision_context(revision) -> list[str]:
    """The same phrases for an earlier version (its context is stored in the import/export format)."""
    try:
        return _context_items(validate_review_context(revision.context))
    except ValidationError:
        return []
