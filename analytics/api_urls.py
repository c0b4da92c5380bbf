from django.urls import include, path
from rest_framework.routers import SimpleRouter

from analytics import api

# --- Signals and runs (staff only) ---
signal_router = SimpleRouter()
signal_router.register("signal-runs", api.SignalRunViewSet, basename="signal-run")

urlpatterns = [
    path("signals/", api.SignalListView.as_view(), name="api-signals"),
    path("", include(signal_router.urls)),
    # --- Rankings (public) ---
    path("rankings/instructors/", api.InstructorRankingList.as_view(), name="api-rankings-instructors"),
    path("rankings/courses/", api.CourseRankingList.as_view(), name="api-rankings-courses"),
    # --- Failure-signal guide (public) ---
    path("guide/", api.GuideView.as_view(), name="api-guide"),
    path("guide/<str:tag>/", api.TagGuideView.as_view(), name="api-guide-tag"),
]
