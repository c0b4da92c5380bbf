import logging
from collections.abc import Callable
from typing import TypedDict

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from analytics import guide as guide_reports
from analytics import ranking_cache, reports
from analytics.forms import (
    GitHubLinkForm,
    SignalMergeForm,
    SignalRenameForm,
    SignalRunStartForm,
    SignalTermsForm,
    live_definitions,
    merge_targets,
)
from analytics.models import (
    CourseScore,
    EvidenceSnapshot,
    InstructorScore,
    ReviewSignal,
    SignalCluster,
    SignalDefinition,
    SignalRun,
)
from analytics.scoring import EVIDENCE_FIGURES, RECENCY_HORIZON_MONTHS, RECENCY_WEIGHT
from analytics.services import repo_audit, signal_runs, taxonomy
from analytics.services.evidence import evidence_refresh_request
from analytics.templatetags.rankings import EVIDENCE_REQUESTS_SESSION_KEY, github_refresh_state, radar_payload
from courselens.auth import staff_required
from reviews.models import DIMENSIONS, Course, Instructor, Tag

logger = logging.getLogger(__name__)

logger = logging.getLogger(__name__)

# --- Signals dashboard (staff) ---------------------------------------------------------------------


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
            "history": _with_durations(history),
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


def _signal_redirect(request: HttpRequest):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("signals-dashboard")


def _report_errors(request: HttpRequest, error: ValidationError | dict) -> None:
    if isinstance(error, ValidationError):
        error = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
    for messages_ in error.values():
        for message in messages_:
            messages.error(request, message)


@require_POST
@staff_required
def signal_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    definition = get_object_or_404(SignalDefinition, pk=pk)
    try:
        taxonomy.signal_confirm(definition=definition)
    except ValidationError as error:
        _report_errors(request, error)
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
        _report_errors(request, error)
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
        _report_errors(request, form.errors)
        return _signal_redirect(request)
    try:
        service(definition=definition, **form.cleaned_data)
    except ValidationError as error:
        _report_errors(request, error)
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
        _report_errors(request, form.errors)
        return _signal_redirect(request)
    try:
        taxonomy.signal_edit_terms(definition=definition, **form.cleaned_data)
    except ValidationError as error:
        _report_errors(request, error)
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
        _report_errors(request, form.errors)
        return _signal_redirect(request)
    into = form.cleaned_data["into"]
    try:
        taxonomy.signal_merge(definition=definition, into=into)
    except ValidationError as error:
        _report_errors(request, error)
    else:
        messages.success(
            request,
            _("“%(name)s” is merged into “%(into)s”.")
            % {"name": reports.definition_name(definition), "into": reports.definition_name(into)},
        )
    return _signal_redirect(request)


@require_POST
@staff_required
def signal_run_start(request: HttpRequest) -> HttpResponse:
    form = SignalRunStartForm(request.POST)
    if not form.is_valid():
        _report_errors(request, form.errors)
        return redirect(reverse("signals-dashboard") + "#run-panel")
    try:
        run, created = signal_runs.signal_run_start(
            parameters=form.parameters() or None, requested_by=request.user
        )
    except ValidationError as error:
        _report_errors(request, error)
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
    page.object_list = _with_durations(list(page.object_list))
    return render(
        request,
        "analytics/signals/runs.html",
        {"page": page, "active_run": SignalRun.objects.active().first()},
    )


def _with_durations(runs):
    for run in runs:
        run.duration = reports.run_duration(run)
        run.changed_parameters = reports.changed_parameters(run.parameters)
    return runs


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


# --- Rankings, comparison, how we rank (evidence & ranking) ---------------------------------------------

RANKING_PAGE_SIZE = 50
COMPARE_MIN, COMPARE_MAX = 2, 4
INSTRUCTOR_SORTS = [
    ("score", gettext_lazy("Score")),
    ("learner", gettext_lazy("Learner rating")),
    ("evidence", gettext_lazy("Engineering evidence")),
    ("signals", gettext_lazy("Fewest failure signals")),
    ("reviews", gettext_lazy("Most reviews")),
]
COURSE_SORTS = [item for item in INSTRUCTOR_SORTS if item[0] != "evidence"]


