from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TypeVar

from django.conf import settings
from django.db import models
from django.db.models import Avg, Count, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import MD5, Coalesce, Length, Trim
from django.db.models.lookups import GreaterThan, LessThanOrEqual
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# The six teaching dimensions (radar axes); they mirror the failure signals.
DIMENSIONS = [
    ("practice", _("Practice depth")),
    ("concurrency", _("Concurrency")),
    ("production", _("Production readiness")),
    ("engineering", _("Engineering & tooling")),
    ("testing", _("Testing & profiling")),
    ("delivery", _("Delivery & clarity")),
]
DIMENSION_KEYS = [key for key, _label in DIMENSIONS]

EARLIEST_REVIEW_DATE = datetime(1970, 1, 1, tzinfo=UTC)


def dimension_field(key: str) -> str:
    return f"dim_{key}"


# Reviewer context: what the learner says about how they took the course. Every part is optional.
CONTEXT_KEYS = ["taken", "finished", "weekly_hours", "difficulty", "would_recommend"]
WEEKLY_HOURS_MAX = 60
DIFFICULTY_LABELS = {
    1: _("Very easy"),
    2: _("Easy"),
    3: _("Moderate"),
    4: _("Hard"),
    5: _("Very hard"),
}


@dataclass(frozen=True)
class ReviewContext:
    """When the course was taken (a month), whether it was finished, hours a week, difficulty 1–5 and
    whether the learner would recommend it; None where the learner did not say."""

    taken: date | None = None
    finished: bool | None = None
    weekly_hours: int | None = None
    difficulty: int | None = None
    would_recommend: bool | None = None

    def as_json(self) -> dict[str, object]:
        """The given parts in the API and import/export format (`taken` as "YYYY-MM")."""
        values: dict[str, object] = {
            "taken": self.taken.strftime("%Y-%m") if self.taken else None,
            "finished": self.finished,
            "weekly_hours": self.weekly_hours,
            "difficulty": self.difficulty,
            "would_recommend": self.would_recommend,
        }
        return {key: value for key, value in values.items() if value is not None}

    def model_fields(self) -> dict[str, object]:
        """Review's column values (taken → taken_on)."""
        return {
            "taken_on": self.taken,
            "finished": self.finished,
            "weekly_hours": self.weekly_hours,
            "difficulty": self.difficulty,
            "would_recommend": self.would_recommend,
        }


Rows = TypeVar("Rows", bound=QuerySet)


def _with_review_stats(queryset: Rows, reviews: QuerySet, group_by: str) -> Rows:
    """Annotate review_count and avg_rating with subqueries (joins for filters cannot inflate them)."""
    grouped = reviews.values(group_by)
    return queryset.annotate(
        review_count=Coalesce(Subquery(grouped.annotate(n=Count("pk")).values("n")), Value(0)),
        avg_rating=Subquery(grouped.annotate(avg=Avg("rating")).values("avg")),
    )


