"""Staff actions on evidence: link an instructor to GitHub and watch the refresh, re-run a course's
repository check."""

import logging

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from analytics.forms import GitHubLinkForm
from analytics.services import repo_audit
from analytics.services.evidence import evidence_refresh_request
from analytics.templatetags.rankings import EVIDENCE_REQUESTS_SESSION_KEY, github_refresh_state
from analytics.views.common import report_errors
from courselens.auth import staff_required
from reviews.models import Course, Instructor

logger = logging.getLogger(__name__)


@require_POST
@staff_required
def instructor_github_link(request: HttpRequest, slug: str) -> HttpResponse:
    """Link (or re-link) an instructor to a GitHub login and queue an evidence refresh straight away."""
    instructor = get_object_or_404(Instructor, slug=slug)
    back = f"{instructor.get_absolute_url()}#github-title"
    form = GitHubLinkForm(request.POST)
    if not form.is_valid():
        report_errors(request, form.errors)
        return redirect(back)
    login = form.cleaned_data["github_login"]
    Instructor.objects.filter(pk=instructor.pk).update(github_login=login)
    try:
        evidence_refresh_request(instructor_ids=[instructor.pk], spacing_seconds=0)
    except Exception:  # broker down: the link stays, the staff member is told to start the refresh again
        logger.exception("could not queue the evidence refresh of %s", instructor.slug)
        messages.error(
            request,
            _("Linked to %(login)s, but the refresh could not be started; try again shortly.")
            % {"login": login},
        )
        return redirect(back)
    requested = request.session.get(EVIDENCE_REQUESTS_SESSION_KEY, {})
    requested[str(instructor.pk)] = timezone.now().isoformat()
    request.session[EVIDENCE_REQUESTS_SESSION_KEY] = requested
    messages.success(
        request, _("Linked to GitHub account %(login)s; fetching its evidence now.") % {"login": login}
    )
    return redirect(back)


@require_GET
@staff_required
def instructor_github_status(request: HttpRequest, slug: str) -> HttpResponse:
    """The refresh status panel alone: the instructor page polls it (htmx) until the refresh has finished."""
    instructor = get_object_or_404(Instructor, slug=slug)
    return render(
        request,
        "analytics/partials/_github_refresh_status.html",
        {"instructor": instructor, "refresh": github_refresh_state(instructor, request)},
    )


@require_POST
@staff_required
def repo_audit_rerun(request: HttpRequest, slug: str) -> HttpResponse:
    """Staff: queue the repository check of one course; the card shows the result once the worker is done."""
    course = get_object_or_404(Course, slug=slug)
    target = reverse("course-detail", args=[course.slug]) + "#repo-audit"
    if not course.repo_url:
        messages.error(request, _("This course has no companion repository to check."))
        return redirect(target)
    try:
        repo_audit.repo_audit_request(course_ids=[course.pk])
    except Exception:  # noqa: BLE001 - broker down: say so instead of a 500; nothing was half-done
        logger.exception("could not queue the repository check of %s", course.slug)
        messages.error(request, _("Could not queue the repository check; try again shortly."))
        return redirect(target)
    messages.success(request, _("Repository check queued; reload the page in a minute to see it."))
    return redirect(target)
