import logging

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from analytics.models import (
    CourseRepository,
    CourseScore,
    EvidenceSnapshot,
    InstructorEvidence,
    InstructorScore,
    RepoAudit,
    ReviewSignal,
    ReviewTokens,
    SignalAssigner,
    SignalCluster,
    SignalDefinition,
    SignalRun,
)
from analytics.services import evidence, repo_audit, taxonomy

logger = logging.getLogger(__name__)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the pipeline: staff inspect them here, they never edit them by hand."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# --- Signals -------------------------------------------------------------------------------------------


@admin.register(SignalDefinition)
class SignalDefinitionAdmin(admin.ModelAdmin):
    list_display = ["key", "name_zh", "name_en", "status", "merged_into", "updated_at"]
    list_filter = ["status"]
    search_fields = ["key", "name_zh", "name_en", "description", "description_en"]
    list_select_related = ["merged_into"]
    autocomplete_fields = ["merged_into"]
    readonly_fields = ["created_at", "updated_at"]
    fields = [
        "key",
        "name_zh",
        "name_en",
        "description",
        "description_en",
        "check_hint",
        "check_hint_en",
        "seed_terms",
        "status",
        "merged_into",
        "created_at",
        "updated_at",
    ]
    actions = ["confirm_signals", "dismiss_signals"]

    def _apply(self, request, queryset, service, done_message) -> None:
        done = 0
        for definition in queryset:
            try:
                service(definition=definition)
            except ValidationError as error:
                self.message_user(request, f"{definition}: {'; '.join(error.messages)}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, done_message(done), messages.SUCCESS)

    @admin.action(description=_("Confirm the selected signals"))
    def confirm_signals(self, request, queryset) -> None:
        self._apply(
            request,
            queryset,
            taxonomy.signal_confirm,
            lambda n: ngettext("%(n)d signal confirmed.", "%(n)d signals confirmed.", n) % {"n": n},
        )

    @admin.action(description=_("Dismiss the selected signals"))
    def dismiss_signals(self, request, queryset) -> None:
        self._apply(
            request,
            queryset,
            taxonomy.signal_dismiss,
            lambda n: ngettext("%(n)d signal dismissed.", "%(n)d signals dismissed.", n) % {"n": n},
        )


@admin.register(SignalRun)
class SignalRunAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "status",
        "is_current",
        "progress",
        "step",
        "created_at",
        "started_at",
        "finished_at",
    ]
    list_filter = ["status", "is_current"]
    readonly_fields = [
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
    ]
    exclude = ["report"]
    date_hierarchy = "created_at"


@admin.register(SignalCluster)
class SignalClusterAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "run", "definition", "size", "share", "lift"]
    list_filter = ["run__is_current", "definition__status"]
    list_select_related = ["run", "definition"]
    search_fields = ["label", "definition__key", "definition__name_zh"]
    raw_id_fields = ["representative_reviews"]


@admin.register(ReviewSignal)
class ReviewSignalAdmin(ReadOnlyAdmin):
    list_display = ["review", "cluster", "run", "score"]
    list_filter = ["run__is_current"]
    list_select_related = ["review__course", "cluster__definition", "run"]
    raw_id_fields = ["review", "cluster", "run"]


@admin.register(ReviewTokens)
class ReviewTokensAdmin(ReadOnlyAdmin):
    list_display = ["review", "complaint", "rating", "pipeline", "updated_at"]
    raw_id_fields = ["review"]


@admin.register(SignalAssigner)
class SignalAssignerAdmin(ReadOnlyAdmin):
    """The compact model a run leaves for assigning new reviews; its payload is too large to show."""

    list_display = ["run", "cluster_count"]
    list_select_related = ["run"]
    exclude = ["payload"]
    readonly_fields = ["run", "cluster_count"]

    @admin.display(description=_("clusters"))
    def cluster_count(self, assigner: SignalAssigner) -> int:
        return len(assigner.payload.get("clusters", []))


# --- Evidence and rankings -----------------------------------------------------------------------------


@admin.register(EvidenceSnapshot)
class EvidenceSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["instructor", "source", "status", "fetched_at", "checked_at", "error"]
    list_filter = ["status", "source"]
    list_select_related = ["instructor"]
    search_fields = ["instructor__name", "instructor__github_login"]
    date_hierarchy = "fetched_at"


@admin.action(description=_("Refresh GitHub evidence"))
def refresh_evidence(modeladmin, request, queryset):
    """Queues one refresh per linked instructor (spaced out for GitHub's rate limit)."""
    selected = list(queryset.values_list("pk", flat=True))
    try:
        queued = evidence.evidence_refresh_request(instructor_ids=selected)
    except Exception:  # broker down: say so instead of a 500; nothing was half-done
        logger.exception("could not queue evidence refreshes")
        modeladmin.message_user(request, _("Could not queue the refresh; try again shortly."), messages.ERROR)
        return
    unlinked = len(selected) - queued
    modeladmin.message_user(
        request,
        ngettext(
            "Queued a GitHub evidence refresh for %(count)d instructor.",
            "Queued a GitHub evidence refresh for %(count)d instructors.",
            queued,
        )
        % {"count": queued},
        messages.SUCCESS,
    )
    if unlinked:
        modeladmin.message_user(
            request,
            ngettext(
                "%(count)d selected instructor has no GitHub login and was skipped.",
                "%(count)d selected instructors have no GitHub login and were skipped.",
                unlinked,
            )
            % {"count": unlinked},
            messages.WARNING,
        )


