"""Instructor and course scores: plain maths on plain numbers, no Django. /rankings/how/ explains it to users.

Components, each 0–1, higher is better:
  learner        Bayesian-smoothed rating (m·platform_mean + Σ wᵢ·ratingᵢ) / (m + Σ wᵢ), 1–5 → 0–1.
                 wᵢ = ½^(ageᵢ / half_life) with recency weighting on (a review one half-life old counts half),
                 else 1. Few or old reviews are pulled towards the platform mean, so luck cannot win.
  evidence       percentile of the instructor's evidence strength among instructors with GitHub evidence;
                 strength = Σ weight·log(1+min(figure, cap)) / log(1+cap) over the public figures
                 (diminishing returns; capped so one viral repository cannot dominate). A linked account
                 with no public Go work → 0. No linked account is unknown, not zero: EVIDENCE_PRIOR stands in.
  signal_burden  enters as 1 − burden; burden = smoothed share of the instructor's reviews whose complaint
                 falls in a confirmed (or seeded) failure signal:
                 (flagged + m_b·platform_share) / (reviews + m_b).
                 No signal run yet → neutral (0.5 for everybody, so it changes no order).
  repository     courses only: the companion-repository check's score (analytics/repo_audit.py: good 1,
                 concern ½, bad 0, averaged over the figures that apply); never checked → neutral 0.5.
Total = Σ weight·component / Σ weight. Too few reviews and no GitHub evidence → "not enough data", not ranked.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

NEUTRAL_SIGNAL_COMPONENT = 0.5
# Courses only: a course whose companion repository was never checked sits in the middle.
NEUTRAL_REPOSITORY_COMPONENT = 0.5
# An instructor nobody has linked to GitHub yet counts as the middle of those with evidence: we do not know
# their public work, and scoring it 0 would rank three lucky reviews with a GitHub link above fifty reviews
# without one.
EVIDENCE_PRIOR = 0.5
# The prior is said to pull a figure towards the platform average once it carries this share of the figure.
NOTABLE_PRIOR_SHARE = 0.25

# figure → (cap, weight). Caps apply before the log, so anything beyond them earns nothing more.
# Issues commented on in golang/go show real problem solving; a maintained project (recent push and release)
# says more than its star count alone.
EVIDENCE_FIGURES: dict[str, tuple[float, float]] = {
    "go_stars": (20_000, 0.25),
    "golang_go_commits": (200, 0.15),
    "allowlist_merged_prs": (200, 0.15),
    "golang_go_issues": (200, 0.10),
    "golang_go_reviews": (100, 0.05),
    "maintained_go_projects": (5, 0.10),
    "go_repos": (30, 0.05),
    "followers": (5_000, 0.05),
}
RECENCY_WEIGHT = 0.10
RECENCY_HORIZON_MONTHS = 24.0  # active this month → 1, silent for two years or more → 0


@dataclass(frozen=True)
class RatingBucket:
    """Published reviews of one course written in one month, already summed."""

    age_days: float
    count: int
    rating_sum: float
    dim_sums: Mapping[str, float] = field(default_factory=dict)
    dim_counts: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RatingSummary:
    count: int
    weighted_count: float
    weighted_sum: float
    mean: float | None
    dimensions: dict[str, float | None]
    dimension_counts: dict[str, int]


def recency_weight(age_days: float, half_life_days: float) -> float:
    if half_life_days <= 0:
        return 1.0
    return float(0.5 ** (max(age_days, 0.0) / half_life_days))


def summarise_ratings(
    buckets: Iterable[RatingBucket], *, dimension_keys: Sequence[str], half_life_days: float
) -> RatingSummary:
    """Counts, recency-weighted rating sum, plain dimension averages (what learners said, unsmoothed)."""
    count = 0
    weighted_count = weighted_sum = 0.0
    dim_sums = dict.fromkeys(dimension_keys, 0.0)
    dim_counts = dict.fromkeys(dimension_keys, 0)
    for bucket in buckets:
        weight = recency_weight(bucket.age_days, half_life_days)
        count += bucket.count
        weighted_count += weight * bucket.count
        weighted_sum += weight * bucket.rating_sum
        for key in dimension_keys:
            dim_sums[key] += bucket.dim_sums.get(key) or 0.0
            dim_counts[key] += bucket.dim_counts.get(key) or 0
    return RatingSummary(
        count=count,
        weighted_count=weighted_count,
        weighted_sum=weighted_sum,
        mean=weighted_sum / weighted_count if weighted_count else None,
        dimensions={
            key: (dim_sums[key] / dim_counts[key] if dim_counts[key] else None) for key in dimension_keys
        },
        dimension_counts=dim_counts,
    )


def smoothed_mean(*, total: float, count: float, prior_mean: float, prior_weight: float) -> float:
    """Bayesian average: `prior_weight` pseudo-observations at `prior_mean` added to the real ones."""
    if count + prior_weight <= 0:
        return prior_mean
    return (prior_weight * prior_mean + total) / (prior_weight + count)


def prior_weight_share(*, count: float, prior_weight: float) -> float:
    """How much of a smoothed figure comes from the prior (0 = all the data's own, 1 = all prior)."""
    if count + prior_weight <= 0:
        return 1.0
    return prior_weight / (prior_weight + max(count, 0.0))


def evidence_component(percentile: float | None) -> float:
    """The evidence part: the percentile when a GitHub account is linked, else the stated prior."""
    return EVIDENCE_PRIOR if percentile is None else percentile


def rating_to_unit(rating: float) -> float:
    """1–5 stars → 0–1."""
    return min(1.0, max(0.0, (rating - 1.0) / 4.0))


def evidence_strength(figures: Mapping[str, float | int | None]) -> float:
    """0–1: weighted, log-scaled, capped public figures plus recent activity. All zeros → 0."""
    strength = 0.0
    for name, (cap, weight) in EVIDENCE_FIGURES.items():
        value = max(0.0, float(figures.get(name) or 0))
        strength += weight * math.log1p(min(value, cap)) / math.log1p(cap)
    months = figures.get("months_since_activity")
    if months is not None and strength > 0:
        strength += RECENCY_WEIGHT * max(0.0, 1.0 - float(months) / RECENCY_HORIZON_MONTHS)
    return min(1.0, strength)


def percentiles(values: Sequence[float]) -> list[float]:
    """Mid-rank percentile of each value among the positive ones (ties share a percentile); 0 stays 0."""
    cohort = sorted(value for value in values if value > 0)
    size = len(cohort)
    result = []
    for value in values:
        if value <= 0:
            result.append(0.0)
            continue
        below = bisect_left(cohort, value)
        equal = bisect_right(cohort, value) - below
        result.append((below + 0.5 * equal) / size)
    return result


def signal_burden(*, flagged: int, reviews: int, prior_share: float, prior_weight: float) -> float:
    """Smoothed share of reviews that fall in a confirmed failure signal (0 = none, 1 = all)."""
    return smoothed_mean(
        total=float(flagged), count=float(reviews), prior_mean=prior_share, prior_weight=prior_weight
    )


def signal_component(burden: float | None) -> float:
    return NEUTRAL_SIGNAL_COMPONENT if burden is None else 1.0 - burden


def total_score(components: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """Σ weight·component / Σ weight over the components present (weights need not sum to 1)."""
    used = {name: weight for name, weight in weights.items() if name in components and weight > 0}
    weight_sum = sum(used.values())
    if weight_sum <= 0:
        return 0.0
    return sum(weight * components[name] for name, weight in used.items()) / weight_sum


def has_enough_data(*, review_count: int, has_evidence: bool, min_reviews: int) -> bool:
    return review_count >= min_reviews or has_evidence


@dataclass(frozen=True)
class Rankable:
    key: object
    total: float
    review_count: int
    enough_data: bool
    name: str = ""


def assign_ranks(entries: Sequence[Rankable]) -> dict[object, int | None]:
    """Competition ranking (1, 2, 2, 4) by total, then more reviews, then name; not-enough-data → None."""
    ranked = sorted(
        (entry for entry in entries if entry.enough_data),
        key=lambda entry: (-round(entry.total, 6), -entry.review_count, entry.name),
    )
    ranks: dict[object, int | None] = {entry.key: None for entry in entries}
    previous: tuple[float, int] | None = None
    for position, entry in enumerate(ranked, start=1):
        current = (round(entry.total, 6), entry.review_count)
        if current != previous:
            rank = position
        ranks[entry.key] = rank
        previous = current
    return ranks
