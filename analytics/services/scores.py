"""Instructor and course scores: recompute every score and rank, and ask for a recompute after a change."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Aggregate, Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from analytics import jobs
from analytics.breakdown import (
    BurdenBreakdown,
    CourseBreakdown,
    EvidenceFigureWeight,
    InstructorBreakdown,
    LearnerBreakdown,
    NeutralBurden,
    PlatformBreakdown,
    TopSignal,
)
from analytics.models import (
    CourseScore,
    EvidenceSnapshot,
    InstructorScore,
    RepoAudit,
    ReviewSignal,
    SignalDefinition,
    SignalRun,
)
from analytics.ranking_cache import publish_scores_version
from analytics.reports import PUBLIC_STATUSES, effective_definition
from analytics.scoring import (
    EVIDENCE_FIGURES,
    EVIDENCE_PRIOR,
    NEUTRAL_REPOSITORY_COMPONENT,
    Rankable,
    RatingBucket,
    RatingSummary,
    assign_ranks,
    evidence_component,
    evidence_strength,
    has_enough_data,
    percentiles,
    prior_weight_share,
    rating_to_unit,
    signal_burden,
    signal_component,
    smoothed_mean,
    summarise_ratings,
    total_score,
)
from analytics.services.follows import followed_scores_before_recompute, notify_followers_of_changes
from reviews.models import DIMENSION_KEYS, Course, Instructor, Review, dimension_field

logger = logging.getLogger(__name__)


SCORES_PENDING_KEY = "analytics:scores-recompute-pending"


def scores_recompute_soon(*, delay_seconds: int = 30) -> None:
    """Ask for a score recompute shortly after this transaction commits; requests within the same window
    share one task. If the broker is down the nightly recompute catches up."""

    def enqueue() -> None:
        if not cache.add(SCORES_PENDING_KEY, True, timeout=delay_seconds + 600):
            return
        try:
            jobs.enqueue(jobs.RECOMPUTE_SCORES, countdown=delay_seconds)
        except Exception:
            cache.delete(SCORES_PENDING_KEY)
            logger.exception("could not enqueue a score recompute; the nightly run will catch up")

    transaction.on_commit(enqueue)


def _rating_buckets_by_course(*, now: datetime) -> tuple[dict[int, list[RatingBucket]], list[RatingBucket]]:
    """Published reviews summed per course and month in one aggregate query."""
    dimension_aggregates: dict[str, Aggregate] = {}
    for key in DIMENSION_KEYS:
        dimension_aggregates[f"{key}_sum"] = Sum(dimension_field(key))
        dimension_aggregates[f"{key}_n"] = Count(dimension_field(key))
    rows = (
        Review.objects.filter(status=Review.Status.PUBLISHED)
        .annotate(month=TruncMonth("created_at"))
        .values("course_id", "month")
        .annotate(n=Count("pk"), rating_sum=Sum("rating"), **dimension_aggregates)
        .order_by()
    )
    by_course: dict[int, list[RatingBucket]] = defaultdict(list)
    everything: list[RatingBucket] = []
    for row in rows:
        bucket = RatingBucket(
            # A review counts as written in the middle of its month; an undated one (an import whose export
            # had no dates) gets no recency discount, as its age is unknown.
            age_days=(now - row["month"]).total_seconds() / 86400 - 15 if row["month"] is not None else 0.0,
            count=row["n"],
            rating_sum=float(row["rating_sum"]),
            dim_sums={key: float(row[f"{key}_sum"] or 0) for key in DIMENSION_KEYS},
            dim_counts={key: row[f"{key}_n"] for key in DIMENSION_KEYS},
        )
        by_course[row["course_id"]].append(bucket)
        everything.append(bucket)
    return by_course, everything


def _flagged_by_course(run_id: int | None) -> tuple[dict[int, Counter], dict[int, SignalDefinition]]:
    """Per course: how many published reviews of the current run fall in each public (seeded or confirmed)
    failure signal, merged definitions counted as their target. Two queries."""
    if run_id is None:
        return {}, {}
    rows = list(
        ReviewSignal.objects.filter(run_id=run_id, review__status=Review.Status.PUBLISHED)
        .filter(
            Q(cluster__definition__merged_into__isnull=True, cluster__definition__status__in=PUBLIC_STATUSES)
            | Q(cluster__definition__merged_into__status__in=PUBLIC_STATUSES)
        )
        .values("review__course_id", "cluster__definition_id")
        .annotate(n=Count("review_id", distinct=True))
        .order_by()
    )
    definitions = {
        definition.pk: effective_definition(definition)
        for definition in SignalDefinition.objects.select_related("merged_into").filter(
            pk__in={row["cluster__definition_id"] for row in rows}
        )
    }
    flagged: dict[int, Counter] = defaultdict(Counter)
    for row in rows:
        target = definitions[row["cluster__definition_id"]]
        flagged[row["review__course_id"]][target.pk] += row["n"]
    return flagged, {target.pk: target for target in definitions.values()}


def _top_signals(
    counts: Counter[int], *, review_count: int, definitions: dict[int, SignalDefinition], limit: int = 3
) -> list[TopSignal]:
    return [
        {
            "key": definitions[pk].key,
            "name_zh": definitions[pk].name_zh,
            "name_en": definitions[pk].name_en,
            "count": count,
            "share": round(count / review_count, 4) if review_count else 0.0,
        }
        for pk, count in sorted(counts.items(), key=lambda item: (-item[1], definitions[item[0]].key))[:limit]
    ]


def _learner_breakdown(
    summary: RatingSummary, *, prior_mean: float, half_life: float
) -> tuple[float, LearnerBreakdown]:
    smoothed = smoothed_mean(
        total=summary.weighted_sum,
        count=summary.weighted_count,
        prior_mean=prior_mean,
        prior_weight=settings.SCORE_PRIOR_WEIGHT,
    )
    return rating_to_unit(smoothed), {
        "smoothed_rating": round(smoothed, 4),
        "prior_share": round(
            prior_weight_share(count=summary.weighted_count, prior_weight=settings.SCORE_PRIOR_WEIGHT), 4
        ),
        "mean_rating": round(summary.mean, 4) if summary.mean is not None else None,
        "review_count": summary.count,
        "weighted_count": round(summary.weighted_count, 3),
        "prior_mean": round(prior_mean, 4),
        "prior_weight": settings.SCORE_PRIOR_WEIGHT,
        "half_life_days": half_life,
        "dimensions": {key: _round(value) for key, value in summary.dimensions.items()},
        "dimension_counts": summary.dimension_counts,
    }


def _burden_breakdown(
    flagged: int, *, review_count: int, run_id: int | None, prior_share: float
) -> tuple[float | None, NeutralBurden | BurdenBreakdown]:
    if run_id is None:
        return None, {"run_id": None, "neutral": True}
    burden = signal_burden(
        flagged=flagged,
        reviews=review_count,
        prior_share=prior_share,
        prior_weight=settings.SCORE_BURDEN_PRIOR_WEIGHT,
    )
    return burden, {
        "run_id": run_id,
        "neutral": False,
        "flagged": flagged,
        "reviews": review_count,
        "share": round(flagged / review_count, 4) if review_count else None,
        "smoothed": round(burden, 4),
        "prior_share": round(prior_share, 4),
        "prior_weight_share": round(
            prior_weight_share(count=review_count, prior_weight=settings.SCORE_BURDEN_PRIOR_WEIGHT), 4
        ),
        "prior_weight": settings.SCORE_BURDEN_PRIOR_WEIGHT,
    }


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def scores_recompute() -> list[InstructorScore]:
    """Recompute every instructor's and course's score and rank (analytics/scoring.py has the formula).

    Reads everything in a constant number of aggregate queries whatever the number of instructors,
    courses or reviews, then replaces all InstructorScore and CourseScore rows in one transaction, so
    readers see either the old or the new ranking; followers of a course or instructor whose score or top
    failure signals changed are notified in the same transaction. Returns the instructor scores, ranked first.
    """
    now = timezone.now()
    weights = dict(settings.SCORE_WEIGHTS)
    half_life = settings.SCORE_RECENCY_HALF_LIFE_DAYS
    min_reviews = settings.SCORE_MIN_REVIEWS

    buckets_by_course, all_buckets = _rating_buckets_by_course(now=now)
    courses_of: dict[int, list[int]] = defaultdict(list)
    for course_id, instructor_id in Course.instructors.through.objects.values_list(
        "course_id", "instructor_id"
    ):
        courses_of[instructor_id].append(course_id)
    instructors = list(Instructor.objects.order_by("pk").values_list("pk", "name"))
    course_ids = list(Course.objects.order_by("pk").values_list("pk", flat=True))
    run_id = SignalRun.objects.current().values_list("pk", flat=True).first()
    flagged_by_course, definitions = _flagged_by_course(run_id)
    snapshots = {
        snapshot.instructor_id: snapshot
        for snapshot in EvidenceSnapshot.objects.current().only(
            "pk", "instructor_id", "fetched_at", "figures"
        )
    }

    platform = summarise_ratings(all_buckets, dimension_keys=DIMENSION_KEYS, half_life_days=0)
    prior_mean = platform.mean if platform.mean is not None else 3.0
    total_flagged = sum(sum(counts.values()) for counts in flagged_by_course.values())
    prior_share = total_flagged / platform.count if platform.count else 0.0
    platform_info: PlatformBreakdown = {
        "mean_rating": _round(platform.mean),
        "review_count": platform.count,
        "dimensions": {key: _round(value) for key, value in platform.dimensions.items()},
        "signal_share": round(prior_share, 4) if run_id else None,
    }
    evidence_figures: dict[str, EvidenceFigureWeight] = {
        name: {"cap": cap, "weight": w} for name, (cap, w) in EVIDENCE_FIGURES.items()
    }

    strengths = {
        pk: evidence_strength(snapshots[pk].figures) if pk in snapshots else 0.0 for pk, _n in instructors
    }
    evidence_percentile = dict(zip(strengths, percentiles(list(strengths.values())), strict=True))

    instructor_scores: list[InstructorScore] = []
    rankables: list[Rankable] = []
    for pk, name in instructors:
        course_list = courses_of.get(pk, [])
        summary = summarise_ratings(
            (bucket for course_id in course_list for bucket in buckets_by_course.get(course_id, [])),
            dimension_keys=DIMENSION_KEYS,
            half_life_days=half_life,
        )
        learner, learner_info = _learner_breakdown(summary, prior_mean=prior_mean, half_life=half_life)
        counts: Counter = sum(
            (flagged_by_course.get(course_id, Counter()) for course_id in course_list), Counter()
        )
        burden, burden_info = _burden_breakdown(
            sum(counts.values()), review_count=summary.count, run_id=run_id, prior_share=prior_share
        )
        snapshot = snapshots.get(pk)
        has_evidence = strengths[pk] > 0
        evidence = evidence_component(evidence_percentile[pk] if snapshot else None)
        components = {
            "learner": learner,
            "evidence": evidence,
            "signal_burden": signal_component(burden),
        }
        total = total_score(components, weights)
        enough = has_enough_data(
            review_count=summary.count, has_evidence=has_evidence, min_reviews=min_reviews
        )
        breakdown: InstructorBreakdown = {
            "weights": weights,
            "min_reviews": min_reviews,
            "star_cap_per_repo": settings.GITHUB_STAR_CAP_PER_REPO,
            "evidence_figures": evidence_figures,
            "components": {key: round(value, 4) for key, value in components.items()},
            "learner": learner_info,
            "evidence": {
                "has_evidence": has_evidence,
                "linked": snapshot is not None,
                "prior": None if snapshot else EVIDENCE_PRIOR,
                "strength": round(strengths[pk], 4),
                "percentile": round(evidence_percentile[pk], 4),
                "snapshot_id": snapshot.pk if snapshot else None,
                "fetched_at": snapshot.fetched_at.isoformat() if snapshot else None,
                "figures": snapshot.figures if snapshot else {},
            },
            "signal_burden": burden_info,
            "top_signals": _top_signals(counts, review_count=summary.count, definitions=definitions),
            "platform": platform_info,
        }
        instructor_scores.append(
            InstructorScore(
                instructor_id=pk,
                computed_at=now,
                learner=learner,
                evidence=evidence,
                signal_burden=burden,
                total=total,
                enough_data=enough,
                review_count=summary.count,
                breakdown=breakdown,
            )
        )
        rankables.append(
            Rankable(key=pk, total=total, review_count=summary.count, enough_data=enough, name=name)
        )
    ranks = assign_ranks(rankables)
    for score in instructor_scores:
        score.rank = ranks[score.instructor_id]

    # A course's companion-repository check joins its learner and signal components; never checked → neutral.
    course_weights = {key: weights[key] for key in ("learner", "signal_burden") if key in weights}
    course_weights["repository"] = settings.SCORE_REPOSITORY_WEIGHT
    repo_audits = {
        row["course_id"]: row
        for row in RepoAudit.objects.exclude(score=None).values("course_id", "score", "audited_at", "report")
    }
    course_scores: list[CourseScore] = []
    course_rankables: list[Rankable] = []
    for course_id in course_ids:
        summary = summarise_ratings(
            buckets_by_course.get(course_id, []), dimension_keys=DIMENSION_KEYS, half_life_days=half_life
        )
        learner, learner_info = _learner_breakdown(summary, prior_mean=prior_mean, half_life=half_life)
        counts = flagged_by_course.get(course_id, Counter())
        burden, burden_info = _burden_breakdown(
            sum(counts.values()), review_count=summary.count, run_id=run_id, prior_share=prior_share
        )
        repo_audit = repo_audits.get(course_id)
        # Audits without a score are not read, so a course without one is the only neutral case.
        audit_score = repo_audit["score"] if repo_audit else None
        components = {
            "learner": learner,
            "signal_burden": signal_component(burden),
            "repository": NEUTRAL_REPOSITORY_COMPONENT if audit_score is None else audit_score,
        }
        total = total_score(components, course_weights)
        enough = summary.count >= min_reviews
        course_breakdown: CourseBreakdown = {
            "weights": course_weights,
            "min_reviews": min_reviews,
            "components": {key: round(value, 4) for key, value in components.items()},
            "learner": learner_info,
            "signal_burden": burden_info,
            "repository": {
                "checked": repo_audit is not None,
                "score": audit_score,
                "audited_at": repo_audit["audited_at"].isoformat()
                if repo_audit and repo_audit["audited_at"]
                else None,
                "verdicts": repo_audit["report"].get("verdicts", {}) if repo_audit else {},
            },
            "top_signals": _top_signals(counts, review_count=summary.count, definitions=definitions),
            "platform": platform_info,
        }
        course_scores.append(
            CourseScore(
                course_id=course_id,
                computed_at=now,
                learner=learner,
                signal_burden=burden,
                total=total,
                enough_data=enough,
                review_count=summary.count,
                breakdown=course_breakdown,
            )
        )
        course_rankables.append(
            Rankable(
                key=course_id,
                total=total,
                review_count=summary.count,
                enough_data=enough,
                name=str(course_id),
            )
        )
    course_ranks = assign_ranks(course_rankables)
    for course_score in course_scores:
        course_score.rank = course_ranks[course_score.course_id]

    with transaction.atomic():
        followed_before = followed_scores_before_recompute()
        InstructorScore.objects.all().delete()
        InstructorScore.objects.bulk_create(instructor_scores, batch_size=500)
        CourseScore.objects.all().delete()
        CourseScore.objects.bulk_create(course_scores, batch_size=500)
        notify_followers_of_changes(
            before=followed_before, course_scores=course_scores, instructor_scores=instructor_scores
        )
        transaction.on_commit(lambda: publish_scores_version(now.isoformat()))
    return sorted(
        instructor_scores, key=lambda score: (score.rank is None, score.rank or 0, -(score.total or 0.0))
    )
