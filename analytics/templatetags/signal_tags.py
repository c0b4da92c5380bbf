"""Signal display for templates.

Public pages: `{% load signal_tags %}{% course_signals course %}` / `{% instructor_signals instructor %}`
render the confirmed (and seeded) failure signals of the current run for that course or instructor, with
real quotes. `{% include "analytics/partials/course_signals.html" %}` (with `course` in the context) and
`analytics/partials/instructor_signals.html` (with `instructor`) render the same.
"""

from django import template
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from analytics import clauses, reports
from reviews import pii

register = template.Library()


@register.inclusion_tag("analytics/partials/_public_signals.html")
def course_signals(course, quotes: int = 3) -> dict:
    return {
        "summary": reports.public_signals(course=course, quotes=quotes),
        "kind": "course",
        "subject": course,
    }


@register.inclusion_tag("analytics/partials/_public_signals.html")
def instructor_signals(instructor, quotes: int = 2) -> dict:
    return {
        "summary": reports.public_signals(instructor=instructor, quotes=quotes),
        "kind": "instructor",
        "subject": instructor,
    }


@register.filter
def rating_lift(value) -> str:
    """A signal's lift as the rating change it goes with: "−1.20★" when its reviews rate 1.2 stars lower.

    The pipeline's lift is (mean rating without the signal) − (mean rating with it).
    """
    if value is None or value == "":
        return "—"
    change = -float(value)
    sign = "−" if change < 0 else "+" if change > 0 else "±"
    return f"{sign}{abs(change):.2f}★"


@register.filter
def lift_class(value) -> str:
    if value is None or value == "":
        return ""
    return "lift-down" if float(value) > 0 else "lift-up" if float(value) < 0 else ""


# Labels of a run's counts (dashboard stat cards and the run history) and of its timed steps.
COUNT_LABELS = {
    "reviews": _("reviews analysed"),
    "complaints": _("complaints"),
    "assigned": _("complaints assigned"),
    "unassigned": _("unassigned complaints"),
    "discovered": _("new candidates"),
    "noise": _("kept out as spam or noise"),
    "rating_mismatch": _("low ratings whose text praises"),
    "undated": _("reviews without a date"),
    "signals": _("signals found by the run"),
    "segmented": _("reviews segmented"),
    "classifier": _("complaint classifier"),
    "complaint_clauses": _("complaint clauses"),
    "decided": _("reviews whose complaints were decided"),
    "trained": _("models learned again"),
}
TIMING_LABELS = {
    "chunks": _("learning, segmenting and deciding (in chunks)"),
    "load": _("loading reviews"),
    "prepare": _("segmenting and finding complaints"),
    "segment": _("word segmentation"),
    "extract": _("finding signals"),
    "cluster": _("clustering"),
    "report": _("writing the report"),
    "save": _("saving"),
    "total": _("total"),
}
COUNT_VALUES = {
    "learned": _("learned from this platform's reviews"),
    "trained": _("trained on the labelled reviews"),
    "rating-rule": _("rating rule (too few labels)"),
}


@register.filter
def count_label(key: str) -> str:
    return str(COUNT_LABELS.get(key, key.replace("_", " ")))


@register.simple_tag
def quote_with_clause(review, cluster, length: int = 110) -> str:
    """The review's text (escaped) cut to about `length` characters around the complaint clause that put it
    in the cluster, with that clause marked; the plain truncated text when the clause is not known.
    Personal data in the text is masked (masking keeps offsets, so the clause found in the text marks the
    same words in the masked one)."""
    clause = (getattr(cluster, "quote_clauses", None) or {}).get(str(review.pk), "")
    span = clauses.locate(review.text, clause.split()) if clause else None
    text = pii.mask(review.text)
    if span is None:
        return Truncator(text).chars(length)
    start, end = span
    room = max(length - (end - start), 0)
    before_start = max(0, start - room // 2)
    after_end = min(len(text), end + room - (start - before_start))
    return format_html(
        '{}{}<mark class="quote-clause">{}</mark>{}{}',
        "…" if before_start > 0 else "",
        text[before_start:start],
        text[start:end],
        text[end:after_end],
        "…" if after_end < len(text) else "",
    )


@register.filter
def timing_label(key: str) -> str:
    return str(TIMING_LABELS.get(key, key.replace("_", " ")))


@register.filter
def count_value(value):
    """Counts are numbers, except a few words the pipeline records (the classifier used)."""
    return COUNT_VALUES.get(value, value) if isinstance(value, str) else value