class InstructorQuerySet(models.QuerySet):
    def with_review_stats(self) -> "InstructorQuerySet":
        """Annotated with `review_count` and `avg_rating` over their courses' published reviews, and
        `course_count`."""
        reviews = Review.objects.published().filter(course__instructors=OuterRef("pk"))
        course_count = (
            Course.instructors.through.objects.filter(instructor=OuterRef("pk"))  # type: ignore[misc]
            .order_by()
            .values("instructor")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return _with_review_stats(self, reviews, "course__instructors").annotate(
            course_count=Coalesce(Subquery(course_count), Value(0))
        )


class Instructor(models.Model):
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=140, unique=True, allow_unicode=True)
    bio = models.TextField(_("bio"), blank=True)
    github_login = models.CharField(_("GitHub login"), max_length=39, unique=True, null=True, blank=True)
    homepage = models.URLField(_("homepage"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = InstructorQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("instructor")
        verbose_name_plural = _("instructors")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("instructor-detail", args=[self.slug])


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=40, unique=True)
    slug = models.SlugField(_("slug"), max_length=60, unique=True, allow_unicode=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class CourseQuerySet(models.QuerySet):
    def with_review_stats(self) -> "CourseQuerySet":
        """Annotated with `review_count` and `avg_rating` over published reviews, tags and instructors
        prefetched."""
        reviews = Review.objects.published().filter(course=OuterRef("pk"))
        return _with_review_stats(self, reviews, "course").prefetch_related("tags", "instructors")

    def providers(self) -> list[str]:
        """The distinct non-empty providers, sorted: the choices of every provider filter."""
        return list(
            self.exclude(provider="").order_by("provider").values_list("provider", flat=True).distinct()
        )


class Course(models.Model):
    class Level(models.TextChoices):
        BEGINNER = "beginner", _("Beginner")
        INTERMEDIATE = "intermediate", _("Intermediate")
        ADVANCED = "advanced", _("Advanced")

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=220, unique=True, allow_unicode=True)
    provider = models.CharField(_("provider"), max_length=60, blank=True, db_index=True)
    url = models.URLField(_("course URL"), blank=True)
    level = models.CharField(_("level"), max_length=20, choices=Level.choices, blank=True, db_index=True)
    description = models.TextField(_("description"), blank=True)
    repo_url = models.URLField(_("companion repository"), blank=True)
    tags = models.ManyToManyField(Tag, related_name="courses", blank=True, verbose_name=_("tags"))
    instructors = models.ManyToManyField(
        Instructor, related_name="courses", blank=True, verbose_name=_("instructors")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CourseQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        verbose_name = _("course")
        verbose_name_plural = _("courses")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("course-detail", args=[self.slug])


class ReviewQuerySet(models.QuerySet):
    def published(self) -> "ReviewQuerySet":
        return self.filter(status=Review.Status.PUBLISHED).order_by()

    def rating_summary(self) -> dict:
        """Average, count, 5→1 distribution and the six dimension averages of these reviews, in one query."""
        aggregates = {
            "average": Avg("rating"),
            "count": Count("pk"),
            **{f"stars_{stars}": Count("pk", filter=Q(rating=stars)) for stars in range(1, 6)},
        }
        for key in DIMENSION_KEYS:
            aggregates[f"{key}_avg"] = Avg(dimension_field(key))
            aggregates[f"{key}_count"] = Count(dimension_field(key))
        row = self.aggregate(**aggregates)
        count = row["count"]
        return {
            "average": row["average"],
            "count": count,
            "distribution": [
                {
                    "stars": stars,
                    "count": row[f"stars_{stars}"],
                    "percent": round(100 * row[f"stars_{stars}"] / count) if count else 0,
                }
                for stars in range(5, 0, -1)
            ],
            "dimensions": [
                {"key": key, "label": label, "average": row[f"{key}_avg"], "count": row[f"{key}_count"]}
                for key, label in DIMENSIONS
            ],
        }


def _rating_check(field: str, *, nullable: bool) -> models.CheckConstraint:
    condition = Q(**{f"{field}__gte": 1, f"{field}__lte": 5})
    if nullable:
        condition |= Q(**{f"{field}__isnull": True})
    return models.CheckConstraint(condition=condition, name=f"review_{field}_1_to_5")


class Review(models.Model):
    class Status(models.TextChoices):
        PUBLISHED = "published", _("Published")
        PENDING = "pending", _("Pending moderation")
        HIDDEN = "hidden", _("Hidden")

    class Source(models.TextChoices):
        WEB = "web", _("Website")
        API = "api", _("API")
        IMPORT = "import", _("Import")

    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="reviews", verbose_name=_("course")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reviews",
        verbose_name=_("author"),
    )
    external_id = models.CharField(_("external id"), max_length=100, unique=True, null=True, blank=True)
    rating = models.PositiveSmallIntegerField(_("overall rating"))
    dim_practice = models.PositiveSmallIntegerField(DIMENSIONS[0][1], null=True, blank=True)
    dim_concurrency = models.PositiveSmallIntegerField(DIMENSIONS[1][1], null=True, blank=True)
    dim_production = models.PositiveSmallIntegerField(DIMENSIONS[2][1], null=True, blank=True)
    dim_engineering = models.PositiveSmallIntegerField(DIMENSIONS[3][1], null=True, blank=True)
    dim_testing = models.PositiveSmallIntegerField(DIMENSIONS[4][1], null=True, blank=True)
    dim_delivery = models.PositiveSmallIntegerField(DIMENSIONS[5][1], null=True, blank=True)
    text = models.TextField(_("review"))
    # The MD5 of the text, kept by the database on every write (however the text changed): the signal runs
    # compare it with their cached clauses' hash instead of hashing every text on every run.
    text_hash = models.GeneratedField(
        expression=MD5("text"), output_field=models.CharField(max_length=32), db_persist=True
    )
    # Reviewer context (all optional): the first day of the month the course was taken, and so on.
    taken_on = models.DateField(_("taken in"), null=True, blank=True)
    finished = models.BooleanField(_("finished the course"), null=True, blank=True)
    weekly_hours = models.PositiveSmallIntegerField(_("hours a week"), null=True, blank=True)
    difficulty = models.PositiveSmallIntegerField(_("difficulty"), null=True, blank=True)
    would_recommend = models.BooleanField(_("would recommend"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PUBLISHED, db_index=True
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.WEB)
    helpful_count = models.PositiveIntegerField(_("helpful votes"), default=0)
    # Null for imported feedback whose export carries no date (it is not given the import's date: trends
    # would show a spike that never happened).
    created_at = models.DateTimeField(_("created"), db_index=True, null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ReviewQuerySet.as_manager()

    # Not stored: what the moderation queue attaches to each review it lists.
    findings: list[str]
    report_reasons: list[tuple[str | Promise, int]]

    class Meta:
        ordering = [F("created_at").desc(nulls_last=True), "-pk"]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        constraints = [
            _rating_check("rating", nullable=False),
            *[_rating_check(dimension_field(key), nullable=True) for key in DIMENSION_KEYS],
            _rating_check("difficulty", nullable=True),
            models.CheckConstraint(
                condition=Q(weekly_hours__isnull=True)
                | Q(weekly_hours__gte=1, weekly_hours__lte=WEEKLY_HOURS_MAX),
                name="review_weekly_hours_range",
            ),
            models.UniqueConstraint(
                fields=["author", "course"],
                condition=Q(author__isnull=False),
                name="review_one_per_author_course",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["published", "pending", "hidden"]), name="review_status_valid"
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("text"), settings.REVIEW_TEXT_MAX_CHARS)
                & GreaterThan(Length(Trim("text")), 0),
                name="review_text_length",
            ),
            # Dates before 1970 are placeholders, and the site's zone gives them local-mean-time offsets that
            # date code downstream cannot always handle; no write path stores one.
            models.CheckConstraint(
                condition=Q(created_at__isnull=True) | Q(created_at__gte=EARLIEST_REVIEW_DATE),
                name="review_created_at_from_1970",
            ),
        ]
        indexes = [models.Index(fields=["course", "status", "-created_at"], name="review_course_status_idx")]

    def __str__(self) -> str:
        return f"{self.course} · {self.rating}★"

    @property
    def dimensions(self) -> dict[str, int]:
        values = {key: getattr(self, dimension_field(key)) for key in DIMENSION_KEYS}
        return {key: value for key, value in values.items() if value is not None}

    @property
    def context(self) -> ReviewContext:
        return ReviewContext(
            taken=self.taken_on,
            finished=self.finished,
            weekly_hours=self.weekly_hours,
            difficulty=self.difficulty,
            would_recommend=self.would_recommend,
        )

    def is_editable_by(self, user) -> bool:
        return user.is_authenticated and self.author_id == user.pk


class ReviewRevision(models.Model):
    """One row per saved version of a review, so every edit can be traced."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="revisions")
    rating = models.PositiveSmallIntegerField()
    dimensions = models.JSONField(default=dict)
    # The reviewer context of this version, in the import/export format (ReviewContext.as_json).
    context = models.JSONField(default=dict, blank=True)
    text = models.TextField()
    edited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("review revision")
        verbose_name_plural = _("review revisions")

    def __str__(self) -> str:
        return f"{self.review_id} @ {self.created_at:%Y-%m-%d %H:%M}"


class ReviewVote(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_votes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("helpful vote")
        verbose_name_plural = _("helpful votes")
        constraints = [models.UniqueConstraint(fields=["user", "review"], name="vote_one_per_user_review")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.review_id}"


class ReviewReport(models.Model):
    class Reason(models.TextChoices):
        SPAM = "spam", _("Spam or advertising")
        ABUSE = "abuse", _("Abusive or offensive")
        OFF_TOPIC = "off_topic", _("Not about this course")
        FAKE = "fake", _("Looks fake or paid")
        OTHER = "other", _("Other")

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_reports"
    )
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices)
    detail = models.TextField(_("detail"), blank=True, max_length=1000)
    resolved = models.BooleanField(_("resolved"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("review report")
        verbose_name_plural = _("review reports")
        constraints = [
            models.UniqueConstraint(fields=["reporter", "review"], name="report_one_per_user_review")
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} · {self.review_id}"


# --- Moderation (trust) ----------------------------------------------------------------------------------


class ModerationEvent(models.Model):
    """One moderation step of a review: held by the automatic screening, or published / hidden by staff.

    Staff read this log on the moderation page; the author of a hidden review sees the latest reason.
    """

    class Action(models.TextChoices):
        HELD = "held", _("Held for moderation")
        PUBLISHED = "published", _("Published")
        HIDDEN = "hidden", _("Hidden")
        PENDING = "pending", _("Sent back to moderation")

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="moderation_events")
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)
    from_status = models.CharField(_("previous status"), max_length=12, choices=Review.Status.choices)
    reason = models.TextField(_("reason"), blank=True, max_length=1000)
    # Automatic screening: the rules that fired with their details ([{"rule": …, "detail": {…}}]).
    findings = models.JSONField(_("findings"), default=list, blank=True)
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("moderator"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("moderation event")
        verbose_name_plural = _("moderation events")

    def __str__(self) -> str:
        return f"{self.review_id}: {self.action}"

    @property
    def automatic(self) -> bool:
        return self.moderator_id is None


class ReviewWithdrawal(models.Model):
    """A learner deleted their own review while it was held or hidden. A new review of the same course by the
    same account then starts in the moderation queue: deleting and posting again must not skip moderation."""

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(_("status when deleted"), max_length=12, choices=Review.Status.choices)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("withdrawn moderated review")
        verbose_name_plural = _("withdrawn moderated reviews")
        indexes = [models.Index(fields=["author", "course"], name="withdrawal_author_course_idx")]

    def __str__(self) -> str:
        return f"{self.author_id} · {self.course_id} · {self.status}"
