from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    # Without CSRF: a forged request could only switch a visitor's language, and a token in the switch would
    # be the one per-visitor part of the shared, cached anonymous pages (analytics/ranking_cache.py).
    path("i18n/setlang/", csrf_exempt(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    path("accounts/", include("reviews.account_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file (CSP: no inline scripts); only its
    # template's small inline <style> needs an exception, on this page alone.
    path(
        "api/docs/",
        csp_update({"style-src": [SELF, UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="schema")
        ),
        name="api-docs",
    ),
    path("api/", include("reviews.api_urls")),
    path("api/", include("analytics.api_urls")),
    path("", include("analytics.urls")),
    path("", include("reviews.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.STATIC_URL, document_root=settings.STATIC_ROOT)

# A lost database connection is answered with a 503 "temporarily unavailable" page (courselens/resilience.py).
handler500 = "courselens.resilience.server_error"
handler400 = "courselens.middleware.bad_request"
handler404 = "courselens.middleware.not_found"