def _ranking_filters(request: HttpRequest, sorts: list, *, levels: bool = False) -> dict[str, str]:
    """The filter values a ranking page understands, normalised (unknown sort → score)."""
    params = {
        "tag": request.GET.get("tag", "").strip()[:60],
        "provider": request.GET.get("provider", "").strip()[:60],
        "sort": request.GET.get("sort", "score"),
    }
    if params["sort"] not in dict(sorts):
        params["sort"] = "score"
    if levels:
        level = request.GET.get("level", "")
        params["level"] = level if level in Course.Level.values else ""
    return params


def _filter_choices() -> dict:
    return {
        "tags": list(Tag.objects.order_by("name").values_list("slug", "name")),
        "providers": Course.objects.providers(),
    }


def _page_number(request: HttpRequest) -> str:
    """The requested page as the paginator reads it ("" for the first page): anything else is page 1."""
    page = request.GET.get("page", "")
    if not page.isdigit() or len(page) > 6 or int(page) == 1:
        return ""
    return str(int(page))


def _ranking_page(request: HttpRequest, *, kind: str, params: dict, table_context: Callable[[], dict]):
    """A ranking page: the table rendered once per score version and filters, the whole page once per
    version and normalised filters for anonymous visitors (analytics/ranking_cache.py); constant queries on
    a miss. A tag or provider the site does not list (yet) is rendered without caching."""
    filters = {**params, "page": _page_number(request)}
    parts = [f"{key}={value}" for key, value in sorted(filters.items())]

    def choices() -> dict:
        return ranking_cache.cached_fragment("filter-choices", [], _filter_choices)

    def known() -> bool:
        listed = choices()
        return (not params["tag"] or params["tag"] in {slug for slug, _name in listed["tags"]}) and (
            not params["provider"] or params["provider"] in listed["providers"]
        )

    def render_table() -> str:
        version = ranking_cache.scores_version()
        context = {"params": params, "has_scores": version != "none", **choices(), **table_context()}
        context["page"] = Paginator(context.pop("rows"), RANKING_PAGE_SIZE).get_page(filters["page"] or 1)
        return render_to_string(f"analytics/rankings/_{kind}_table.html", context, request=request)

    def render_page(page_request: HttpRequest, extra: dict) -> str:
        table = ranking_cache.cached_fragment(kind, parts, render_table) if known() else render_table()
        # Our own rendered template: every value in it was escaped when it was rendered.
        context = {"body": mark_safe(table), "nav_section": "rankings", "tab": f"{kind}s", **extra}
        return render_to_string(f"analytics/rankings/{kind}s.html", context, request=page_request)

    cached = ranking_cache.cached_page(request, kind, filters, render_page, cacheable=known)
    return cached or HttpResponse(render_page(request, {}))


@require_GET
def rankings_instructors(request: HttpRequest) -> HttpResponse:
    """Instructor ranking with filters and sorting; "not enough data" rows last."""
    params = _ranking_filters(request, INSTRUCTOR_SORTS)
    return _ranking_page(
        request,
        kind="instructor",
        params=params,
        table_context=lambda: {
            "rows": InstructorScore.objects.ranking(**params),
            "sorts": INSTRUCTOR_SORTS,
            "weights": settings.SCORE_WEIGHTS,
        },
    )


@require_GET
def rankings_courses(request: HttpRequest) -> HttpResponse:
    """Course ranking: smoothed learner rating and failure-signal burden."""
    params = _ranking_filters(request, COURSE_SORTS, levels=True)
    return _ranking_page(
        request,
        kind="course",
        params=params,
        table_context=lambda: {
            "rows": CourseScore.objects.ranking(**params).prefetch_related("course__instructors"),
            "sorts": COURSE_SORTS,
            "levels": Course.Level.choices,
            "weights": {key: value for key, value in settings.SCORE_WEIGHTS.items() if key != "evidence"},
        },
    )


