"""Follow buttons, the unread-notification count in the header, and a notification's text in the reader's
language (no HTML is built here: templates keep escaping)."""

from django import template
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from analytics.models import Follow, Notification
from reviews.models import Course

register = template.Library()


@register.simple_tag
def is_following(user, target) -> bool:
    if not user.is_authenticated:
        return False
    field = "course" if isinstance(target, Course) else "instructor"
    return Follow.objects.filter(user=user, **{field: target}).exists()


@register.simple_tag
def unread_notification_count(user) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def _name(signal: dict) -> str:
    if (get_language() or "").startswith("en") and signal.get("name_en"):
        return signal["name_en"]
    return signal.get("name_zh") or signal.get("name_en") or signal.get("key", "")


def _score(value) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f}"


@register.filter
def notification_changes(notification: Notification) -> list[str]:
    """One short sentence per change: the score, then the warnings that appeared or went away."""
    change = notification.change or {}
    lines = []
    before, after = change.get("score_before"), change.get("score_after")
    if before != after:
        lines.append(_("Score %(before)s → %(after)s") % {"before": _score(before), "after": _score(after)})
    if added := change.get("signals_added"):
        lines.append(_("New warning: %(names)s") % {"names": "、".join(_name(signal) for signal in added)})
    if removed := change.get("signals_removed"):
        lines.append(
            _("No longer a top warning: %(names)s")
            % {"names": "、".join(_name(signal) for signal in removed)}
        )
    return lines
