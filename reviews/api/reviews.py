"""The review API: read, write (through reviews.services), vote and report."""

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Exists, F, OuterRef, Q, Value
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from reviews import privacy, services
from reviews.api.catalog import ordering_filter
from reviews.api.schemas import CONTEXT_SCHEMA, DIMENSIONS_SCHEMA, RATING_SCHEMA
from reviews.models import (
    Course,
    Review,
    ReviewReport,
    ReviewVote,
)
from reviews.validators import (
    validate_dimensions,
    validate_rating,
    validate_review_context,
    validate_review_text,
)


class _ValidatorField(serializers.Field):
    """A field whose cleaning is exactly one shared validator from reviews.validators."""

    validator = staticmethod(lambda value: value)

    def validate_empty_values(self, data):
        if data is None:  # let the validator explain what is missing, in its own words
            return False, data
        return super().validate_empty_values(data)

    def to_internal_value(self, data):
        # A Django ValidationError here becomes the field's errors (DRF's Serializer.to_internal_value).
        return type(self).validator(data)

    def to_representation(self, value):
        return value


@extend_schema_field(RATING_SCHEMA)
class RatingField(_ValidatorField):
    validator = staticmethod(validate_rating)


@extend_schema_field({"type": "string", "minLength": 1, "maxLength": 5000})
class ReviewTextField(_ValidatorField):
    validator = staticmethod(validate_review_text)


@extend_schema_field({**DIMENSIONS_SCHEMA, "nullable": True})
class DimensionsField(_ValidatorField):
    validator = staticmethod(validate_dimensions)  # null → no dimension rated


@extend_schema_field({**CONTEXT_SCHEMA, "nullable": True})
class ReviewContextField(_ValidatorField):
    validator = staticmethod(validate_review_context)  # null → nothing said

    def to_internal_value(self, data):
        return validate_review_context(data).as_json()


# --- Review serializers ----------------------------------------------------------------------------------


