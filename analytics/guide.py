"""The public 避雷手册 (failure-signal guide): what the current signal run and the scores say about all
courses, or about the courses of one tag.

Reads only: the current run (a queued, running or failed run is never shown) and the last computed
scores. Only seeded and confirmed signals appear, as on the course and instructor pages.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Count, Exists, F, Max, OuterRef, Q, Window
from django.db.models.functions import RowNumber, TruncMonth
from django.utils.translation import get_language

from analytics.models import (
    EvidenceSnapshot,
    InstructorScore,
    ReviewSignal,
    SignalCluster,
    SignalDefinition,
    SignalRun,
)
from analytics.reports import (
    PUBLIC_STATUSES,
    definition_check_hint,
    definition_description,
    definition_name,
    effective_definition,
)
from analytics.signals import in_scope
from reviews.models import Course, Instructor, Review, Tag

# A course needs this many published reviews before it can be named "most" or "least" affected: with
# fewer, one review decides its share.
MIN_COURSE_REVIEWS = 5
COURSES_SHOWN = 3
QUOTES_SHOWN = 3
TREND_MONTHS = 12
INSTRUCTORS_SHOWN = 5
CACHE_SECONDS = 10 * 60


@dataclass
class CourseShare:
    course: Course
    count: int
    total: int

    @property
    def share(self) -> float:
        return self.count / self.total if self.total else 0.0

    @property
    def share_percent(self) -> int:
        return round(100 * self.share)


@dataclass
class GuideQuote:
    review: Review
    # The cluster that holds the review in this run: it knows which clause of the review complained.
    cluster: SignalCluster


@dataclass
class GuideSignal:
    definition: SignalDefinition
    name: str
    description: str
    check_hint: str
    count: int
    total: int
    quotes: list[GuideQuote] = field(default_factory=list)
    # {"months": ["2026-01", ...], "shares": [percent, ...], "counts": [reviews showing it, ...]}
    trend: dict = field(default_factory=dict)
    most_common: list[CourseShare] = field(default_factory=list)
    least_common: list[CourseShare] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.definition.key

    @property
    def share(self) -> float:
        return self.count / self.total if self.total else 0.0

    @property
    def share_percent(self) -> float:
        return round(100 * self.share, 1)


@dataclass
class GuideInstructor:
    instructor: Instructor
    score: InstructorScore
    figures: dict
    github_url: str


@dataclass
class Guide:
    tag: Tag | None
    run: SignalRun | None
    total_reviews: int
    signals: list[GuideSignal]
    instructors: list[GuideInstructor]
    min_course_reviews: int = MIN_COURSE_REVIEWS


def topic_course_ids(tag: Tag) -> set[int]:
    """The courses of a topic guide, by the rule that scopes the seeded signals to courses
    (signals.in_scope): tagged with the topic, or named by their title ("Go 高并发实战" for go; imported
    courses carry no tags). So /guide/go/ counts the reviews the Go signals were allowed to take."""
    tags: dict[int, list[str]] = defaultdict(list)
    for course_id, name, slug in Course.tags.through.objects.values_list(
        "course_id", "tag__name", "tag__slug"
    ):
        tags[course_id].extend((name, slug))
    scope = [tag.slug, tag.name]
    return {
        pk
        for pk, title in Course.objects.values_list("pk", "title")
        if in_scope(scope, title=title, tags=tags[pk])
    }


def applies_to(definition: SignalDefinition, tag: Tag | None) -> bool:
    """A signal scoped to some course tags (name or slug, any case, as the pipeline reads them) belongs to
    those tags' guides and the all-courses guide; one without a scope to every guide."""
    scope = {str(value).strip().lower() for value in definition.scope_tags or []}
    return tag is None or not scope or bool(scope & {tag.slug.lower(), tag.name.lower()})