@admin.register(InstructorEvidence)
class InstructorEvidenceAdmin(admin.ModelAdmin):
    """Link instructors to GitHub logins and refresh their evidence; shows the last refresh and its error."""

    list_display = ["name", "github_login", "last_status", "last_refreshed", "last_error"]
    list_editable = ["github_login"]
    list_display_links = ["name"]
    search_fields = ["name", "slug", "github_login"]
    fields = ["name", "github_login"]
    readonly_fields = ["name"]
    actions = [refresh_evidence]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        latest = EvidenceSnapshot.objects.filter(instructor=OuterRef("pk")).order_by("-fetched_at", "-pk")
        return (
            super()
            .get_queryset(request)
            .annotate(
                evidence_status=Subquery(latest.values("status")[:1]),
                evidence_fetched_at=Subquery(latest.values("fetched_at")[:1]),
                evidence_error=Subquery(latest.values("error")[:1]),
            )
        )

    @admin.display(description=_("last refresh"), ordering="evidence_status")
    def last_status(self, obj) -> str:
        return obj.evidence_status or "—"

    @admin.display(description=_("refreshed at"), ordering="evidence_fetched_at")
    def last_refreshed(self, obj):
        return obj.evidence_fetched_at

    @admin.display(description=_("error"))
    def last_error(self, obj) -> str:
        return obj.evidence_error or ""


@admin.action(description=_("Run the repository check"))
def run_repo_audit(modeladmin, request, queryset):
    """Queues one repository check per selected course that has a companion repository."""
    course_ids = list(queryset.values_list("course_id" if queryset.model is RepoAudit else "pk", flat=True))
    try:
        queued = repo_audit.repo_audit_request(course_ids=course_ids)
    except Exception:  # broker down: say so instead of a 500; nothing was half-done
        logger.exception("could not queue repository checks")
        modeladmin.message_user(request, _("Could not queue the check; try again shortly."), messages.ERROR)
        return
    modeladmin.message_user(
        request,
        ngettext(
            "Queued a repository check for %(count)d course.",
            "Queued a repository check for %(count)d courses.",
            queued,
        )
        % {"count": queued},
        messages.SUCCESS,
    )
    if skipped := len(course_ids) - queued:
        modeladmin.message_user(
            request,
            ngettext(
                "%(count)d selected course has no companion repository and was skipped.",
                "%(count)d selected courses have no companion repository and were skipped.",
                skipped,
            )
            % {"count": skipped},
            messages.WARNING,
        )


@admin.register(RepoAudit)
class RepoAuditAdmin(ReadOnlyAdmin):
    list_display = ["course", "source", "status", "score", "audited_at", "checked_at", "error"]
    list_filter = ["status"]
    list_select_related = ["course"]
    search_fields = ["course__title", "course__slug", "source"]
    actions = [run_repo_audit]


@admin.register(CourseRepository)
class CourseRepositoryAdmin(admin.ModelAdmin):
    """Set courses' companion repositories and (re)run their checks; shows the last check and its error."""

    list_display = ["title", "repo_url", "audit_status", "audit_score", "audit_checked_at", "audit_error"]
    list_editable = ["repo_url"]
    list_display_links = ["title"]
    list_select_related = ["repo_audit"]
    search_fields = ["title", "slug", "repo_url"]
    fields = ["title", "repo_url"]
    readonly_fields = ["title"]
    actions = [run_repo_audit]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.URLField):
            kwargs["assume_scheme"] = "https"  # a repository URL typed without a scheme is GitHub's https
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def _audit(self, obj) -> RepoAudit | None:
        return getattr(obj, "repo_audit", None)

    @admin.display(description=_("last check"))
    def audit_status(self, obj) -> str:
        audit = self._audit(obj)
        return audit.status if audit else "—"

    @admin.display(description=_("score"))
    def audit_score(self, obj) -> str:
        audit = self._audit(obj)
        return f"{round(100 * audit.score)}" if audit and audit.score is not None else "—"

    @admin.display(description=_("checked at"))
    def audit_checked_at(self, obj):
        audit = self._audit(obj)
        return audit.checked_at if audit else None

    @admin.display(description=_("error"))
    def audit_error(self, obj) -> str:
        audit = self._audit(obj)
        return audit.error if audit else ""


@admin.register(InstructorScore)
class InstructorScoreAdmin(ReadOnlyAdmin):
    list_display = [
        "instructor",
        "rank",
        "total",
        "learner",
        "evidence",
        "signal_burden",
        "enough_data",
        "computed_at",
    ]
    list_filter = ["enough_data"]
    list_select_related = ["instructor"]
    search_fields = ["instructor__name"]


@admin.register(CourseScore)
class CourseScoreAdmin(ReadOnlyAdmin):
    list_display = ["course", "rank", "total", "learner", "signal_burden", "enough_data", "computed_at"]
    list_filter = ["enough_data"]
    list_select_related = ["course"]
    search_fields = ["course__title"]