@require_GET
def how_we_rank(request: HttpRequest) -> HttpResponse:
    weights = settings.SCORE_WEIGHTS
    weight_sum = sum(weights.values()) or 1.0
    return render(
        request,
        "analytics/how_we_rank.html",
        {
            "weights": {key: round(100 * value / weight_sum) for key, value in weights.items()},
            "prior_weight": settings.SCORE_PRIOR_WEIGHT,
            "burden_prior_weight": settings.SCORE_BURDEN_PRIOR_WEIGHT,
            "min_reviews": settings.SCORE_MIN_REVIEWS,
            "half_life_days": settings.SCORE_RECENCY_HALF_LIFE_DAYS,
            "star_cap": settings.GITHUB_STAR_CAP_PER_REPO,
            "allowlist": settings.GITHUB_ALLOWLIST,
            "evidence_figures": [
                {"name": name, "cap": cap, "weight": round(100 * weight)}
                for name, (cap, weight) in EVIDENCE_FIGURES.items()
            ],
            "recency_weight": round(100 * RECENCY_WEIGHT),
            "recency_horizon": RECENCY_HORIZON_MONTHS,
            "course_weights": _percentages(
                {
                    **{key: weights.get(key, 0.0) for key in ("learner", "signal_burden")},
                    "repository": settings.SCORE_REPOSITORY_WEIGHT,
                }
            ),
            "participation_cap": settings.GITHUB_PARTICIPATION_CAP,
            "maintained_min_stars": settings.GITHUB_MAINTAINED_MIN_STARS,
            "nav_section": "rankings",
        },
    )


def _percentages(weights: dict[str, float]) -> dict[str, int]:
    total = sum(weights.values()) or 1.0
    return {key: round(100 * value / total) for key, value in weights.items()}


# --- Public failure-signal guide (避雷手册) ------------------------------------------------------------


GUIDE_TAGS_SHOWN = 12


@require_GET
def guide(request: HttpRequest, tag: str = "") -> HttpResponse:
    """All courses (`/guide/`) or one tag's courses (`/guide/go/`), from the current run and scores."""
    chosen = get_object_or_404(Tag, slug=tag) if tag else None
    return render(
        request,
        "analytics/guide.html",
        {
            "guide": guide_reports.cached_guide(tag=chosen),
            "tags": Tag.objects.annotate(courses_count=Count("courses"))
            .filter(courses_count__gt=0)
            # The topics with the most courses; the rest are one URL away (/guide/<tag>/).
            .order_by("-courses_count", "name")[:GUIDE_TAGS_SHOWN],
            "nav_section": "guide",
        },
    )


def _compare_slugs(request: HttpRequest, parameter: str = "instructors") -> list[str]:
    """`?instructors=a,b` or repeated `?instructors=a&instructors=b` (the picker's checkboxes)."""
    slugs = [slug.strip() for value in request.GET.getlist(parameter) for slug in value.split(",")]
    return list(dict.fromkeys(slug for slug in slugs if slug))


# --- GitHub evidence from the instructor page (staff) -------------------------------------------------------


@require_POST
@staff_required
def instructor_github_link(request: HttpRequest, slug: str) -> HttpResponse:
    """Link (or re-link) an instructor to a GitHub login and queue an evidence refresh straight away."""
    instructor = get_object_or_404(Instructor, slug=slug)
    back = f"{instructor.get_absolute_url()}#github-title"
    form = GitHubLinkForm(request.POST)
    if not form.is_valid():
        _report_errors(request, form.errors)
        return redirect(back)
    login = form.cleaned_data["github_login"]
    Instructor.objects.filter(pk=instructor.pk).update(github_login=login)
    try:
        evidence_refresh_request(instructor_ids=[instructor.pk], spacing_seconds=0)
    except Exception:  # broker down: the link stays, the staff member is told to start the refresh again
        logger.exception("could not queue the evidence refresh of %s", instructor.slug)
        messages.error(
            request,
            _("Linked to %(login)s, but the refresh could not be started; try again shortly.")
            % {"login": login},
        )
        return redirect(back)
    requested = request.session.get(EVIDENCE_REQUESTS_SESSION_KEY, {})
    requested[str(instructor.pk)] = timezone.now().isoformat()
    request.session[EVIDENCE_REQUESTS_SESSION_KEY] = requested
    messages.success(
        request, _("Linked to GitHub account %(login)s; fetching its evidence now.") % {"login": login}
    )
    return redirect(back)


@require_GET
@staff_required
def instructor_github_status(request: HttpRequest, slug: str) -> HttpResponse:
    """The refresh status panel alone: the instructor page polls it (htmx) until the refresh has finished."""
    instructor = get_object_or_404(Instructor, slug=slug)
    return render(
        request,
        "analytics/partials/_github_refresh_status.html",
        {"instructor": instructor, "refresh": github_refresh_state(instructor, request)},
    )


