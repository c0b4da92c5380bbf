"""Staff actions on the signal taxonomy: confirm, dismiss, promote, rename, edit seed terms, merge."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from analytics import reports
from analytics.forms import SignalMergeForm, SignalRenameForm, SignalTermsForm
from analytics.models import SignalDefinition
from analytics.services import taxonomy
from analytics.views.common import report_errors
from courselens.auth import staff_required


def _signal_redirect(request: HttpRequest):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("signals-dashboard")


@require_POST
@staff_required
def signal_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    definition = get_object_or_404(SignalDefinition, pk=pk)
    try:
        taxonomy.signal_confirm(definition=definition)
    except ValidationError as error:
        report_errors(request, error)
    else:
        messages.success(
            request, _("“%(name)s” is confirmed.") % {"name": reports.definition_name(definition)}
        )
    return _signal_redirect(request)


@require_POST
@staff_required
def signal_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    definition = get_object_or_404(SignalDefinition, pk=pk)
    try:
        taxonomy.signal_dismiss(definition=definition)
    except ValidationError as error:
        report_errors(request, error)
    else:
        messages.success(
            request,
            _("“%(name)s” is dismissed: it is no longer shown on public pages.")
            % {"name": reports.definition_name(definition)},
        )
    return _signal_redirect(request)


def _apply_naming_form(request: HttpRequest, pk: int, service, success: str) -> HttpResponse:
    """Promote and rename both take the naming form and call one service with its fields."""
    definition = get_object_or_404(SignalDefinition, pk=pk)
    form = SignalRenameForm(request.POST)
    if not form.is_valid():
        report_errors(request, form.errors)
        return _signal_redirect(request)
    try:
        service(definition=definition, **form.cleaned_data)
    except ValidationError as error:
        report_errors(request, error)
    else:
        messages.success(request, success % {"name": reports.definition_name(definition)})
    return _signal_redirect(request)


@require_POST
@staff_required
def signal_promote(request: HttpRequest, pk: int) -> HttpResponse:
    return _apply_naming_form(
        request, pk, taxonomy.signal_promote, _("“%(name)s” is now a confirmed signal.")
    )


@require_POST
@staff_required
def signal_rename(request: HttpRequest, pk: int) -> HttpResponse:
    return _apply_naming_form(request, pk, taxonomy.signal_rename, _("Renamed to “%(name)s”."))


@require_POST
@staff_required
def signal_terms(request: HttpRequest, pk: int) -> HttpResponse:
    definition = get_object_or_404(SignalDefinition, pk=pk)
    form = SignalTermsForm(request.POST)
    if not form.is_valid():
        report_errors(request, form.errors)
        return _signal_redirect(request)
    try:
        taxonomy.signal_edit_terms(definition=definition, **form.cleaned_data)
    except ValidationError as error:
        report_errors(request, error)
    else:
        messages.success(
            request,
            _("Seed terms of “%(name)s” saved; the next run assigns reviews by them.")
            % {"name": reports.definition_name(definition)},
        )
    return _signal_redirect(request)


@require_POST
@staff_required
def signal_merge(request: HttpRequest, pk: int) -> HttpResponse:
    definition = get_object_or_404(SignalDefinition, pk=pk)
    form = SignalMergeForm(request.POST, definition=definition)
    if not form.is_valid():
        report_errors(request, form.errors)
        return _signal_redirect(request)
    into = form.cleaned_data["into"]
    try:
        taxonomy.signal_merge(definition=definition, into=into)
    except ValidationError as error:
        report_errors(request, error)
    else:
        messages.success(
            request,
            _("“%(name)s” is merged into “%(into)s”.")
            % {"name": reports.definition_name(definition), "into": reports.definition_name(into)},
        )
    return _signal_redirect(request)