def cached_guide(*, tag: Tag | None = None) -> Guide:
    """build_guide, cached per run and score computation (both are part of the key, so a new run or new
    scores show at once); reviews published since are counted within CACHE_SECONDS. Before the first
    run nothing is cached."""
    run = SignalRun.objects.current().values("pk", "finished_at").first()
    if run is None:
        return build_guide(tag=tag)
    scored_at = InstructorScore.objects.aggregate(at=Max("computed_at"))["at"]
    key = ":".join(
        [
            "guide",
            str(run["pk"]),
            # A run id alone is reused when a database is rebuilt; its finish time is not.
            run["finished_at"].isoformat() if run["finished_at"] else "",
            scored_at.isoformat() if scored_at else "",
            tag.slug if tag else "",
            get_language() or "",
        ]
    )
    guide = cache.get(key)
    if guide is None:
        guide = build_guide(tag=tag)
        cache.set(key, guide, CACHE_SECONDS)
    return guide


def build_guide(*, tag: Tag | None = None) -> Guide:
    run = SignalRun.objects.current().first()
    reviews = Review.objects.published()
    courses = topic_course_ids(tag) if tag is not None else None
    if courses is not None:
        reviews = reviews.filter(course__in=courses)
    total = reviews.count()
    instructors = _strongest_instructors(courses)
    if run is None or total == 0:
        return Guide(tag=tag, run=run, total_reviews=total, signals=[], instructors=instructors)

    assignments = ReviewSignal.objects.filter(run=run, review__in=reviews).filter(
        Q(
            cluster__definition__merged_into__isnull=True,
            cluster__definition__status__in=PUBLIC_STATUSES,
        )
        | Q(cluster__definition__merged_into__status__in=PUBLIC_STATUSES)
    )
    per_course = assignments.values("cluster__definition", "review__course").annotate(
        n=Count("review", distinct=True)
    )
    definitions = {
        definition.pk: definition
        for definition in SignalDefinition.objects.select_related("merged_into").filter(
            pk__in={row["cluster__definition"] for row in per_course}
        )
    }
    target_of = {pk: effective_definition(definition) for pk, definition in definitions.items()}
    counts: dict[int, int] = defaultdict(int)
    course_counts: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for row in per_course:
        target = target_of[row["cluster__definition"]]
        if not applies_to(target, tag):
            continue
        counts[target.pk] += row["n"]
        course_counts[target.pk][row["review__course"]] += row["n"]
    targets = {target.pk: target for target in target_of.values() if target.pk in counts}

    eligible = _eligible_courses(reviews)
    quotes = _quotes(assignments, target_of, set(targets))
    trends = _trends(assignments, reviews, target_of, set(targets))
    signals = []
    for pk, count in counts.items():
        definition = targets[pk]
        most, least = _most_and_least(eligible, course_counts[pk])
        signals.append(
            GuideSignal(
                definition=definition,
                name=definition_name(definition),
                description=definition_description(definition),
                check_hint=definition_check_hint(definition),
                count=count,
                total=total,
                quotes=quotes.get(pk, []),
                trend=trends.get(pk, {}),
                most_common=most,
                least_common=least,
            )
        )
    signals.sort(key=lambda signal: (-signal.count, signal.name))
    return Guide(tag=tag, run=run, total_reviews=total, signals=signals, instructors=instructors)


def _eligible_courses(reviews) -> list[tuple[Course, int]]:
    totals = {
        row["course"]: row["n"]
        for row in reviews.values("course").annotate(n=Count("pk")).filter(n__gte=MIN_COURSE_REVIEWS)
    }
    return [(course, totals[course.pk]) for course in Course.objects.filter(pk__in=totals)]


def _most_and_least(
    eligible: list[tuple[Course, int]], counts: dict[int, int]
) -> tuple[list[CourseShare], list[CourseShare]]:
    rows = [
        CourseShare(course=course, count=counts.get(course.pk, 0), total=total) for course, total in eligible
    ]
    most = sorted(
        (row for row in rows if row.count),
        key=lambda row: (-row.share, -row.total, row.course.title),
    )[:COURSES_SHOWN]
    shown = {row.course.pk for row in most}
    least = sorted(
        (row for row in rows if row.course.pk not in shown),
        key=lambda row: (row.share, -row.total, row.course.title),
    )[:COURSES_SHOWN]
    return most, least