@require_GET
def compare(request: HttpRequest) -> HttpResponse:
    """Two to four instructors side by side; a clear 400 for more than four or unknown slugs.

    One instructor (the "compare with…" link on their page) opens the picker with them already ticked.
    """
    slugs = _compare_slugs(request)
    if len(request.GET.getlist("instructors")) > 1 and COMPARE_MIN <= len(slugs) <= COMPARE_MAX:
        return redirect(f"{reverse('compare')}?{urlencode({'instructors': ','.join(slugs)})}")
    errors: list[str] = []
    if len(slugs) > COMPARE_MAX:
        errors.append(
            _("You can compare at most four instructors at once (you picked %(count)d).")
            % {"count": len(slugs)}
        )
    instructors: dict[str, Instructor] = {}
    if slugs and not errors:
        instructors = {i.slug: i for i in Instructor.objects.filter(slug__in=slugs)}
        unknown = [slug for slug in slugs if slug not in instructors]
        if unknown:
            errors.append(_("No instructor with the slug: %(slugs)s.") % {"slugs": ", ".join(unknown)})
    context: dict = {"errors": errors, "slugs": slugs, "nav_section": "compare"}
    if errors or len(slugs) < COMPARE_MIN:
        ranked = InstructorScore.objects.ranking()
        suggestions = list(ranked.filter(rank__isnull=False)[:12])
        if len(slugs) == 1 and not errors:
            context["picked"] = instructors[slugs[0]]
            context["picked_unscored"] = all(score.instructor.slug != slugs[0] for score in suggestions)
            if context["picked_unscored"]:
                scored = list(ranked.filter(instructor__slug=slugs[0]))
                context["picked_unscored"] = not scored
                suggestions = [*scored, *suggestions]
        context["suggestions"] = suggestions
        return render(request, "analytics/compare.html", context, status=400 if errors else 200)

    scores = {
        score.instructor_id: score
        for score in InstructorScore.objects.filter(instructor__in=instructors.values())
    }
    snapshots = {
        snapshot.instructor_id: snapshot
        for snapshot in EvidenceSnapshot.objects.current().filter(instructor__in=instructors.values())
    }
    columns: list[CompareColumn] = [
        {
            "instructor": instructor,
            "score": scores.get(instructor.pk),
            "snapshot": snapshots.get(instructor.pk),
        }
        for instructor in (instructors[slug] for slug in slugs)
    ]
    scored = [column for column in columns if column["score"]]
    context["columns"] = columns
    context["rows"] = _compare_rows(columns)
    context["radar"] = radar_payload(
        [column["score"] for column in scored], names=[column["instructor"].name for column in scored]
    )
    return render(request, "analytics/compare.html", context)


class CompareColumn(TypedDict):
    """One compared instructor, with the score and evidence the page shows."""

    instructor: Instructor
    score: InstructorScore | None
    snapshot: EvidenceSnapshot | None


def _compare_rows(columns: list[CompareColumn]) -> list[dict]:
    """One row per compared figure: each instructor's value, the best one marked."""

    def score_value(field: str):
        return lambda column: getattr(column["score"], field) if column["score"] else None

    def breakdown_value(*path: str):
        def read(column):
            value = column["score"].breakdown if column["score"] else None
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            return value

        return read

    def figure(name: str):
        return lambda column: (column["snapshot"].figures or {}).get(name) if column["snapshot"] else None

    def ranked(column):
        return column["score"].rank if column["score"] else None

    specs = [
        (_("Rank"), ranked, "rank", False),
        (_("Score"), score_value("total"), "score", True),
        (_("Learner rating (adjusted)"), breakdown_value("learner", "smoothed_rating"), "stars", True),
        (_("Reviews"), score_value("review_count"), "int", True),
        (_("Engineering evidence (percentile)"), score_value("evidence"), "percent", True),
        (_("Failure-signal burden"), score_value("signal_burden"), "percent_sign", False),
        (_("Stars on own Go repositories"), figure("go_stars"), "int", True),
        (_("Own Go repositories"), figure("go_repos"), "int", True),
        (_("Commits to golang/go"), figure("golang_go_commits"), "int", True),
        (_("Merged PRs to major Go projects"), figure("allowlist_merged_prs"), "int", True),
        (_("Followers"), figure("followers"), "int", True),
        (_("Months since last public activity"), figure("months_since_activity"), "months", False),
    ]
    return _best_marked(columns, specs)