class ReviewSerializer(serializers.ModelSerializer):
    course: "serializers.SlugRelatedField[Course]" = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    course_title = serializers.CharField(source="course.title", read_only=True)
    author = serializers.SerializerMethodField(help_text="Author's user name; null for imported feedback.")
    dimensions = serializers.SerializerMethodField()
    # The metaclass takes declared fields off the class, so `self.context` stays the serializer's context.
    context = serializers.SerializerMethodField()  # type: ignore[assignment]
    is_mine = serializers.SerializerMethodField()
    voted_helpful = serializers.SerializerMethodField(help_text="Whether you marked this review helpful.")
    text = serializers.SerializerMethodField(
        help_text="The review's text; phone numbers, QQ / WeChat ids, e-mail addresses and ID card numbers "
        "are masked for everyone but its author."
    )
    moderation_note = serializers.SerializerMethodField(
        help_text="For the author of a review held for personal data: what to take out. Empty otherwise."
    )

    class Meta:
        model = Review
        fields = [
            "id",
            "course",
            "course_title",
            "author",
            "rating",
            "dimensions",
            "context",
            "text",
            "status",
            "source",
            "helpful_count",
            "voted_helpful",
            "is_mine",
            "moderation_note",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def _user(self):
        request = self.context.get("request")
        return getattr(request, "user", None)

    @extend_schema_field({"type": "string", "nullable": True})
    def get_author(self, review: Review) -> str | None:
        return review.author.get_username() if review.author else None

    @extend_schema_field(DIMENSIONS_SCHEMA)
    def get_dimensions(self, review: Review) -> dict:
        return review.dimensions

    def get_text(self, review: Review) -> str:
        return privacy.text_for(review, self._user())

    def get_moderation_note(self, review: Review) -> str:
        if review.status != Review.Status.PENDING or not self.get_is_mine(review):
            return ""
        return privacy.personal_data_note(privacy.held_for_personal_data(review))

    @extend_schema_field(CONTEXT_SCHEMA)
    def get_context(self, review: Review) -> dict:
        return review.context.as_json()

    def get_is_mine(self, review: Review) -> bool:
        user = self._user()
        return bool(user and review.is_editable_by(user))

    def get_voted_helpful(self, review: Review) -> bool:
        if hasattr(review, "voted_helpful"):
            return bool(review.voted_helpful)
        user = self._user()
        if not (user and user.is_authenticated):
            return False
        return ReviewVote.objects.filter(review=review, user=user).exists()


class CourseSlugField(serializers.SlugRelatedField):
    """A course by slug; a NUL character (which PostgreSQL refuses in a query) is a field error."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            raise serializers.ValidationError(_("The course contains a NUL character (\\x00)."))
        return super().to_internal_value(data)


class ReviewCreateSerializer(serializers.Serializer):
    """What a learner may send. status, author, helpful_count, source… are not fields, so they are ignored."""

    course = CourseSlugField(slug_field="slug", queryset=Course.objects.all())
    rating = RatingField()
    text = ReviewTextField()
    dimensions = DimensionsField(required=False)
    context = ReviewContextField(required=False)  # type: ignore[assignment]  # a field, not self.context


class ReviewUpdateSerializer(serializers.Serializer):
    """Fields left out keep their value; `dimensions`, when sent, replaces all six dimension ratings, and
    `context` the whole reviewer context."""

    rating = RatingField(required=False)
    text = ReviewTextField(required=False)
    dimensions = DimensionsField(required=False)
    context = ReviewContextField(required=False)  # type: ignore[assignment]  # a field, not self.context


class HelpfulVoteSerializer(serializers.Serializer):
    helpful_count = serializers.IntegerField()
    voted_helpful = serializers.BooleanField()


class ReviewReportCreateSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ReviewReport.Reason.choices)
    detail = serializers.CharField(
        required=False, allow_blank=True, max_length=services.REPORT_DETAIL_MAX_CHARS
    )


class ReviewReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReviewReport
        fields = ["id", "review", "reason", "detail", "created_at"]
        read_only_fields = fields


# --- Review views ----------------------------------------------------------------------------------------

# Undated (imported) reviews come last whichever way the dates are sorted.
_NEWEST = F("created_at").desc(nulls_last=True)
REVIEW_ORDERING = {
    "newest": [_NEWEST, "-pk"],
    "oldest": [F("created_at").asc(nulls_last=True), "pk"],
    "helpful": ["-helpful_count", _NEWEST, "-pk"],
    "rating_high": ["-rating", _NEWEST, "-pk"],
    "rating_low": ["rating", _NEWEST, "-pk"],
}


class WholeNumberFilter(filters.NumberFilter):
    """A number filter that refuses fractions (400) instead of matching nothing: ratings are whole stars."""

    field_class = forms.IntegerField


class _TrueOrFalseField(forms.NullBooleanField):
    def to_python(self, value):
        text = str(value).strip().lower() if value is not None else ""
        if text == "":
            return None
        if text in ("true", "1", "false", "0"):
            return text in ("true", "1")
        raise DjangoValidationError(_("Use true or false."), code="invalid")


class TrueOrFalseFilter(filters.BooleanFilter):
    """A yes/no filter that refuses anything but true/false (400) instead of ignoring it."""

    field_class = _TrueOrFalseField

    def __init__(self, *args, **kwargs) -> None:
        # The default widget reads anything but true/false as "not given"; the field judges the raw text.
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


class ReviewFilter(filters.FilterSet):
    course = filters.CharFilter(field_name="course__slug", label="Course slug.")
    instructor = filters.CharFilter(field_name="course__instructors__slug", label="Instructor slug.")
    rating = WholeNumberFilter(field_name="rating", label="Only reviews with this overall rating.")
    search = filters.CharFilter(method="filter_search", label="Words in the review text (as shown: masked).")
    mine = TrueOrFalseFilter(method="filter_mine", label="Only your own reviews (true) or others' (false).")
    finished = TrueOrFalseFilter(field_name="finished", label="Reviewers who finished the course (or not).")
    would_recommend = TrueOrFalseFilter(
        field_name="would_recommend", label="Reviewers who would recommend it (or not)."
    )
    difficulty = WholeNumberFilter(field_name="difficulty", label="Difficulty the reviewer gave, 1-5.")
    ordering = ordering_filter(
        REVIEW_ORDERING, "Sort: newest (default), oldest, helpful, rating_high, rating_low."
    )

    class Meta:
        model = Review
        fields = [
            "course",
            "instructor",
            "rating",
            "search",
            "mine",
            "finished",
            "would_recommend",
            "difficulty",
            "ordering",
        ]

    def filter_mine(self, queryset, name, value):
        user = self.request.user if self.request else None
        if not (user and user.is_authenticated):
            return queryset.none() if value else queryset
        return queryset.filter(author=user) if value else queryset.exclude(author=user)

    def filter_search(self, queryset, name, value):
        return privacy.text_search(queryset, value)

    def filter_ordering(self, queryset, name, value):
        return queryset.order_by(*REVIEW_ORDERING[value])


class IsAuthorOrReadOnly(permissions.BasePermission):
    """Only a review's author may change or delete it."""

    message = _("You can only change your own review.")

    def has_object_permission(self, request, view, obj):
        return request.method in permissions.SAFE_METHODS or obj.is_editable_by(request.user)


@extend_schema_view(
    list=extend_schema(summary="List published reviews (and your own), e.g. ?course=<slug>&ordering=helpful"),
    retrieve=extend_schema(summary="One review"),
    destroy=extend_schema(summary="Delete your own review"),
)
class ReviewViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    serializer_class = ReviewSerializer
    permission_classes = [permissions.IsAuthenticatedOrReadOnly, IsAuthorOrReadOnly]
    filterset_class = ReviewFilter

    def get_queryset(self):
        user = self.request.user
        visible = Q(status=Review.Status.PUBLISHED)
        voted = Value(False)
        if user.is_authenticated:
            visible |= Q(author=user)
            voted = Exists(ReviewVote.objects.filter(review=OuterRef("pk"), user=user))
        return (
            Review.objects.filter(visible)
            .select_related("course", "author")
            .annotate(voted_helpful=voted)
            .order_by(*REVIEW_ORDERING["newest"])
        )

    def _read(self, review: Review, status_code: int = status.HTTP_200_OK) -> Response:
        review = self.get_queryset().get(pk=review.pk)
        return Response(
            ReviewSerializer(review, context=self.get_serializer_context()).data, status=status_code
        )

    @extend_schema(
        summary="Write your review of a course (one per course)",
        request=ReviewCreateSerializer,
        responses={201: ReviewSerializer},
    )
    def create(self, request, *args, **kwargs):
        incoming = ReviewCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        review = services.review_submit(
            author=request.user,
            course=data["course"],
            rating=data["rating"],
            text=data["text"],
            dimensions=data.get("dimensions"),
            context=data.get("context"),
            source=Review.Source.API,
        )
        return self._read(review, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Edit your own review (a revision of every version is kept)",
        request=ReviewUpdateSerializer,
        responses={200: ReviewSerializer},
    )
    def partial_update(self, request, *args, **kwargs):
        review = self.get_object()
        incoming = ReviewUpdateSerializer(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        review = services.review_edit(
            review=review,
            editor=request.user,
            rating=data.get("rating", review.rating),
            text=data.get("text", review.text),
            dimensions=data.get("dimensions"),
            context=data.get("context"),
        )
        return self._read(review)

    def perform_destroy(self, instance):
        services.review_delete(review=instance, user=self.request.user)

    @extend_schema(
        methods=["POST"],
        summary="Mark a review as helpful",
        request=None,
        responses={200: HelpfulVoteSerializer},
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Take back your helpful vote",
        request=None,
        responses={200: HelpfulVoteSerializer},
    )
    @action(detail=True, methods=["post", "delete"], permission_classes=[permissions.IsAuthenticated])
    def helpful(self, request, pk=None):
        review = self.get_object()
        if request.method == "POST":
            review = services.review_vote_helpful(review=review, user=request.user)
        else:
            review = services.review_unvote_helpful(review=review, user=request.user)
        voted = ReviewVote.objects.filter(review=review, user=request.user).exists()
        return Response(
            HelpfulVoteSerializer({"helpful_count": review.helpful_count, "voted_helpful": voted}).data
        )

    @extend_schema(
        summary="Report an abusive or fake review to the moderators",
        request=ReviewReportCreateSerializer,
        responses={201: ReviewReportSerializer},
    )
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def report(self, request, pk=None):
        review = self.get_object()
        incoming = ReviewReportCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        report = services.review_report(
            review=review,
            reporter=request.user,
            reason=incoming.validated_data["reason"],
            detail=incoming.validated_data.get("detail", ""),
        )
        return Response(ReviewReportSerializer(report).data, status=status.HTTP_201_CREATED)
