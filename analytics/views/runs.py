"""Signal extraction runs (staff): start one, watch its progress, list past runs."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from analytics import reports
from analytics.forms import SignalRunStartForm
from analytics.models import SignalRun
from analytics.services import signal_runs
from analytics.views.common import report_errors
from courselens.auth import staff_required


@require_POST
@staff_required
def signal_run_start(request: HttpRequest) -> HttpResponse:
    form = SignalRunStartForm(request.POST)
    if not form.is_valid():
        report_errors(request, form.errors)
        return redirect(reverse("signals-dashboard") + "#run-panel")
    try:
        run, created = signal_runs.signal_run_start(
            parameters=form.parameters() or None, requested_by=request.user
        )
    except ValidationError as error:
        report_errors(request, error)
        return redirect(reverse("signals-dashboard") + "#run-panel")
    if created:
        messages.success(request, _("Run #%(id)s is queued.") % {"id": run.pk})
    else:
        messages.info(request, _("Run #%(id)s is already in progress; watching it.") % {"id": run.pk})
    return redirect(reverse("signals-dashboard") + "#run-panel")


@require_GET
@staff_required
def signal_run_progress(request: HttpRequest, pk: int) -> JsonResponse:
    run = get_object_or_404(SignalRun, pk=pk)
    return JsonResponse(reports.RunProgress(run).as_dict(), headers={"Cache-Control": "no-store"})


@require_GET
@staff_required
def signal_run_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(SignalRun.objects.order_by("-created_at"), 25).get_page(request.GET.get("page"))
    page.object_list = with_durations(list(page.object_list))
    return render(
        request,
        "analytics/signals/runs.html",
        {"page": page, "active_run": SignalRun.objects.active().first()},
    )


def with_durations(runs):
    for run in runs:
        run.duration = reports.run_duration(run)
        run.changed_parameters = reports.changed_parameters(run.parameters)
    return runs
