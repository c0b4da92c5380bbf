"""A learner's review pages: write, edit, delete, vote helpful, report, and the list of their own reviews.

Every write goes through reviews.services; forms validate with the shared validators."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from courselens.auth import AuthenticatedHttpRequest
from courselens.throttling import throttle
from reviews import services
from reviews.forms import ReportForm, ReviewForm
from reviews.models import Course, Review, ReviewReport
from reviews.views.common import PUBLISHED, REVIEWS_PER_PAGE, reported_ids, reviews_for_display, safe_next


@login_required
@require_http_methods(["GET", "POST"])
@throttle("review_submit")
def review_create(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    course = get_object_or_404(Course, slug=slug)
    if request.method == "GET":
        existing = Review.objects.filter(course=course, author=request.user).first()
        if existing is not None:
            messages.info(request, _("You have already reviewed this course; you can edit your review here."))
            return redirect("review-edit", pk=existing.pk)
    form = ReviewForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            review = services.review_submit(author=request.user, course=course, **form.review_data())
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            _say_where_the_review_stands(request, review, saved=_("Thank you! Your review is published."))
            return redirect(f"{course.get_absolute_url()}#my-review")
    existing = None
    if form.is_bound and form.non_field_errors():
        existing = Review.objects.filter(course=course, author=request.user).first()
    return render(
        request,
        "reviews/review_form.html",
        {
            "form": form,
            "course": course,
            "review": None,
            "existing_review": existing,
            "nav_section": "courses",
        },
    )


def _say_where_the_review_stands(request: HttpRequest, review: Review, *, saved: str) -> None:
    """A review held for moderation is saved but not public: the learner must not think others can read it."""
    if review.status == Review.Status.PENDING:
        messages.warning(
            request,
            _(
                "Your review is saved and waits for a moderator before it is public; "
                "you can still edit it meanwhile."
            ),
        )
    else:
        messages.success(request, saved)


def _own_review(request: HttpRequest, pk: int) -> Review:
    review = get_object_or_404(Review.objects.select_related("course"), pk=pk)
    if not review.is_editable_by(request.user):
        raise PermissionDenied(_("You can only change your own review."))
    return review


@login_required
@require_http_methods(["GET", "POST"])
@throttle("review_edit")
def review_edit(request: HttpRequest, pk: int) -> HttpResponse:
    review = _own_review(request, pk)
    if request.method == "POST":
        form = ReviewForm(request.POST)
        if form.is_valid():
            try:
                review = services.review_edit(review=review, editor=request.user, **form.review_data())
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                _say_where_the_review_stands(request, review, saved=_("Your review has been updated."))
                return redirect(f"{review.course.get_absolute_url()}#my-review")
    else:
        form = ReviewForm(initial=ReviewForm.initial_for(review))
    # The newest revision is the review as it stands; the ones before it are what the author wrote earlier.
    earlier_versions = list(review.revisions.all()[1:])
    return render(
        request,
        "reviews/review_form.html",
        {
            "form": form,
            "course": review.course,
            "review": review,
            "previous_versions": len(earlier_versions),
            "earlier_versions": earlier_versions,
            "nav_section": "courses",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@throttle("review_edit")
def review_delete(request: HttpRequest, pk: int) -> HttpResponse:
    review = _own_review(request, pk)
    if request.method == "POST":
        course_url = review.course.get_absolute_url()
        services.review_delete(review=review, user=request.user)
        messages.success(request, _("Your review has been deleted."))
        return redirect(course_url)
    return render(request, "reviews/review_confirm_delete.html", {"review": review, "nav_section": "courses"})


PENDING_VOTE_SESSION_KEY = "pending_helpful_vote"


@require_http_methods(["GET", "POST"])
@throttle("review_vote")
def review_vote(request: HttpRequest, pk: int) -> HttpResponse:
    """POST marks a review helpful (or, with action=unvote, takes the vote back). Both are idempotent.

    An htmx request gets the review's action row back, so the page neither reloads nor scrolls. A visitor who
    is not logged in is sent to log in, and the vote is kept in the session and cast once they are.
    """
    review = get_object_or_404(Review.objects.select_related("course"), pk=pk, status=PUBLISHED)
    back = safe_next(request, f"{review.course.get_absolute_url()}#review-{review.pk}")
    if request.method == "GET":  # e.g. coming back from the log-in page
        return redirect(back)
    if not request.user.is_authenticated:
        request.session[PENDING_VOTE_SESSION_KEY] = review.pk
        return redirect(f"{reverse(settings.LOGIN_URL)}?{urlencode({'next': back})}")
    status = ""
    try:
        if request.POST.get("action") == "unvote":
            services.review_unvote_helpful(review=review, user=request.user)
            status = _("Your vote was taken back.")
        else:
            services.review_vote_helpful(review=review, user=request.user)
            status = _("Marked as helpful. Thank you!")
    except ValidationError as error:
        status = " ".join(error.messages)
        if not request.headers.get("HX-Request"):
            messages.error(request, status)
    if not request.headers.get("HX-Request"):
        return redirect(back)
    fresh = reviews_for_display(Review.objects.filter(pk=review.pk), request.user).get()
    return render(
        request,
        "reviews/partials/review_actions.html",
        {
            "review": fresh,
            "reported_ids": reported_ids(request.user, [fresh]),
            "vote_status": status,
            "vote_next": back,
        },
    )


def cast_pending_vote(request: HttpRequest) -> None:
    """Cast the helpful vote a visitor clicked before logging in or signing up (kept in their session)."""
    pk = request.session.pop(PENDING_VOTE_SESSION_KEY, None)
    review = Review.objects.filter(pk=pk, status=PUBLISHED).first() if pk else None
    if review is None:
        return
    try:
        services.review_vote_helpful(review=review, user=request.user)
    except ValidationError as error:
        messages.info(request, " ".join(error.messages))
    else:
        messages.success(request, _("Your “helpful” vote has been counted."))


@login_required
@require_http_methods(["GET", "POST"])
@throttle("review_report")
def review_report(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    review = get_object_or_404(Review.objects.select_related("course", "author"), pk=pk, status=PUBLISHED)
    back = f"{review.course.get_absolute_url()}#review-{review.pk}"
    if ReviewReport.objects.filter(review=review, reporter=request.user).exists():
        messages.info(request, _("You have already reported this review; the moderators will look at it."))
        return redirect(back)
    if review.author_id == request.user.pk:
        messages.error(request, _("You cannot report your own review."))
        return redirect(back)
    form = ReportForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            services.review_report(
                review=review,
                reporter=request.user,
                reason=form.cleaned_data["reason"],
                detail=form.cleaned_data["detail"],
            )
        except ValidationError as error:
            if set(error.message_dict) <= {"review"}:
                messages.info(request, " ".join(error.messages))
                return redirect(back)
            form.add_service_errors(error)
        else:
            messages.success(request, _("Thank you. The moderators will look at this review."))
            return redirect(back)
    return render(
        request, "reviews/review_report.html", {"form": form, "review": review, "nav_section": "courses"}
    )


@login_required
def my_reviews(request: AuthenticatedHttpRequest) -> HttpResponse:
    reviews = (
        Review.objects.filter(author=request.user).select_related("course").order_by("-created_at", "-pk")
    )
    page = Paginator(reviews, REVIEWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "reviews/my_reviews.html", {"page_obj": page, "nav_section": "account"})
