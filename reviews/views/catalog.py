"""Catalog pages: home, course and instructor lists (search, filters, sorts) and their detail pages.

Public pages count and list published reviews only; a learner also sees their own review whatever its
status."""

import zhconv
from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Avg, Case, Count, F, FloatField, Q, QuerySet, Subquery, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from reviews import privacy
from reviews.forms import CourseFilterForm, InstructorFilterForm, ReviewFilterForm
from reviews.models import Course, Instructor, Review, Tag
from reviews.views.common import PUBLISHED, REVIEW_SORTS, REVIEWS_PER_PAGE, reported_ids, reviews_for_display

COURSES_PER_PAGE = 12
INSTRUCTORS_PER_PAGE = 18
HOME_HIGHLIGHTS = 6
# A course needs this many published reviews before it can be highlighted as "top rated" on the home page.
HOME_TOP_RATED_MIN_REVIEWS = 3


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
        by_review = privacy.text_search(Review.objects.filter(status=PUBLISHED), variant)
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
        linked = next((tag for tag in tags if tag.slug == selected), None)
        if linked is not None:
            choices.append((linked.slug, linked.name))
            groups[linked.slug] = [linked.slug]
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
    courses: QuerySet[Course] = Course.objects.with_review_stats()
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
    review_filter = ReviewFilterForm(request.GET)
    if lookups := review_filter.filters():
        listed = listed.filter(**lookups)
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
            "review_filter": review_filter,
            "reviews_filtered": bool(lookups),
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
    instructors: QuerySet[Instructor] = Instructor.objects.with_review_stats()
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
