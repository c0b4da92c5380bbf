"""The shape of a score's `breakdown` (stored as JSON on InstructorScore and CourseScore, shown on the
ranking pages and in the API): what every component of a score was computed from."""

from __future__ import annotations

from typing import Any, TypedDict


class EvidenceFigureWeight(TypedDict):
    cap: float
    weight: float


class LearnerBreakdown(TypedDict):
    smoothed_rating: float
    prior_share: float  # how much of the smoothed rating the prior carries
    mean_rating: float | None
    review_count: int
    weighted_count: float
    prior_mean: float
    prior_weight: float
    half_life_days: float
    dimensions: dict[str, float | None]
    dimension_counts: dict[str, int]


class NeutralBurden(TypedDict):
    """No current signal run: the burden component is neutral."""

    run_id: None
    neutral: bool


class BurdenBreakdown(TypedDict):
    run_id: int
    neutral: bool
    flagged: int
    reviews: int
    share: float | None
    smoothed: float
    prior_share: float
    prior_weight_share: float  # how much of the smoothed burden the prior carries
    prior_weight: float


class EvidenceBreakdown(TypedDict):
    has_evidence: bool
    linked: bool  # a GitHub login is linked (else the evidence is the stated prior, not zero)
    prior: float | None
    strength: float
    percentile: float
    snapshot_id: int | None
    fetched_at: str | None
    figures: dict[str, float | int | None]


class TopSignal(TypedDict):
    key: str
    name_zh: str
    name_en: str
    count: int
    share: float


class PlatformBreakdown(TypedDict):
    mean_rating: float | None
    review_count: int
    dimensions: dict[str, float | None]
    signal_share: float | None


class RepositoryBreakdown(TypedDict):
    """The course's companion-repository check (never checked: neutral)."""

    checked: bool
    score: float | None
    audited_at: str | None
    verdicts: dict[str, Any]


class _Breakdown(TypedDict):
    weights: dict[str, float]
    min_reviews: int
    components: dict[str, float]
    learner: LearnerBreakdown
    signal_burden: NeutralBurden | BurdenBreakdown
    top_signals: list[TopSignal]
    platform: PlatformBreakdown


class CourseBreakdown(_Breakdown):
    repository: RepositoryBreakdown


class InstructorBreakdown(_Breakdown):
    star_cap_per_repo: int
    evidence_figures: dict[str, EvidenceFigureWeight]
    evidence: EvidenceBreakdown


class SignalName(TypedDict):
    key: str
    name_zh: str
    name_en: str


class FollowChange(TypedDict):
    """What a notification tells a follower: the score out of 1 before and after (None: not scored) and
    the failure signals that entered or left the item's top signals."""

    score_before: float | None
    score_after: float | None
    signals_added: list[SignalName]
    signals_removed: list[SignalName]
