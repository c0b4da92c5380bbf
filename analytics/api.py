from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, mixins, permissions, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import clauses, ranking_cache, reports
from analytics import guide as guide_reports
from analytics.models import (
    CourseScore,
    CourseScoreQuerySet,
    InstructorScore,
    InstructorScoreQuerySet,
    SignalCluster,
    SignalRun,
)
from analytics.services import signal_runs
from analytics.signals import Parameters
from analytics.templatetags.rankings import signal_name
from reviews import pii
from reviews.models import Course, Review, Tag

# --- Signals and runs (staff only) --------------------------------------------------------------------


class SignalKeywordSerializer(serializers.Serializer):
    term = serializers.CharField()
    weight = serializers.FloatField()


class SignalExampleSerializer(serializers.ModelSerializer):
    review_id = serializers.IntegerField(source="pk")
    course: "serializers.SlugRelatedField[Course]" = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    url = serializers.SerializerMethodField()
    text = serializers.SerializerMethodField(help_text="The review's text, personal data masked.")

    class Meta:
        model = Review
        fields = ["review_id", "external_id", "course", "rating", "text", "created_at", "status", "url"]

    def get_text(self, review: Review) -> str:
        return pii.mask(review.text)

    def get_url(self, review: Review) -> str:
        return f"{review.course.get_absolute_url()}#review-{review.pk}"


class SignalSerializer(serializers.ModelSerializer):
    key = serializers.CharField(source="definition.key", default=None, allow_null=True)
    definition_id = serializers.IntegerField(source="definition.pk", default=None, allow_null=True)
    name = serializers.CharField()
    name_zh = serializers.CharField(source="definition.name_zh", default="")
    name_en = serializers.CharField(source="definition.name_en", default="")
    description = serializers.CharField(source="definition.description", default="")
    status = serializers.ChoiceField(choices=["seeded", "discovered", "confirmed", "dismissed"])
    merged_into = serializers.CharField(source="definition.merged_into.key", default=None, allow_null=True)
    keywords = SignalKeywordSerializer(source="chips", many=True)
    examples = SignalExampleSerializer(source="quotes", many=True)

    class Meta:
        model = SignalCluster
        fields = [
            "id",
            "run",
            "key",
            "definition_id",
            "name",
            "name_zh",
            "name_en",
            "description",
            "status",
            "merged_into",
            "keywords",
            "size",
            "share",
            "lift",
            "examples",
        ]


class SignalRunSerializer(serializers.ModelSerializer):
    duration_seconds = serializers.SerializerMethodField()
    stalled = serializers.SerializerMethodField()

    class Meta:
        model = SignalRun
        fields = [
            "id",
            "status",
            "is_current",
            "progress",
            "step",
            "parameters",
            "counts",
            "timings",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "heartbeat_at",
            "duration_seconds",
            "stalled",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "number", "format": "double", "nullable": True})  # null until it finishes
    def get_duration_seconds(self, run: SignalRun) -> float | None:
        duration = reports.run_duration(run)
        return round(duration.total_seconds(), 3) if duration is not None else None

    def get_stalled(self, run: SignalRun) -> bool:
        return reports.RunProgress(run).stalled


class SignalReportSerializer(serializers.Serializer):
    run = SignalRunSerializer(allow_null=True)
    signals = SignalSerializer(many=True)


def _parameters_schema() -> dict:
    """The run parameters as Parameters.from_mapping accepts them: known names only, non-negative numbers,
    shares and similarities at most 1, counts at most a million, the seed 32-bit."""
    properties: dict[str, dict] = {}
    for name, default in Parameters().as_dict().items():
        if isinstance(default, int):
            maximum = 2**32 - 1 if name == "seed" else 1_000_000
            properties[name] = {"type": "integer", "minimum": 0, "maximum": maximum}
        else:
            properties[name] = {"type": "number", "minimum": 0, "maximum": 1}
    return {"type": "object", "properties": properties, "additionalProperties": False}


@extend_schema_field(_parameters_schema())
class RunParametersField(serializers.DictField):
    pass


class SignalRunStartSerializer(serializers.Serializer):
    parameters = RunParametersField(
        required=False, help_text="Optional run parameters; omitted ones take the pipeline's defaults."
    )


