from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found


class PermissionsPolicyMiddleware:
    """Sets the Permissions-Policy header (settings.PERMISSIONS_POLICY): no page needs camera, location…"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class RejectNulMiddleware:
    """A NUL character in the path or query string can never name anything here, and PostgreSQL refuses it
    in text (a 500 from deep in a query); answer 400 up front instead."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            return bad_request_response(request, _("The address contains a NUL character (%00)."))
        return self.get_response(request)


def bad_request_response(request: HttpRequest, detail: str) -> HttpResponse:
    """400: JSON {"detail": …} under /api/, the site's 400 page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": detail}, status=400)
    return HttpResponseBadRequest(loader.get_template("400.html").render())


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400 (oversized bodies, too many fields, bad Host…): the site's page, JSON under /api/."""
    return bad_request_response(request, _("The request is malformed or too large."))


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: JSON under /api/ (an address no API route matches), the site's 404 page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return page_not_found(request, exception)
