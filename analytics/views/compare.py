"""Two to four instructors, or courses, side by side with the best value of each figure marked."""

from collections.abc import Callable
from typing import Any, TypedDict, TypeVar

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