class SignalListView(APIView):
    """The current report: every signal of the last successful run, ranked by share of complaints."""

    permission_classes = [permissions.IsAdminUser]

    @extend_schema(responses=SignalReportSerializer, operation_id="signals_list")
    def get(self, request):
        run = SignalRun.objects.current().first()
        clusters = reports.run_clusters(run) if run else []
        return Response(SignalReportSerializer({"run": run, "signals": clusters}).data)


class SignalRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Extraction runs, newest first. `GET /api/signal-runs/{id}/` is the progress of one run."""

    permission_classes = [permissions.IsAdminUser]
    serializer_class = SignalRunSerializer
    queryset = SignalRun.objects.order_by("-created_at")

    @extend_schema(
        request=SignalRunStartSerializer,
        responses={
            202: OpenApiResponse(SignalRunSerializer, description="A new run was queued."),
            200: OpenApiResponse(
                SignalRunSerializer,
                description="A run was already queued or running: nothing new was started; this is that run.",
            ),
            400: OpenApiResponse(description="Invalid parameters."),
        },
    )
    def create(self, request):
        """Start an extraction run (only one runs at a time)."""
        payload = SignalRunStartSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        run, created = signal_runs.signal_run_start(
            parameters=payload.validated_data.get("parameters") or None, requested_by=request.user
        )
        return Response(
            SignalRunSerializer(run).data,
            status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK,
            headers={"Location": reverse("signal-run-detail", args=[run.pk])},
        )


# --- Rankings (public, evidence & ranking) ---------------------------------------------------------------


def _to_100(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


class RankingSignalSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField(help_text="In the request's language.")
    share = serializers.FloatField(
        help_text="Share of this instructor's/course's reviews with the signal (0–1)."
    )


class InstructorRankingComponentsSerializer(serializers.Serializer):
    learner = serializers.FloatField(help_text="Smoothed learner rating mapped to 0–100.")
    evidence = serializers.FloatField(help_text="GitHub evidence percentile, 0–100 (0 without evidence).")
    signal_burden = serializers.FloatField(
        allow_null=True, help_text="Smoothed share of reviews with a failure signal, 0–100, lower is better."
    )


class CourseRankingComponentsSerializer(serializers.Serializer):
    learner = serializers.FloatField(help_text="Smoothed learner rating mapped to 0–100.")
    signal_burden = serializers.FloatField(
        allow_null=True, help_text="Smoothed share of reviews with a failure signal, 0–100, lower is better."
    )


class _RankingRowSerializer(serializers.ModelSerializer):
    total = serializers.SerializerMethodField(help_text="Score out of 100 (weighted sum of the components).")
    weights = serializers.SerializerMethodField()
    smoothed_rating = serializers.SerializerMethodField()
    top_signal = serializers.SerializerMethodField()

    def get_total(self, score) -> float | None:
        return _to_100(score.total)

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "number"}})
    def get_weights(self, score) -> dict:
        return score.breakdown.get("weights", {})

    def get_smoothed_rating(self, score) -> float | None:
        return score.breakdown.get("learner", {}).get("smoothed_rating")

    @extend_schema_field(RankingSignalSerializer(allow_null=True))
    def get_top_signal(self, score) -> dict | None:
        signals = score.breakdown.get("top_signals") or []
        if not signals:
            return None
        return {"key": signals[0]["key"], "name": signal_name(signals[0]), "share": signals[0]["share"]}


class InstructorRankingSerializer(_RankingRowSerializer):
    slug = serializers.CharField(source="instructor.slug")
    name = serializers.CharField(source="instructor.name")
    url = serializers.CharField(source="instructor.get_absolute_url")
    components = serializers.SerializerMethodField()
    has_github_evidence = serializers.SerializerMethodField()

    class Meta:
        model = InstructorScore
        fields = [
            "rank",
            "slug",
            "name",
            "url",
            "total",
            "components",
            "weights",
            "smoothed_rating",
            "review_count",
            "enough_data",
            "has_github_evidence",
            "top_signal",
            "computed_at",
        ]

    @extend_schema_field(InstructorRankingComponentsSerializer)
    def get_components(self, score) -> dict:
        return {
            "learner": _to_100(score.learner),
            "evidence": _to_100(score.evidence),
            "signal_burden": _to_100(score.signal_burden),
        }

    def get_has_github_evidence(self, score) -> bool:
        return bool(score.breakdown.get("evidence", {}).get("has_evidence"))


class CourseRankingSerializer(_RankingRowSerializer):
    slug = serializers.CharField(source="course.slug")
    title = serializers.CharField(source="course.title")
    provider = serializers.CharField(source="course.provider")
    url = serializers.CharField(source="course.get_absolute_url")
    components = serializers.SerializerMethodField()

    class Meta:
        model = CourseScore
        fields = [
            "rank",
            "slug",
            "title",
            "provider",
            "url",
            "total",
            "components",
            "weights",
            "smoothed_rating",
            "review_count",
            "enough_data",
            "top_signal",
            "computed_at",
        ]

    @extend_schema_field(CourseRankingComponentsSerializer)
    def get_components(self, score) -> dict:
        return {"learner": _to_100(score.learner), "signal_burden": _to_100(score.signal_burden)}


class InstructorRankingQuerySerializer(serializers.Serializer):
    tag = serializers.CharField(
        required=False, allow_blank=True, max_length=60, help_text="Topic (tag slug)."
    )
    provider = serializers.CharField(required=False, allow_blank=True, max_length=60)
    sort = serializers.ChoiceField(choices=list(InstructorScoreQuerySet.SORTS), default="score")


class CourseRankingQuerySerializer(InstructorRankingQuerySerializer):
    level = serializers.ChoiceField(choices=Course.Level.values, required=False, allow_blank=True)
    sort = serializers.ChoiceField(choices=list(CourseScoreQuerySet.SORTS), default="score")


class _RankingListView(generics.ListAPIView):
    permission_classes = [permissions.AllowAny]
    query_serializer_class: type[serializers.Serializer]
    filters: dict = {}  # set per request in list(); empty for schema generation

    def list(self, request, *args, **kwargs):
        query = self.query_serializer_class(data=request.query_params)
        query.is_valid(raise_exception=True)
        self.filters = {key: value for key, value in query.validated_data.items() if value}
        # Rankings change only when scores are recomputed: each page of rows is built once per score version.
        parts = [request.get_host(), *(f"{key}={value}" for key, value in sorted(self.filters.items()))]
        parts.append(f"page={request.query_params.get('page', '1')[:6]}")
        data = ranking_cache.cached_fragment(
            f"api-{self.serializer_class.__name__}",
            parts,
            lambda: dict(super(_RankingListView, self).list(request).data),
        )
        return Response(data)


@extend_schema(parameters=[InstructorRankingQuerySerializer], tags=["rankings"])
class InstructorRankingList(_RankingListView):
    """Instructors in ranking order ("not enough data" rows last, rank null); constant queries."""

    serializer_class = InstructorRankingSerializer
    query_serializer_class = InstructorRankingQuerySerializer

    def get_queryset(self):
        return InstructorScore.objects.ranking(**self.filters)


@extend_schema(parameters=[CourseRankingQuerySerializer], tags=["rankings"])
class CourseRankingList(_RankingListView):
    """Courses in ranking order ("not enough data" rows last, rank null); constant queries."""

    serializer_class = CourseRankingSerializer
    query_serializer_class = CourseRankingQuerySerializer

    def get_queryset(self):
        return CourseScore.objects.ranking(**self.filters)


# --- Public failure-signal guide --------------------------------------------------------------------


class GuideTagSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class GuideRunSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    finished_at = serializers.DateTimeField(allow_null=True)


class GuideTrendSerializer(serializers.Serializer):
    months = serializers.ListField(child=serializers.CharField(), help_text="YYYY-MM, oldest first")
    shares = serializers.ListField(
        child=serializers.FloatField(allow_null=True),
        help_text="Percent of the month's reviews showing the signal; null for a month without reviews.",
    )
    counts = serializers.ListField(child=serializers.IntegerField())
    totals = serializers.ListField(child=serializers.IntegerField())


class GuideQuoteSerializer(serializers.Serializer):
    review_id = serializers.IntegerField(source="review.pk")
    text = serializers.SerializerMethodField(help_text="The review's text, personal data masked.")
    rating = serializers.IntegerField(source="review.rating")
    created_at = serializers.DateTimeField(source="review.created_at", allow_null=True)
    clause = serializers.SerializerMethodField(
        help_text="The complaint clause of the text that put the review in this signal, when known."
    )
    course = serializers.CharField(source="review.course.slug")
    course_title = serializers.CharField(source="review.course.title")
    url = serializers.SerializerMethodField()

    def get_clause(self, quote) -> str:
        # Stored as the clause's content words; the reader wants the words as the learner wrote them.
        words = (quote.cluster.quote_clauses or {}).get(str(quote.review.pk), "")
        span = clauses.locate(quote.review.text, words.split()) if words else None
        return pii.mask(quote.review.text)[span[0] : span[1]] if span else ""

    def get_text(self, quote) -> str:
        return pii.mask(quote.review.text)

    def get_url(self, quote) -> str:
        return f"{quote.review.course.get_absolute_url()}#review-{quote.review.pk}"


class GuideCourseShareSerializer(serializers.Serializer):
    course = serializers.CharField(source="course.slug")
    title = serializers.CharField(source="course.title")
    url = serializers.CharField(source="course.get_absolute_url")
    count = serializers.IntegerField()
    total = serializers.IntegerField()
    share = serializers.FloatField()


class GuideSignalSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField(source="definition.status")
    description = serializers.CharField()
    check_hint = serializers.CharField(help_text="How to spot the signal before buying a course.")
    count = serializers.IntegerField(help_text="Reviews showing the signal.")
    total = serializers.IntegerField(help_text="Published reviews the guide covers.")
    share = serializers.FloatField(help_text="count / total")
    trend = GuideTrendSerializer()
    quotes = GuideQuoteSerializer(many=True)
    most_common = GuideCourseShareSerializer(many=True)
    least_common = GuideCourseShareSerializer(many=True)


class GuideInstructorSerializer(serializers.Serializer):
    instructor = serializers.CharField(source="instructor.slug")
    name = serializers.CharField(source="instructor.name")
    url = serializers.CharField(source="instructor.get_absolute_url")
    evidence = serializers.FloatField(
        source="score.evidence", help_text="Evidence percentile among instructors with GitHub evidence, 0–1."
    )
    total = serializers.FloatField(source="score.total", allow_null=True)
    github_url = serializers.CharField()
    figures = serializers.DictField(help_text="GitHub figures of the last good evidence snapshot.")


class PublicGuideSerializer(serializers.Serializer):
    tag = GuideTagSerializer(allow_null=True)
    run = GuideRunSerializer(
        allow_null=True, help_text="The signal run the guide reads; null before the first."
    )
    total_reviews = serializers.IntegerField()
    signal_count = serializers.SerializerMethodField()
    method_url = serializers.SerializerMethodField()
    min_course_reviews = serializers.IntegerField(
        help_text="Courses with fewer published reviews are never named most or least affected."
    )
    signals = GuideSignalSerializer(many=True)
    instructors = GuideInstructorSerializer(many=True)

    def get_signal_count(self, guide) -> int:
        return len(guide.signals)

    def get_method_url(self, guide) -> str:
        return reverse("how-we-rank")


class GuideView(APIView):
    """The failure-signal guide for all courses: what the current run found, with how to spot each
    signal before buying, its share, monthly trend, quotes, most and least affected courses, and the
    instructors with the strongest verified practice."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=PublicGuideSerializer, operation_id="guide_all", tags=["guide"])
    def get(self, request):
        return Response(PublicGuideSerializer(guide_reports.cached_guide()).data)


class TagGuideView(APIView):
    """The failure-signal guide for the courses of one tag (by slug); 404 for an unknown tag."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=PublicGuideSerializer, operation_id="guide_by_tag", tags=["guide"])
    def get(self, request, tag: str):
        chosen = get_object_or_404(Tag, slug=tag)
        return Response(PublicGuideSerializer(guide_reports.cached_guide(tag=chosen)).data)
