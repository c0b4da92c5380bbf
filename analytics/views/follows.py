"""A learner's follows and notifications: follow or unfollow a course or an instructor, the "following"
page, and the notifications page (which marks what it shows as read)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from analytics.models import CourseScore, Follow, InstructorScore, Notification
from analytics.services import follows
from courselens.auth import AuthenticatedHttpRequest
from reviews.models import Course, Instructor

NOTIFICATIONS_PER_PAGE = 20
FOLLOW_KINDS: dict[str, type[Course] | type[Instructor]] = {"course": Course, "instructor": Instructor}


@require_http_methods(["GET", "POST"])
def follow_toggle(request: HttpRequest, kind: str, slug: str) -> HttpResponse:
    """POST action=follow|unfollow. A plain form post comes back to the item's page; an htmx one gets the
    button alone. A visitor who is not logged in is sent to log in and back to the page."""
    if kind not in FOLLOW_KINDS:
        raise Http404
    target: Course | Instructor = get_object_or_404(FOLLOW_KINDS[kind], slug=slug)  # type: ignore[assignment]
    back = target.get_absolute_url()
    if request.method == "GET":
        return redirect(back)
    if not request.user.is_authenticated:
        return redirect(f"{reverse(settings.LOGIN_URL)}?{urlencode({'next': back})}")
    if request.POST.get("action") == "unfollow":
        follows.unfollow(user=request.user, target=target)
        status = _("You no longer follow %(name)s.") % {"name": target}
    else:
        follows.follow(user=request.user, target=target)
        status = _("Following %(name)s: you will be told here when its score or warnings change.") % {
            "name": target
        }
    if request.headers.get("HX-Request"):
        return render(
            request,
            "analytics/partials/follow_button.html",
            {"target": target, "kind": kind, "follow_status": status},
        )
    messages.success(request, status)
    target_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target_url = back
    return redirect(target_url)


@login_required
def following(request: AuthenticatedHttpRequest) -> HttpResponse:
    rows = list(Follow.objects.filter(user=request.user).select_related("course", "instructor"))
    course_scores = {
        score.course_id: score
        for score in CourseScore.objects.filter(
            course_id__in=[row.course_id for row in rows if row.course_id]
        )
    }
    instructor_scores = {
        score.instructor_id: score
        for score in InstructorScore.objects.filter(
            instructor_id__in=[row.instructor_id for row in rows if row.instructor_id]
        )
    }
    items = [
        {
            "follow": row,
            "kind": "course" if row.course_id else "instructor",
            "target": row.target,
            "score": course_scores.get(row.course_id)
            if row.course_id
            else instructor_scores.get(row.instructor_id),
        }
        for row in rows
    ]
    return render(request, "analytics/following.html", {"items": items, "nav_section": "following"})


@login_required
def notifications(request: AuthenticatedHttpRequest) -> HttpResponse:
    rows = Notification.objects.filter(user=request.user).select_related("course", "instructor")
    page = Paginator(rows, NOTIFICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    # Marked read before the page is drawn, so its header counts only what is still unread; the rows already
    # read into memory keep their unread state, so what was new on this visit is still marked new here.
    follows.notifications_mark_read(user=request.user, notifications=shown)
    return render(
        request,
        "analytics/notifications.html",
        {"page_obj": page, "shown": shown, "nav_section": "notifications"},
    )
