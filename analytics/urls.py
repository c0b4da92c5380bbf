from django.urls import path
from django.views.generic import RedirectView

from analytics import views

urlpatterns = [
    # --- Signals dashboard (staff) ---
    path("signals/", views.signals_dashboard, name="signals-dashboard"),
    path("signals/clusters/<int:pk>/", views.signal_detail, name="signals-detail"),
    path("signals/definitions/<int:pk>/confirm/", views.signal_confirm, name="signals-confirm"),
    path("signals/definitions/<int:pk>/dismiss/", views.signal_dismiss, name="signals-dismiss"),
    path("signals/definitions/<int:pk>/promote/", views.signal_promote, name="signals-promote"),
    path("signals/definitions/<int:pk>/rename/", views.signal_rename, name="signals-rename"),
    path("signals/definitions/<int:pk>/merge/", views.signal_merge, name="signals-merge"),
    path("signals/definitions/<int:pk>/terms/", views.signal_terms, name="signals-terms"),
    path("signals/runs/", views.signal_run_list, name="signals-runs"),
    path("signals/runs/start/", views.signal_run_start, name="signals-run-start"),
    path("signals/runs/<int:pk>/progress/", views.signal_run_progress, name="signals-run-progress"),
    # --- Rankings, comparison, how we rank (evidence & ranking) ---
    path("rankings/", RedirectView.as_view(pattern_name="rankings-instructors"), name="rankings"),
    path("rankings/instructors/", views.rankings_instructors, name="rankings-instructors"),
    path("rankings/courses/", views.rankings_courses, name="rankings-courses"),
    path("rankings/how/", views.how_we_rank, name="how-we-rank"),
    path("compare/", views.compare, name="compare"),
    path("courses/<str:slug>/repo-audit/", views.repo_audit_rerun, name="repo-audit-rerun"),
    path("compare/courses/", views.compare_courses, name="compare-courses"),
    path(
        "staff/instructors/<slug:slug>/github/", views.instructor_github_link, name="instructor-github-link"
    ),
    path(
        "staff/instructors/<slug:slug>/github/status/",
        views.instructor_github_status,
        name="instructor-github-status",
    ),
    # --- Public failure-signal guide ---
    path("guide/", views.guide, name="guide"),
    path("guide/<str:tag>/", views.guide, name="guide-tag"),
    path("healthz/", views.healthz, name="healthz"),
]
