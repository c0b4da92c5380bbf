"""Liveness for load balancers."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers and the ranking benchmark's baseline: no database, no templates."""
    return HttpResponse("ok", content_type="text/plain")
