"""The run's report: shares overall, per course, per instructor and per month, and the rating lift."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from typing import NotRequired, TypedDict

import numpy as np

from analytics.signals.results import ExtractionResult


class BreakdownRow(TypedDict):
    """A signal's reviews at one course or instructor, beside that owner's complaints and reviews."""

    id: Hashable
    count: int
    complaints: int
    reviews: int
    share: float


class SignalSummary(TypedDict):
    """One signal in a run's report."""

    group: int
    key: str | None
    size: int
    share: float
    lift: float | None
    mean_rating_with: float | None
    mean_rating_without: float | None
    trend: list[int]
    undated: int
    by_course: list[BreakdownRow]
    by_instructor: list[BreakdownRow]
    cluster: NotRequired[int]  # the stored SignalCluster, once the run is saved


class Report(TypedDict):
    """A run's report (SignalRun.report): summarise() gives the first part, the run adds the rest."""

    reviews: int
    complaints: int
    assigned: int
    months: list[str]
    complaints_by_month: list[int]
    undated: int
    undated_complaints: int
    signals: list[SignalSummary]
    # Added by the run, which knows the reviews' ids and the noise gate's counts:
    unassigned_complaints: NotRequired[list[int]]
    noise: NotRequired[dict[str, int]]
    rating_mismatch: NotRequired[int]


def summarise(
    result: ExtractionResult,
    *,
    ratings: Sequence[int],
    months: Sequence[str | None],
    courses: Sequence[Hashable],
    instructors: Mapping[Hashable, Sequence[Hashable]],
) -> Report:
    """Shares overall, per course, per instructor and per month, and each signal's rating lift.

    share: the signal's share of all complaints. lift: mean rating of the reviews without the signal
    minus the mean rating of those with it (how many stars the signal costs). Per course and per
    instructor: the signal's reviews there, that owner's complaints and reviews, and the share. A review
    without a date (month None) counts everywhere but in the trend, which says how many had none.
    """
    n = len(ratings)
    rating_array = np.asarray(ratings, dtype=float)
    complaint = result.complaint
    total_complaints = int(complaint.sum())
    month_list = sorted({month for month in months if month is not None})
    month_index = {month: i for i, month in enumerate(month_list)}
    complaint_rows = np.flatnonzero(complaint).tolist()
    complaints_by_month, undated_complaints = _by_month(complaint_rows, months, month_index)
    complaints_by_course: Counter[Hashable] = Counter(courses[i] for i in complaint_rows)
    reviews_by_course: Counter[Hashable] = Counter(courses)

    def owners_of(course: Hashable) -> Sequence[Hashable]:
        return instructors.get(course, ())

    complaints_by_instructor: Counter[Hashable] = Counter()
    reviews_by_instructor: Counter[Hashable] = Counter()
    for course, count in reviews_by_course.items():
        for owner in owners_of(course):
            reviews_by_instructor[owner] += count
            complaints_by_instructor[owner] += complaints_by_course[course]

    signals: list[SignalSummary] = []
    for g, group in enumerate(result.groups):
        members = np.asarray(group.members, dtype=int)
        inside = np.zeros(n, dtype=bool)
        inside[members] = True
        with_mean = float(rating_array[inside].mean()) if inside.any() else None
        without_mean = float(rating_array[~inside].mean()) if (~inside).any() else None
        trend, undated = _by_month(group.members, months, month_index)
        by_course: Counter[Hashable] = Counter(courses[i] for i in group.members)
        by_instructor: Counter[Hashable] = Counter()
        for course, count in by_course.items():
            for owner in owners_of(course):
                by_instructor[owner] += count
        signals.append(
            {
                "group": g,
                "key": group.key,
                "size": len(members),
                "share": round(len(members) / total_complaints, 4) if total_complaints else 0.0,
                "lift": round(without_mean - with_mean, 4)
                if with_mean is not None and without_mean is not None
                else None,
                "mean_rating_with": round(with_mean, 4) if with_mean is not None else None,
                "mean_rating_without": round(without_mean, 4) if without_mean is not None else None,
                "trend": trend,
                "undated": undated,
                "by_course": _breakdown(by_course, complaints_by_course, reviews_by_course),
                "by_instructor": _breakdown(by_instructor, complaints_by_instructor, reviews_by_instructor),
            }
        )
    return {
        "reviews": n,
        "complaints": total_complaints,
        "assigned": int(sum(len(group.members) for group in result.groups)),
        "months": month_list,
        "complaints_by_month": complaints_by_month,
        "undated": sum(1 for month in months if month is None),
        "undated_complaints": undated_complaints,
        "signals": signals,
    }


def _by_month(
    rows: Sequence[int], months: Sequence[str | None], month_index: Mapping[str, int]
) -> tuple[list[int], int]:
    """How many of `rows` fall in each month (in month_index's order), and how many have no date."""
    counts = [0] * len(month_index)
    undated = 0
    for i in rows:
        month = months[i]
        if month is None:
            undated += 1
        else:
            counts[month_index[month]] += 1
    return counts, undated


def _breakdown(
    counts: Counter[Hashable], complaints: Counter[Hashable], reviews: Counter[Hashable]
) -> list[BreakdownRow]:
    rows: list[BreakdownRow] = [
        {
            "id": owner,
            "count": count,
            "complaints": complaints[owner],
            "reviews": reviews[owner],
            "share": round(count / complaints[owner], 4) if complaints[owner] else 0.0,
        }
        for owner, count in counts.items()
    ]
    rows.sort(key=lambda row: (-row["count"], str(row["id"])))
    return rows
