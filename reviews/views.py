"""Server-rendered pages: catalog browsing, reviews, votes, reports and accounts.

Views stay thin: forms validate with the shared validators and every write goes through reviews.services.
Public pages count and list published reviews only; a learner also sees their own review whatever its status.
"""

import zhconv
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import (
    Avg,
    Case,
    Count,
    Exists,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
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
    "highest": ("-rating", _NEWEST, "-pk"),
    "lowest": ("rating", _NEWEST, "-pk"),
}


# --- Query helpers -----------------------------------------------------------------------------------------


def with_adjusted_rating(rows: QuerySet) -> QuerySet:
    """`adjusted_rating`: the plain average with SCORE_PRIOR_WEIGHT reviews at the platform average added
    (rows annotated by `with_review_stats`).

    "Highest rated" sorts by it, so three five-star reviews cannot put a course above one rated 4.3 by forty
    learners; the rankings smooth the same way (and also weigh recent reviews more). None without reviews.
    """
    platform_mean = Review.objects.published().values("status").annotate(mean=Avg("rating")).values("mean")
    platform = Coalesce(Subquery(platform_mean), Value(3.0), output_field=FloatField())
    weight = Value(float(settings.SCORE_PRIOR_WEIGHT))
    count = Cast("review_count", FloatField())
    adjusted = (Cast("avg_rating", FloatField()) * count + weight * platform) / (count + weight)
    return rows.annotate(
        adjusted_rating=Case(When(review_count=0, then=None), default=adjusted, output_field=FloatField())
    )


BY_ADJUSTED_RATING = (F("adjusted_rating").desc(nulls_last=True), "-review_count")


def with_positive_share(summary: dict) -> dict:
    """Add `positive_percent`, the share of 4- and 5-star reviews ("what learners say" on the course page)."""
    positive = sum(row["count"] for row in summary["distribution"] if row["stars"] >= 4)
    summary["positive_percent"] = round(100 * positive / summary["count"]) if summary["count"] else 0
    return summary


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
    ranked = with_adjusted_rating(Course.objects.with_review_stats()).order_by(*BY_ADJUSTED_RATING, "title")
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


def query_variants(query: str) -> list[str]:
    """The query as typed and in simplified script, so 並發 finds 并发 (the original is searched too, because
    converting already-simplified text can change it)."""
    return list(dict.fromkeys([query, zhconv.convert(query, "zh-hans")]))


def course_search(query: str) -> Q:
    """Title, provider, description, instructor name or GitHub login, and the text of published reviews."""
    found = Q()
    for variant in query_variants(query):
        by_instructor = Course.instructors.through.objects.filter(
            Q(instructor__name__icontains=variant) | Q(instructor__github_login__icontains=variant)
        )
        by_review = Review.objects.filter(status=PUBLISHED, text__icontains=variant)
        found |= (
            Q(title__icontains=variant)
            | Q(provider__icontains=variant)
            | Q(description__icontains=variant)
            | Q(pk__in=by_instructor.values("course_id"))
            | Q(pk__in=by_review.values("course_id"))
        )
    return found


def tag_filter(selected: str) -> tuple[list[tuple[str, str]], dict[str, list[str]]]:
    """Topic choices worth offering and, for each, the tag slugs it matches.

    A tag every course carries ("Go") narrows nothing and is left out; a tag whose name contains a shorter
    offered one (高并发 in 并发) is folded into it, so the list has no near-duplicates. A tag reached by a
    link (a course page's tag chips) still filters, and is then shown selected.
    """
    every_course = RawSQL(f"SELECT COUNT(*) FROM {Course._meta.db_table}", [])  # a constant, no user input
    tags = sorted(
        Tag.objects.annotate(n=Count("courses"), total=every_course),
        key=lambda tag: (len(tag.name), tag.name),
    )
    parents: list[Tag] = []
    members: dict[str, list[Tag]] = {}
    for tag in tags:
        if not 0 < tag.n < tag.total:
            continue
        parent = next((p for p in parents if _folds_into(tag.name, p.name)), None)
        if parent is None:
            parents.append(tag)
            members[tag.slug] = [tag]
        else:
            members[parent.slug].append(tag)
    choices = [
        (
            parent.slug,
            parent.name
            if len(members[parent.slug]) == 1
            else _("%(name)s (with %(others)s)")
            % {"name": parent.name, "others": "、".join(tag.name for tag in members[parent.slug][1:])},
        )
        for parent in sorted(parents, key=lambda tag: tag.name.lower())
    ]
    groups = {slug: [tag.slug for tag in group] for slug, group in members.items()}
    if selected and selected not in groups:
        tag = next((tag for tag in tags if tag.slug == selected), None)
        if tag is not None:
            choices.append((tag.slug, tag.name))
            groups[tag.slug] = [tag.slug]
    return choices, groups


def _folds_into(name: str, shorter: str) -> bool:
    # Short Latin names ("Go", "IO") are parts of too many unrelated words to fold anything into them.
    if shorter.isascii() and len(shorter) < 4:
        return False
    return shorter.lower() in name.lower()


def course_list(request: HttpRequest) -> HttpResponse:
    providers = Course.objects.providers()
    tags, tag_groups = tag_filter(request.GET.get("tag", ""))
    form = CourseFilterForm(request.GET, providers=providers, tags=tags)
    courses = Course.objects.with_review_stats()
    if query := form.value("q"):
        courses = courses.filter(course_search(query))
    if provider := form.value("provider"):
        courses = courses.filter(provider=provider)
    if level := form.value("level"):
        courses = courses.filter(level=level)
    if tag := form.value("tag"):
        in_topic = Course.tags.through.objects.filter(tag__slug__in=tag_groups[tag])
        courses = courses.filter(pk__in=in_topic.values("course_id"))
    sort = form.value("sort") or "rating"
    if sort == "reviews":
        courses = courses.order_by("-review_count", F("avg_rating").desc(nulls_last=True), "title")
    elif sort == "newest":
        courses = courses.order_by("-created_at", "-pk")
    else:
        courses = with_adjusted_rating(courses).order_by(*BY_ADJUSTED_RATING, "title")
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
    summary = with_positive_share(published.rating_summary())

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
    page_number = request.GET.get("page") or _page_holding(listed, request.GET.get("review"))
    page = Paginator(listed, REVIEWS_PER_PAGE).get_page(page_number)
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


def _page_holding(listed, review_pk: str | None) -> int | None:
    """The page of `listed` showing the review a link points at (`?review=<pk>`); None if it is not listed."""
    if not review_pk or not review_pk.isdigit():
        return None
    try:
        position = list(listed.values_list("pk", flat=True)).index(int(review_pk))
    except ValueError:
        return None
    return position // REVIEWS_PER_PAGE + 1


def instructor_list(request: HttpRequest) -> HttpResponse:
    form = InstructorFilterForm(request.GET)
    instructors = Instructor.objects.with_review_stats()
    if query := form.value("q"):
        found = Q()
        for variant in query_variants(query):
            found |= (
                Q(name__icontains=variant) | Q(github_login__icontains=variant) | Q(bio__icontains=variant)
            )
        instructors = instructors.filter(found)
    sort = form.value("sort") or "rating"
    if sort == "reviews":
        instructors = instructors.order_by("-review_count", "name")
    elif sort == "name":
        instructors = instructors.order_by("name")
    else:
        instructors = with_adjusted_rating(instructors).order_by(*BY_ADJUSTED_RATING, "name")
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
        cast_pending_vote(request)
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

    def form_valid(self, form):
        response = super().form_valid(form)
        cast_pending_vote(self.request)
        return response


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