def _quotes(assignments, target_of: dict, wanted: set[int]) -> dict[int, list[GuideQuote]]:
    """The cluster's representative reviews first (the pipeline picked them as typical), then the
    best-scored members; at most QUOTES_SHOWN per signal."""
    representative = SignalCluster.representative_reviews.through.objects.filter(
        signalcluster_id=OuterRef("cluster_id"), review_id=OuterRef("review_id")
    )
    rows = (
        assignments.annotate(
            definition_pk=F("cluster__definition"),
            is_representative=Exists(representative),
        )
        .annotate(
            position=Window(
                RowNumber(),
                partition_by=[F("cluster__definition")],
                order_by=[F("is_representative").desc(), F("score").desc(), F("pk")],
            )
        )
        .filter(position__lte=QUOTES_SHOWN)
        .select_related("review", "review__course", "cluster")
        .order_by("-is_representative", "-score", "pk")
    )
    quotes: dict[int, list[GuideQuote]] = defaultdict(list)
    for row in rows:
        target = target_of[row.definition_pk]
        if target.pk in wanted and len(quotes[target.pk]) < QUOTES_SHOWN:
            quotes[target.pk].append(GuideQuote(review=row.review, cluster=row.cluster))
    return quotes


def _trends(assignments, reviews, target_of: dict, wanted: set[int]) -> dict[int, dict]:
    """Per signal, the share of each month's reviews that show it, over the last TREND_MONTHS months
    that have reviews (ending at the newest review, so an old corpus still has a trend)."""
    totals = {
        row["month"].strftime("%Y-%m"): row["n"]
        for row in reviews.annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(n=Count("pk"))
        .exclude(month=None)
    }
    if not totals:
        return {}
    months = _last_months(max(totals), TREND_MONTHS)
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in (
        assignments.annotate(month=TruncMonth("review__created_at"))
        .values("cluster__definition", "month")
        .annotate(n=Count("review", distinct=True))
        .exclude(month=None)
    ):
        target = target_of[row["cluster__definition"]]
        if target.pk in wanted:
            counts[target.pk][row["month"].strftime("%Y-%m")] += row["n"]
    trends = {}
    for pk in wanted:
        series = [counts[pk].get(month, 0) for month in months]
        trends[pk] = {
            "months": months,
            "counts": series,
            "totals": [totals.get(month, 0) for month in months],
            "shares": [
                round(100 * n / totals[month], 1) if totals.get(month) else None
                for n, month in zip(series, months, strict=True)
            ],
        }
    return trends


def _last_months(last: str, n: int) -> list[str]:
    year, month = (int(part) for part in last.split("-"))
    months = []
    for _ in range(n):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months[::-1]


def _strongest_instructors(courses: set[int] | None) -> list[GuideInstructor]:
    """Instructors (of the topic's courses; None: every course) with the strongest verified practice: the
    evidence component of their score, from their public GitHub record. Instructors without evidence are
    left out."""
    ranking = InstructorScore.objects.ranking()
    if courses is not None:
        ranking = ranking.filter(instructor__in=Course.objects.filter(pk__in=courses).values("instructors"))
    scores = [
        score
        for score in ranking.filter(evidence__isnull=False).order_by(
            F("evidence").desc(), F("total").desc(nulls_last=True), "instructor__name"
        )
        if (score.breakdown.get("evidence") or {}).get("has_evidence")
    ][:INSTRUCTORS_SHOWN]
    snapshots = {
        snapshot.instructor_id: snapshot
        for snapshot in EvidenceSnapshot.objects.current().filter(
            instructor__in=[score.instructor_id for score in scores]
        )
    }
    rows = []
    for score in scores:
        snapshot = snapshots.get(score.instructor_id)
        login = score.instructor.github_login
        rows.append(
            GuideInstructor(
                instructor=score.instructor,
                score=score,
                figures=snapshot.figures if snapshot else {},
                github_url=(snapshot.payload_summary.get("html_url") if snapshot else "")
                or (f"https://github.com/{login}" if login else ""),
            )
        )
    return rows
