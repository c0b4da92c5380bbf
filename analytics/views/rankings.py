"""The public instructor and course rankings (cached, analytics/ranking_cache.py) and how we rank."""

from collections.abc import Callable

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from analytics import ranking_cache
from analytics.models import CourseScore, InstructorScore
from analytics.scoring import EVIDENCE_FIGURES, RECENCY_HORIZON_MONTHS, RECENCY_WEIGHT
from reviews.models import Course, Tag

RANKING_PAGE_SIZE = 50


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
