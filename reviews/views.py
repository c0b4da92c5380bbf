"""Server-rendered pages: catalog browsing, reviews, votes, reports and accounts.

Views stay thin: forms validate with the shared validators and every write goes through reviews.services.
Public pages count and list published reviews only; a learner also sees their own review whatever its status.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from courselens import throttling
from courselens.auth import AuthenticatedHttpRequest, staff_required
from courselens.throttling import throttle
from reviews import moderation, services
from reviews.forms import (
    CourseFilterForm,
    InstructorFilterForm,
    ModerationForm,
    ReportForm,
    ReviewForm,
    SignupForm,
)
from reviews.models import (
    Course,
    Instructor,
    ModerationEvent,
    Review,
    ReviewReport,
    ReviewVote,
    Tag,
)

PUBLISHED = Review.Status.PUBLISHED
COURSES_PER_PAGE = 12
INSTRUCTORS_PER_PAGE = 18
REVIEWS_PER_PAGE = 10
HOME_HIGHLIGHTS = 6
# A course needs this many published reviews before it can be highlighted as "top rated" on the home page.
HOME_TOP_RATED_MIN_REVIEWS = 3

# Undated (imported) reviews come last.
_NEWEST = F("created_at").desc(nulls_last=True)
REVIEW_SORTS = {
    "newest": (_NEWEST, "-pk"),
    "helpful": ("-helpful_count", _NEWEST, "-pk"),
}


# --- Query helpers -----------------------------------------------------------------------------------------


def reviews_for_display(reviews: QuerySet[Review], user) -> QuerySet[Review]:
    """Reviews with their author and course loaded and, for a logged-in user, whether they voted (`voted`)."""
    reviews = reviews.select_related("author", "course")
    if user.is_authenticated:
        reviews = reviews.annotate(voted=Exists(ReviewVote.objects.filter(review=OuterRef("pk"), user=user)))
    return reviews


def reported_ids(user, reviews) -> set[int]:
    if not user.is_authenticated:
        return set()
    ids = [review.pk for review in reviews]
    return set(
        ReviewReport.objects.filter(reporter=user, review_id__in=ids).values_list("review_id", flat=True)
    )


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The `next` URL of the request if it points to this site, else `fallback`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


# --- Catalog ---------------------------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    ranked = Course.objects.with_review_stats().order_by(
        F("avg_rating").desc(nulls_last=True), "-review_count", "title"
    )
    top_courses = list(ranked.filter(review_count__gte=HOME_TOP_RATED_MIN_REVIEWS)[:HOME_HIGHLIGHTS])
    if not top_courses:
        top_courses = list(ranked.filter(review_count__gt=0)[:HOME_HIGHLIGHTS])
    if not top_courses:
        # A new catalogue has no ratings yet: show the newest courses rather than an empty block.
        top_courses = list(
            Course.objects.with_review_stats().order_by("-created_at", "title")[:HOME_HIGHLIGHTS]
        )
    recent_reviews = (
        Review.objects.filter(status=PUBLISHED)
        .select_related("course", "author")
        .order_by(*REVIEW_SORTS["newest"])
    )[:HOME_HIGHLIGHTS]
    stats = {
        "courses": Course.objects.count(),
        "instructors": Instructor.objects.count(),
        "reviews": Review.objects.filter(status=PUBLISHED).count(),
    }
    return render(
        request,
        "reviews/home.html",
        {"top_courses": top_courses, "recent_reviews": recent_reviews, "stats": stats, "nav_section": "home"},
    )


def course_list(request: HttpRequest) -> HttpResponse:
    providers = Course.objects.providers()
    tags = list(Tag.objects.values_list("slug", "name"))
    form = CourseFilterForm(request.GET, providers=providers, tags=tags)
    courses = Course.objects.with_review_stats()
    if query := form.value("q"):
        by_instructor = Course.instructors.through.objects.filter(instructor__name__icontains=query)
        courses = courses.filter(
            Q(title__icontains=query)
            | Q(provider__icontains=query)
            | Q(pk__in=by_instructor.values("course_id"))
        )
    if provider := form.value("provider"):
        courses = courses.filter(provider=provider)
    if level := form.value("level"):
        courses = courses.filter(level=level)
    if tag := form.value("tag"):
        courses = courses.filter(pk__in=Course.tags.through.objects.filter(tag__slug=tag).values("course_id"))
    sort = form.value("sort") or "rating"
    if sort == "reviews":
        courses = courses.order_by("-review_count", F("avg_rating").desc(nulls_last=True), "title")
    elif sort == "newest":
        courses = courses.order_by("-created_at", "-pk")
    else:
        courses = courses.order_by(F("avg_rating").desc(nulls_last=True), "-review_count", "title")
    page = Paginator(courses, COURSES_PER_PAGE).get_page(request.GET.get("page"))
    filtered = any(form.value(name) for name in ("q", "provider", "level", "tag"))
    return render(
        request,
        "reviews/course_list.html",
        {"form": form, "page_obj": page, "sort": sort, "filtered": filtered, "nav_section": "courses"},
    )


def course_detail(request: HttpRequest, slug: str) -> HttpResponse:
    course = get_object_or_404(Course.objects.prefetch_related("instructors", "tags"), slug=slug)
    published = course.reviews.filter(status=PUBLISHED)
    summary = published.rating_summary()

    my_review = None
    listed = published
    if request.user.is_authenticated:
        my_review = (
            Review.objects.filter(course=course, author=request.user)
            .annotate(revision_count=Count("revisions"))
            .first()
        )
        if my_review is not None:
            listed = listed.exclude(pk=my_review.pk)

    sort = request.GET.get("sort", "")
    sort = sort if sort in REVIEW_SORTS else "newest"
    listed = reviews_for_display(listed, request.user).order_by(*REVIEW_SORTS[sort])
    page = Paginator(listed, REVIEWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "reviews/course_detail.html",
        {
            "course": course,
            "summary": summary,
            "my_review": my_review,
            "page_obj": page,
            "sort": sort,
            "reported_ids": reported_ids(request.user, page.object_list),
            "nav_section": "courses",
        },
    )


def instructor_list(request: HttpRequest) -> HttpResponse:
    form = InstructorFilterForm(request.GET)
    instructors = Instructor.objects.with_review_stats()
    if query := form.value("q"):
        instructors = instructors.filter(Q(name__icontains=query) | Q(github_login__icontains=query))
    sort = form.value("sort") or "rating"
    if sort == "reviews":
        instructors = instructors.order_by("-review_count", "name")
    elif sort == "name":
        instructors = instructors.order_by("name")
    else:
        instructors = instructors.order_by(F("avg_rating").desc(nulls_last=True), "-review_count", "name")
    page = Paginator(instructors, INSTRUCTORS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "reviews/instructor_list.html",
        {"form": form, "page_obj": page, "sort": sort, "nav_section": "instructors"},
    )


def instructor_detail(request: HttpRequest, slug: str) -> HttpResponse:
    instructor = get_object_or_404(Instructor, slug=slug)
    courses = list(
        Course.objects.with_review_stats().filter(pk__in=instructor.courses.values("pk")).order_by("title")
    )
    published = Review.objects.filter(status=PUBLISHED, course__in=[course.pk for course in courses])
    summary = published.rating_summary()
    recent_reviews = list(reviews_for_display(published, request.user).order_by(*REVIEW_SORTS["newest"])[:5])
    return render(
        request,
        "reviews/instructor_detail.html",
        {
            "instructor": instructor,
            "courses": courses,
            "summary": summary,
            "recent_reviews": recent_reviews,
            "reported_ids": reported_ids(request.user, recent_reviews),
            "nav_section": "instructors",
        },
    )


# --- Reviews ---------------------------------------------------------------------------------------------


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
            services.review_submit(author=request.user, course=course, **form.review_data())
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Thank you! Your review has been saved."))
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
                services.review_edit(review=review, editor=request.user, **form.review_data())
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, _("Your review has been updated."))
                return redirect(f"{review.course.get_absolute_url()}#my-review")
    else:
        form = ReviewForm(initial=ReviewForm.initial_for(review))
    previous_versions = max(review.revisions.count() - 1, 0)
    return render(
        request,
        "reviews/review_form.html",
        {
            "form": form,
            "course": review.course,
            "review": review,
            "previous_versions": previous_versions,
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


@login_required
@require_http_methods(["GET", "POST"])
@throttle("review_vote")
def review_vote(request: HttpRequest, pk: int) -> HttpResponse:
    """POST marks a review helpful (or, with action=unvote, takes the vote back). Both are idempotent."""
    review = get_object_or_404(Review.objects.select_related("course"), pk=pk, status=PUBLISHED)
    back = safe_next(request, f"{review.course.get_absolute_url()}#review-{review.pk}")
    if request.method == "GET":  # e.g. coming back from the log-in page
        return redirect(back)
    try:
        if request.POST.get("action") == "unvote":
            services.review_unvote_helpful(review=review, user=request.user)
        else:
            services.review_vote_helpful(review=review, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(back)


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


# --- Accounts --------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@throttle("signup")
def signup(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, reverse(settings.LOGIN_REDIRECT_URL))
    if request.user.is_authenticated:
        return redirect(next_url)
    form = SignupForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome to CourseLens, %(name)s!") % {"name": user.get_username()})
        return redirect(next_url)
    return render(request, "registration/signup.html", {"form": form, "next": next_url})


# --- Trust: log-in throttling and staff moderation ---------------------------------------------------------


class LoginView(auth_views.LoginView):
    """Django's log-in, answering 429 with Retry-After while the client or username is locked out after too
    many failures (courselens/throttling.py counts them). Django gives the session a new key at log-in."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        wait = throttling.login_blocked(request, request.POST.get("username"))
        if wait:
            return throttling.too_many_requests(request, wait)
        return super().post(request, *args, **kwargs)


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
