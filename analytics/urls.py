from django.urls import path
from django.views.generic import RedirectView

from analytics.views import compare, dashboard, evidence, follows, guide, health, rankings, runs, taxonomy

urlpatterns = [
    # --- Signals dashboard (staff) ---
    path("signals/", dashboard.signals_dashboard, name="signals-dashboard"),
    path("signals/clusters/<int:pk>/", dashboard.signal_detail, name="signals-detail"),
    path("signals/definitions/<int:pk>/confirm/", taxonomy.signal_confirm, name="signals-confirm"),
    path("signals/definitions/<int:pk>/dismiss/", taxonomy.signal_dismiss, name="signals-dismiss"),
    path("signals/definitions/<int:pk>/promote/", taxonomy.signal_promote, name="signals-promote"),
    path("signals/definitions/<int:pk>/rename/", taxonomy.signal_rename, name="signals-rename"),
    path("signals/definitions/<int:pk>/merge/", taxonomy.signal_merge, name="signals-merge"),
    path("signals/definitions/<int:pk>/terms/", taxonomy.signal_terms, name="signals-terms"),
    path("signals/runs/", runs.signal_run_list, name="signals-runs"),
    path("signals/runs/start/", runs.signal_run_start, name="signals-run-start"),
    path("signals/runs/<int:pk>/progress/", runs.signal_run_progress, name="signals-run-progress"),
    # --- Rankings, comparison, how we rank (evidence & ranking) ---
    path("rankings/", RedirectView.as_view(pattern_name="rankings-instructors"), name="rankings"),
    path("rankings/instructors/", rankings.rankings_instructors, name="rankings-instructors"),
    path("rankings/courses/", rankings.rankings_courses, name="rankings-courses"),
    path("rankings/how/", rankings.how_we_rank, name="how-we-rank"),
    path("compare/", compare.compare, name="compare"),
    path("courses/<str:slug>/repo-audit/", evidence.repo_audit_rerun, name="repo-audit-rerun"),
    path("compare/courses/", compare.compare_courses, name="compare-courses"),
    path(
        "staff/instructors/<slug:slug>/github/",
        evidence.instructor_github_link,
        name="instructor-github-link",
    ),
    path(
        "staff/instructors/<slug:slug>/github/status/",
        evidence.instructor_github_status,
        name="instructor-github-status",
    ),
    # --- Following courses and instructors, and notifications ---
    path("follow/<str:kind>/<str:slug>/", follows.follow_toggle, name="follow"),
    path("following/", follows.following, name="following"),
    path("notifications/", follows.notifications, name="notifications"),
    # --- Public failure-signal guide ---
    path("guide/", guide.guide, name="guide"),
    path("guide/<str:tag>/", guide.guide, name="guide-tag"),
    path("healthz/", health.healthz, name="healthz"),
]
