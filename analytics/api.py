from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import reports, services
from analytics.models import SignalCluster, SignalRun
from reviews.models import Review

# --- Signals and runs (staff only) --------------------------------------------------------------------


class SignalKeywordSerializer(serializers.Serializer):
    term = serializers.CharField()
    weight = serializers.FloatField()


class SignalExampleSerializer(serializers.ModelSerializer):
    review_id = serializers.IntegerField(source="pk")
    course = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = ["review_id", "external_id", "course", "rating", "text", "created_at", "status", "url"]

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

    @extend_schema_field(OpenApiTypes.FLOAT)
    def get_duration_seconds(self, run: SignalRun) -> float | None:
        duration = reports.run_duration(run)
        return round(duration.total_seconds(), 3) if duration is not None else None

    def get_stalled(self, run: SignalRun) -> bool:
        return reports.RunProgress(run).stalled


class SignalReportSerializer(serializers.Serializer):
    run = SignalRunSerializer(allow_null=True)
    signals = SignalSerializer(many=True)


class SignalRunStartSerializer(serializers.Serializer):
    parameters = serializers.DictField(
        required=False, help_text="Optional run parameters; omitted ones take the pipeline's defaults."
    )


class SignalListView(APIView):
    """The current report: every signal of the last successful run, ranked by share of complaints."""

    permission_classes = [permissions.IsAdminUser]

    @extend_schema(responses=SignalReportSerializer, operation_id="signals_list")
    def get(self, request):
        run = reports.current_run()
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
        active_before = set(
            SignalRun.objects.filter(status__in=reports.ACTIVE_RUN_STATUSES).values_list("pk", flat=True)
        )
        try:
            run = services.signal_run_start(
                parameters=payload.validated_data.get("parameters") or None, requested_by=request.user
            )
        except DjangoValidationError as error:
            raise ValidationError(
                error.message_dict if hasattr(error, "error_dict") else {"parameters": error.messages}
            ) from error
        already_running = run.pk in active_before
        return Response(
            SignalRunSerializer(run).data,
            status=status.HTTP_200_OK if already_running else status.HTTP_202_ACCEPTED,
            headers={"Location": reverse("signal-run-detail", args=[run.pk])},
        )