@require_GET
def compare_courses(request: HttpRequest) -> HttpResponse:
    """Two to four courses side by side: score parts, teaching dimensions and failure signals."""
    slugs = _compare_slugs(request, "courses")
    if len(request.GET.getlist("courses")) > 1 and COMPARE_MIN <= len(slugs) <= COMPARE_MAX:
        return redirect(f"{reverse('compare-courses')}?{urlencode({'courses': ','.join(slugs)})}")
    errors: list[str] = []
    if len(slugs) > COMPARE_MAX:
        errors.append(
            _("You can compare at most four courses at once (you picked %(count)d).") % {"count": len(slugs)}
        )
    courses: dict[str, Course] = {}
    if slugs and not errors:
        courses = {course.slug: course for course in Course.objects.filter(slug__in=slugs)}
        if unknown := [slug for slug in slugs if slug not in courses]:
            errors.append(_("No course with the slug: %(slugs)s.") % {"slugs": ", ".join(unknown)})
    context: dict = {"errors": errors, "slugs": slugs, "nav_section": "compare"}
    if errors or len(slugs) < COMPARE_MIN:
        ranked = CourseScore.objects.ranking()
        suggestions = list(ranked.filter(rank__isnull=False)[:12])
        if len(slugs) == 1 and not errors:
            context["picked"] = courses[slugs[0]]
            if all(score.course.slug != slugs[0] for score in suggestions):
                picked = list(ranked.filter(course__slug=slugs[0]))
                context["picked_unscored"] = not picked
                suggestions = [*picked, *suggestions]
        context["suggestions"] = suggestions
        return render(request, "analytics/compare_courses.html", context, status=400 if errors else 200)

    scores = {score.course_id: score for score in CourseScore.objects.filter(course__in=courses.values())}
    columns = [{"course": courses[slug], "score": scores.get(courses[slug].pk)} for slug in slugs]
    scored = [column for column in columns if column["score"]]
    context["columns"] = columns
    context["rows"] = _course_compare_rows(columns)
    context["radar"] = radar_payload(
        [column["score"] for column in scored], names=[column["course"].title for column in scored]
    )
    return render(request, "analytics/compare_courses.html", context)


def _course_compare_rows(columns: list[dict]) -> list[dict]:
    """The course figures worth comparing; the best value of each row is marked, as for instructors."""

    def score_value(field: str):
        return lambda column: getattr(column["score"], field) if column["score"] else None

    def learner(*path: str):
        def read(column):
            value = column["score"].breakdown.get("learner") if column["score"] else None
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            return value

        return read

    specs = [
        (_("Rank"), score_value("rank"), "rank", False),
        (_("Score"), score_value("total"), "score", True),
        (_("Learner rating (adjusted)"), learner("smoothed_rating"), "stars", True),
        (_("Reviews"), score_value("review_count"), "int", True),
        (_("Failure-signal burden"), score_value("signal_burden"), "percent_sign", False),
        *((label, learner("dimensions", key), "stars", True) for key, label in DIMENSIONS),
    ]
    return _best_marked(columns, specs)


def _best_marked(columns: list[dict], specs) -> list[dict]:
    rows = []
    for label, read, kind, higher_is_better in specs:
        values = [read(column) for column in columns]
        present = [value for value in values if value is not None]
        best = (max(present) if higher_is_better else min(present)) if len(present) > 1 else None
        if best is not None and present.count(best) == len(present):
            best = None  # everybody equal: nobody stands out
        rows.append(
            {
                "label": label,
                "kind": kind,
                "cells": [{"value": value, "best": value is not None and value == best} for value in values],
            }
        )
    return rows


@require_POST
@staff_required
def repo_audit_rerun(request: HttpRequest, slug: str) -> HttpResponse:
    """Staff: queue the repository check of one course; the card shows the result once the worker is done."""
    course = get_object_or_404(Course, slug=slug)
    target = reverse("course-detail", args=[course.slug]) + "#repo-audit"
    if not course.repo_url:
        messages.error(request, _("This course has no companion repository to check."))
        return redirect(target)
    try:
        repo_audit.repo_audit_request(course_ids=[course.pk])
    except Exception:  # noqa: BLE001 - broker down: say so instead of a 500; nothing was half-done
        logger.exception("could not queue the repository check of %s", course.slug)
        messages.error(request, _("Could not queue the repository check; try again shortly."))
        return redirect(target)
    messages.success(request, _("Repository check queued; reload the page in a minute to see it."))
    return redirect(target)


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers and the ranking benchmark's baseline: no database, no templates."""
    return HttpResponse("ok", content_type="text/plain")
