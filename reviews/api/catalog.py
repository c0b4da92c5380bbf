"""The catalog API: courses and instructors with their review statistics (read-only)."""

from django.db.models import F, Q
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, viewsets

from reviews.api.schemas import AVERAGES_SCHEMA, DISTRIBUTION_SCHEMA, SLUG_IN_URL
from reviews.models import (
    Course,
    Instructor,
    Review,
    ReviewQuerySet,
    Tag,
)


def _review_summary(reviews: ReviewQuerySet) -> dict:
    summary = reviews.rating_summary()
    return {
        "dimension_averages": {
            item["key"]: None if item["average"] is None else round(item["average"], 2)
            for item in summary["dimensions"]
        },
        "rating_distribution": {
            str(item["stars"]): item["count"] for item in reversed(summary["distribution"])
        },
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


# --- Catalog serializers ---------------------------------------------------------------------------------


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["name", "slug"]


class InstructorSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Instructor
        fields = ["slug", "name", "github_login"]


class CourseSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Course
        fields = ["slug", "title", "provider", "level"]


class ReviewStatsMixin(serializers.Serializer):
    review_count = serializers.IntegerField(read_only=True, help_text="Published reviews.")
    avg_rating = serializers.SerializerMethodField(help_text="Average overall rating of published reviews.")

    @extend_schema_field({"type": "number", "format": "double", "nullable": True})
    def get_avg_rating(self, obj) -> float | None:
        return _rounded(obj.avg_rating)


class CourseListSerializer(ReviewStatsMixin, serializers.ModelSerializer):
    tags = TagSerializer(many=True, read_only=True)
    instructors = InstructorSummarySerializer(many=True, read_only=True)

    class Meta:
        model = Course
        fields = [
            "slug",
            "title",
            "provider",
            "level",
            "url",
            "tags",
            "instructors",
            "review_count",
            "avg_rating",
        ]


class CourseDetailSerializer(CourseListSerializer):
    dimension_averages = serializers.SerializerMethodField()
    rating_distribution = serializers.SerializerMethodField()

    class Meta(CourseListSerializer.Meta):
        fields = [
            *CourseListSerializer.Meta.fields,
            "description",
            "repo_url",
            "dimension_averages",
            "rating_distribution",
        ]

    def _summary(self, course: Course) -> dict:
        # Several fields read the summary: one query per course, shared through the request's context.
        summaries = self.context.setdefault("course_review_summaries", {})
        if course.pk not in summaries:
            summaries[course.pk] = _review_summary(Review.objects.published().filter(course=course))
        return summaries[course.pk]

    @extend_schema_field(AVERAGES_SCHEMA)
    def get_dimension_averages(self, course: Course) -> dict:
        return self._summary(course)["dimension_averages"]

    @extend_schema_field(DISTRIBUTION_SCHEMA)
    def get_rating_distribution(self, course: Course) -> dict:
        return self._summary(course)["rating_distribution"]


class InstructorListSerializer(ReviewStatsMixin, serializers.ModelSerializer):
    course_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Instructor
        fields = ["slug", "name", "github_login", "homepage", "course_count", "review_count", "avg_rating"]


class InstructorDetailSerializer(InstructorListSerializer):
    courses = CourseSummarySerializer(many=True, read_only=True)
    dimension_averages = serializers.SerializerMethodField()

    class Meta(InstructorListSerializer.Meta):
        fields = [*InstructorListSerializer.Meta.fields, "bio", "courses", "dimension_averages"]

    @extend_schema_field(AVERAGES_SCHEMA)
    def get_dimension_averages(self, instructor: Instructor) -> dict:
        return _review_summary(Review.objects.published().filter(course__instructors=instructor))[
            "dimension_averages"
        ]


# --- Catalog views ---------------------------------------------------------------------------------------

COURSE_ORDERING: dict[str, list] = {
    "title": ["title"],
    "rating": [F("avg_rating").desc(nulls_last=True), "title"],
    "reviews": ["-review_count", "title"],
    "newest": ["-created_at"],
}
INSTRUCTOR_ORDERING: dict[str, list] = {
    "name": ["name"],
    "rating": [F("avg_rating").desc(nulls_last=True), "name"],
    "reviews": ["-review_count", "name"],
}


def ordering_filter(choices: dict[str, list], help_text: str) -> filters.ChoiceFilter:
    return filters.ChoiceFilter(
        choices=[(key, key) for key in choices],
        method="filter_ordering",
        label=help_text,
    )


class CourseFilter(filters.FilterSet):
    provider = filters.CharFilter(field_name="provider", label="Provider, e.g. 极客时间 (exact).")
    level = filters.ChoiceFilter(field_name="level", choices=Course.Level.choices)
    tag = filters.CharFilter(field_name="tags__slug", label="Tag slug.")
    instructor = filters.CharFilter(field_name="instructors__slug", label="Instructor slug.")
    search = filters.CharFilter(
        method="filter_search", label="Words in the title, description or instructor."
    )
    ordering = ordering_filter(COURSE_ORDERING, "Sort: title (default), rating, reviews or newest.")

    class Meta:
        model = Course
        fields = ["provider", "level", "tag", "instructor", "search", "ordering"]

    def filter_search(self, queryset, name, value):
        matching = Course.objects.filter(
            Q(title__icontains=value)
            | Q(description__icontains=value)
            | Q(instructors__name__icontains=value)
        )
        return queryset.filter(pk__in=matching.values("pk"))

    def filter_ordering(self, queryset, name, value):
        return queryset.order_by(*COURSE_ORDERING[value])


class InstructorFilter(filters.FilterSet):
    search = filters.CharFilter(field_name="name", lookup_expr="icontains", label="Words in the name.")
    course = filters.CharFilter(field_name="courses__slug", label="Course slug.")
    ordering = ordering_filter(INSTRUCTOR_ORDERING, "Sort: name (default), rating or reviews.")

    class Meta:
        model = Instructor
        fields = ["search", "course", "ordering"]

    def filter_ordering(self, queryset, name, value):
        return queryset.order_by(*INSTRUCTOR_ORDERING[value])


@extend_schema_view(
    list=extend_schema(summary="List courses with their review count and average rating"),
    retrieve=extend_schema(summary="One course with dimension averages and rating distribution"),
)
class CourseViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_field = "slug"
    lookup_value_regex = SLUG_IN_URL
    filterset_class = CourseFilter

    def get_queryset(self):
        return Course.objects.with_review_stats()

    def get_serializer_class(self):
        return CourseDetailSerializer if self.action == "retrieve" else CourseListSerializer


@extend_schema_view(
    list=extend_schema(summary="List instructors with course and review counts"),
    retrieve=extend_schema(summary="One instructor with courses and dimension averages"),
)
class InstructorViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_field = "slug"
    lookup_value_regex = SLUG_IN_URL
    filterset_class = InstructorFilter

    def get_queryset(self):
        queryset = Instructor.objects.with_review_stats()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("courses")
        return queryset

    def get_serializer_class(self):
        return InstructorDetailSerializer if self.action == "retrieve" else InstructorListSerializer


# --- Review input fields (shared validators) -------------------------------------------------------------
