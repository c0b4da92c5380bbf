"""The course page's repository check card:
`{% load repo_audit_tags %}{% course_repo_audit course user as ra %}`."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language

from analytics.models import RepoAudit

register = template.Library()


@register.simple_tag
def course_repo_audit(course, user=None) -> dict:
    """The course's last good repository check, its findings in the page's language, and (for staff) the
    last attempt's error when it failed. One query."""
    row = RepoAudit.objects.filter(course=course).first()
    lang = "en" if (get_language() or "").startswith("en") else "zh"
    report = row.report if row else {}
    findings = [
        {
            "key": finding["key"],
            "verdict": finding["verdict"],
            "value": finding["value"],
            "label": finding[f"label_{lang}"],
            "meaning": finding[f"meaning_{lang}"],
        }
        for finding in report.get("findings", [])
    ]
    is_staff = bool(getattr(user, "is_staff", False))
    return {
        "row": row,
        "report": report,
        "findings": findings,
        "verdicts": report.get("verdicts", {}),
        "score": row.score if row else None,
        "repository": report.get("repository", {}),
        "can_rerun": is_staff and bool(course.repo_url),
        "failure": row if is_staff and row and row.status == RepoAudit.Status.FAILED else None,
    }
