"""The staff signals dashboard: the current run's signals, trend and figures, and one signal's members."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from analytics import reports
from analytics.forms import SignalRunStartForm, live_definitions, merge_targets
from analytics.models import ReviewSignal, SignalCluster, SignalDefinition, SignalRun
from analytics.views.runs import with_durations
from courselens.auth import staff_required


@require_GET
@staff_required
def signals_dashboard(request: HttpRequest) -> HttpResponse:
    run = SignalRun.objects.current().first()
    clusters = reports.run_clusters(run) if run else []
    listed = [cluster for cluster in clusters if cluster.status != SignalDefinition.Status.DISMISSED]
    dismissed = [cluster for cluster in clusters if cluster.status == SignalDefinition.Status.DISMISSED]
    targets = list(live_definitions()) if clusters else []
    for cluster in clusters:
        cluster.merge_choices = [target for target in targets if target.pk != cluster.definition_id]
    history = list(SignalRun.objects.order_by("-created_at")[:8])
    active = SignalRun.objects.active().first()
    return render(
        request,
        "analytics/signals/dashboard.html",
        {
            "run": run,
            "clusters": listed,
            "dismissed": dismissed,
            "trend": reports.monthly_trend(run, clusters) if run else {"months": [], "series": []},
            "active_run": active,
            "active_run_stalled": bool(active and reports.RunProgress(active).stalled),
            "history": with_durations(history),
            "has_more_history": SignalRun.objects.count() > len(history),
            "counts": _run_counts(run),
            "start_form": SignalRunStartForm(),
        },
    )


@require_GET
@staff_required
def signal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    cluster = get_object_or_404(
        SignalCluster.objects.select_related("run", "definition", "definition__merged_into"), pk=pk
    )
    reports.decorate_cluster(cluster)
    members = (
        ReviewSignal.objects.filter(cluster=cluster)
        .select_related("review", "review__course", "review__author")
        .order_by("-score", "-review__created_at", "pk")
    )
    page = Paginator(members, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "analytics/signals/detail.html",
        {
            "cluster": cluster,
            "run": cluster.run,
            "page": page,
            "by_course": reports.cluster_breakdown(cluster, by="course")[:30],
            "by_instructor": reports.cluster_breakdown(cluster, by="instructor")[:30],
            "trend": reports.cluster_trend(cluster),
            "merge_choices": merge_targets(cluster.definition) if cluster.definition else [],
        },
    )


STAT_CARD_COUNTS = (
    "reviews",
    "complaints",
    "assigned",
    "unassigned",
    "discovered",
    "noise",
    "rating_mismatch",
    "undated",
)


def _run_counts(run: SignalRun | None) -> dict:
    """The current run's headline figures for the stat cards; the run table lists all of them."""
    counts = run.counts if run is not None else {}
    return {key: counts[key] for key in STAT_CARD_COUNTS if isinstance(counts.get(key), int | float)}
