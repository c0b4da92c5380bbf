"""Two to four instructors, or courses, side by side with the best value of each figure marked."""

from collections.abc import Callable
from typing import Any, TypedDict, TypeVar

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from analytics.models import CourseScore, EvidenceSnapshot, InstructorScore
from analytics.templatetags.rankings import radar_payload
from reviews.models import DIMENSIONS, Course, Instructor

COMPARE_MIN, COMPARE_MAX = 2, 4


def _compare_slugs(request: HttpRequest, parameter: str = "instructors") -> list[str]:
    """`?instructors=a,b` or repeated `?instructors=a&instructors=b` (the picker's checkboxes)."""
    slugs = [slug.strip() for value in request.GET.getlist(parameter) for slug in value.split(",")]
    return list(dict.fromkeys(slug for slug in slugs if slug))


Found = TypeVar("Found", Instructor, Course)


def _found_or_errors(
    slugs: list[str], find: Callable[[], dict[str, Found]], *, too_many: str, unknown: str
) -> tuple[dict[str, Found], list[str]]:
    """The compared objects by slug, or the errors to show: too many slugs, or slugs naming nothing."""
    if len(slugs) > COMPARE_MAX:
        return {}, [too_many % {"count": len(slugs)}]
    found = find() if slugs else {}
    if missing := [slug for slug in slugs if slug not in found]:
        return found, [unknown % {"slugs": ", ".join(missing)}]
    return found, []


def _picker(
    ranked: QuerySet[InstructorScore] | QuerySet[CourseScore],
    *,
    owner: str,
    picked: Instructor | Course | None,
    slug: str,
) -> dict[str, Any]:
    """The picker's context: the best ranked, and the one already picked (`owner` of a score, by `slug`)
    listed first if it is not among them."""
    suggestions: list[Any] = list(ranked.filter(rank__isnull=False)[:12])
    context: dict[str, Any] = {}
    if picked is not None:
        context["picked"] = picked
        if all(getattr(score, owner).slug != slug for score in suggestions):
            scored = list(ranked.filter(**{f"{owner}__slug": slug}))
            context["picked_unscored"] = not scored
            suggestions = [*scored, *suggestions]
    context["suggestions"] = suggestions
    return context


@require_GET
def compare(request: HttpRequest) -> HttpResponse:
    """Two to four instructors side by side; a clear 400 for more than four or unknown slugs.

    One instructor (the "compare with…" link on their page) opens the picker with them already ticked.
    """
    slugs = _compare_slugs(request)
    if len(request.GET.getlist("instructors")) > 1 and COMPARE_MIN <= len(slugs) <= COMPARE_MAX:
        return redirect(f"{reverse('compare')}?{urlencode({'instructors': ','.join(slugs)})}")
    instructors, errors = _found_or_errors(
        slugs,
        lambda: {i.slug: i for i in Instructor.objects.filter(slug__in=slugs)},
        too_many=_("You can compare at most four instructors at once (you picked %(count)d)."),
        unknown=_("No instructor with the slug: %(slugs)s."),
    )
    context: dict = {"errors": errors, "slugs": slugs, "nav_section": "compare"}
    if errors or len(slugs) < COMPARE_MIN:
        context.update(
            _picker(
                InstructorScore.objects.ranking(),
                owner="instructor",
                picked=instructors[slugs[0]] if len(slugs) == 1 and not errors else None,
                slug=slugs[0] if slugs else "",
            )
        )
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


class CourseColumn(TypedDict):
    """One compared course, with its score."""

    course: Course
    score: CourseScore | None


Column = TypeVar("Column", CompareColumn, CourseColumn)
# (label, how to read the value from a column, how the template shows it, whether higher is better)
RowSpec = tuple[str | Promise, Callable[[Column], Any], str, bool]


def _score_field(field: str) -> Callable[[CompareColumn | CourseColumn], Any]:
    return lambda column: getattr(column["score"], field) if column["score"] else None


def _breakdown_value(*path: str) -> Callable[[CompareColumn | CourseColumn], Any]:
    def read(column: CompareColumn | CourseColumn) -> Any:
        value: Any = column["score"].breakdown if column["score"] else None
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    return read


def _compare_rows(columns: list[CompareColumn]) -> list[dict[str, Any]]:
    """One row per compared figure: each instructor's value, the best one marked."""

    def figure(name: str) -> Callable[[CompareColumn], Any]:
        return lambda column: (column["snapshot"].figures or {}).get(name) if column["snapshot"] else None

    specs: list[RowSpec[CompareColumn]] = [
        (_("Rank"), _score_field("rank"), "rank", False),
        (_("Score"), _score_field("total"), "score", True),
        (_("Learner rating (adjusted)"), _breakdown_value("learner", "smoothed_rating"), "stars", True),
        (_("Reviews"), _score_field("review_count"), "int", True),
        (_("Engineering evidence (percentile)"), _score_field("evidence"), "percent", True),
        (_("Failure-signal burden"), _score_field("signal_burden"), "percent_sign", False),
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
    courses, errors = _found_or_errors(
        slugs,
        lambda: {course.slug: course for course in Course.objects.filter(slug__in=slugs)},
        too_many=_("You can compare at most four courses at once (you picked %(count)d)."),
        unknown=_("No course with the slug: %(slugs)s."),
    )
    context: dict = {"errors": errors, "slugs": slugs, "nav_section": "compare"}
    if errors or len(slugs) < COMPARE_MIN:
        context.update(
            _picker(
                CourseScore.objects.ranking(),
                owner="course",
                picked=courses[slugs[0]] if len(slugs) == 1 and not errors else None,
                slug=slugs[0] if slugs else "",
            )
        )
        return render(request, "analytics/compare_courses.html", context, status=400 if errors else 200)

    scores = {score.course_id: score for score in CourseScore.objects.filter(course__in=courses.values())}
    columns: list[CourseColumn] = [
        {"course": courses[slug], "score": scores.get(courses[slug].pk)} for slug in slugs
    ]
    scored = [column for column in columns if column["score"]]
    context["columns"] = columns
    context["rows"] = _course_compare_rows(columns)
    context["radar"] = radar_payload(
        [column["score"] for column in scored], names=[column["course"].title for column in scored]
    )
    return render(request, "analytics/compare_courses.html", context)


def _course_compare_rows(columns: list[CourseColumn]) -> list[dict[str, Any]]:
    """The course figures worth comparing; the best value of each row is marked, as for instructors."""
    specs: list[RowSpec[CourseColumn]] = [
        (_("Rank"), _score_field("rank"), "rank", False),
        (_("Score"), _score_field("total"), "score", True),
        (_("Learner rating (adjusted)"), _breakdown_value("learner", "smoothed_rating"), "stars", True),
        (_("Reviews"), _score_field("review_count"), "int", True),
        (_("Failure-signal burden"), _score_field("signal_burden"), "percent_sign", False),
        *(
            (label, _breakdown_value("learner", "dimensions", key), "stars", True)
            for key, label in DIMENSIONS
        ),
    ]
    return _best_marked(columns, specs)


def _best_marked(columns: list[Column], specs: list[RowSpec[Column]]) -> list[dict[str, Any]]:
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
