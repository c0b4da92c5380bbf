"""Staff moderation: the queue (pending, reported, hidden), one review with its history, and the decision."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from courselens.auth import staff_required
from reviews import moderation, services
from reviews.forms import ModerationForm
from reviews.models import ModerationEvent, Review, ReviewReport
from reviews.views.common import safe_next

MODERATION_PER_PAGE = 20
MODERATION_TABS = ("pending", "reported", "hidden")


def describe_finding(finding: dict) -> str:
    """A moderator-readable sentence for one automatic screening finding."""
    detail = finding.get("detail") or {}
    rule = finding.get("rule")
    if rule == moderation.NEAR_DUPLICATE:
        return _("Text is %(percent)d%% the same as review #%(id)s%(who)s.") % {
            "percent": round(100 * float(detail.get("similarity", 0))),
            "id": detail.get("review_id", "?"),
            "who": _(" by the same account") if detail.get("same_author") else _(" by another account"),
        }
    if rule == moderation.NEW_ACCOUNT_BURST:
        return _("%(count)s reviews from new accounts on this instructor within %(minutes)s minutes.") % {
            "count": detail.get("reviews", "?"),
            "minutes": detail.get("minutes", "?"),
        }
    if rule == moderation.SUSPECTED_SPAM:
        kinds = {
            "contact": _("a contact number"),
            "link": _("a link to another site"),
            "mash": _("keyboard mash"),
        }
        kind = detail.get("kind", "?")
        return _("Suspected spam: %(kind)s (%(evidence)s).") % {
            "kind": kinds.get(kind, kind),
            "evidence": detail.get("evidence", ""),
        }
    if rule == moderation.REVIEW_SPREE:
        return _("%(count)s reviews by this account within %(minutes)s minutes.") % {
            "count": detail.get("reviews", "?"),
            "minutes": detail.get("minutes", "?"),
        }
    if rule == moderation.RESUBMITTED:
        return _("Written after the author deleted a %(status)s review of this course.") % {
            "status": Review.Status(detail.get("previous_status", Review.Status.HIDDEN)).label,
        }
    return str(rule)


def _moderation_reviews(tab: str) -> QuerySet[Review]:
    open_reports = Count("reports", filter=Q(reports__resolved=False), distinct=True)
    reviews = Review.objects.select_related("course", "author").annotate(open_reports=open_reports)
    if tab == "reported":
        return reviews.filter(open_reports__gt=0).order_by("-open_reports", "-created_at", "-pk")
    status = Review.Status.HIDDEN if tab == "hidden" else Review.Status.PENDING
    return reviews.filter(status=status).order_by("-created_at", "-pk")


def _with_moderation_context(reviews: list[Review]) -> list[Review]:
    """Attach `findings` (sentences from the latest automatic hold) and `report_reasons` to each review."""
    ids = [review.pk for review in reviews]
    held: dict[int, list[str]] = {}
    for review_id, findings in (
        ModerationEvent.objects.filter(review_id__in=ids, action=ModerationEvent.Action.HELD)
        .order_by("review_id", "-created_at", "-pk")
        .values_list("review_id", "findings")
    ):
        held.setdefault(review_id, [describe_finding(finding) for finding in findings])
    reasons: dict[int, list[tuple[str | Promise, int]]] = {}
    for row in (
        ReviewReport.objects.filter(review_id__in=ids, resolved=False)
        .values("review_id", "reason")
        .annotate(n=Count("pk"))
        .order_by("review_id", "-n")
    ):
        label = ReviewReport.Reason(row["reason"]).label
        reasons.setdefault(row["review_id"], []).append((label, row["n"]))
    for review in reviews:
        review.findings = held.get(review.pk, [])
        review.report_reasons = reasons.get(review.pk, [])
    return reviews


@require_http_methods(["GET"])
@staff_required
def moderation_queue(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab", "")
    tab = tab if tab in MODERATION_TABS else "pending"
    page = Paginator(_moderation_reviews(tab), MODERATION_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = _with_moderation_context(list(page.object_list))
    counts = {name: _moderation_reviews(name).count() for name in MODERATION_TABS}
    return render(
        request,
        "reviews/moderation/queue.html",
        {
            "tab": tab,
            "page_obj": page,
            "counts": counts,
            "form": ModerationForm(),
            "nav_section": "moderation",
        },
    )


@require_http_methods(["GET"])
@staff_required
def moderation_review(request: HttpRequest, pk: int) -> HttpResponse:
    """One review with everything a moderator needs: every version, the reports and the moderation log."""
    review = get_object_or_404(Review.objects.select_related("course", "author"), pk=pk)
    review.open_reports = review.reports.filter(resolved=False).count()
    _with_moderation_context([review])
    events = review.moderation_events.select_related("moderator")
    for event in events:
        event.descriptions = [describe_finding(finding) for finding in event.findings]
    return render(
        request,
        "reviews/moderation/review.html",
        {
            "review": review,
            "revisions": review.revisions.select_related("edited_by").order_by("-created_at", "-pk"),
            "reports": review.reports.select_related("reporter"),
            "events": events,
            "form": ModerationForm(),
            "nav_section": "moderation",
        },
    )


@require_http_methods(["POST"])
@staff_required
def moderation_decide(request: HttpRequest, pk: int) -> HttpResponse:
    review = get_object_or_404(Review, pk=pk)
    back = safe_next(request, reverse("moderation-queue"))
    form = ModerationForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, " ".join(str(message) for errors in form.errors.values() for message in errors)
        )
        return redirect(back)
    try:
        services.review_moderation_decide(
            review=review,
            moderator=request.user,
            action=form.cleaned_data["action"],
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(back)
    if review.status == Review.Status.PUBLISHED:
        messages.success(request, _("Review #%(id)s is published.") % {"id": review.pk})
    else:
        messages.success(request, _("Review #%(id)s is hidden.") % {"id": review.pk})
    return redirect(back)
