"""analytics.scoring on plain numbers: properties that hold for any input, checked on seeded random cases."""

import math
import random

import pytest

from analytics.scoring import (
    EVIDENCE_PRIOR,
    NEUTRAL_SIGNAL_COMPONENT,
    Rankable,
    RatingBucket,
    assign_ranks,
    evidence_component,
    evidence_strength,
    has_enough_data,
    percentiles,
    prior_weight_share,
    rating_to_unit,
    recency_weight,
    signal_burden,
    signal_component,
    smoothed_mean,
    summarise_ratings,
    total_score,
)

DIMS = ["practice", "concurrency"]


def random_cases(count: int = 50):
    """Seeded generators: the same cases on every run, many more than anyone would write by hand."""
    return [random.Random(seed) for seed in range(count)]


def bucket(count, mean, *, age_days=0.0, dims=None):
    dims = dims or {}
    return RatingBucket(
        age_days=age_days,
        count=count,
        rating_sum=mean * count,
        dim_sums={key: value * count for key, value in dims.items()},
        dim_counts={key: count for key in dims},
    )


def test_it_keeps_the_smoothed_rating_between_the_prior_and_the_raw_mean():
    for rng in random_cases():
        prior = rng.uniform(1, 5)
        mean = rng.uniform(1, 5)
        count = rng.randint(1, 500)
        smoothed = smoothed_mean(total=mean * count, count=count, prior_mean=prior, prior_weight=10)
        assert min(prior, mean) - 1e-9 <= smoothed <= max(prior, mean) + 1e-9


def test_it_pulls_a_few_perfect_reviews_towards_the_platform_mean():
    lucky = smoothed_mean(total=3 * 5.0, count=3, prior_mean=3.8, prior_weight=10)
    proven = smoothed_mean(total=300 * 4.6, count=300, prior_mean=3.8, prior_weight=10)
    assert lucky == pytest.approx((10 * 3.8 + 15) / 13)
    assert proven > lucky  # 300 reviews at 4.6 beat 3 reviews at 5.0


def test_it_trusts_the_reviews_more_as_they_accumulate():
    gaps = [
        abs(smoothed_mean(total=n * 4.8, count=n, prior_mean=3.5, prior_weight=10) - 4.8)
        for n in (1, 5, 50, 500)
    ]
    assert gaps == sorted(gaps, reverse=True)
    assert gaps[-1] < 0.05


def test_it_falls_back_to_the_prior_without_any_review_or_weight():
    assert smoothed_mean(total=0, count=0, prior_mean=3.7, prior_weight=0) == 3.7


def test_it_halves_a_review_weight_every_half_life_and_can_be_turned_off():
    assert recency_weight(0, 365) == 1.0
    assert recency_weight(365, 365) == pytest.approx(0.5)
    assert recency_weight(730, 365) == pytest.approx(0.25)
    assert recency_weight(-20, 365) == 1.0  # "this month" never counts more than a new review
    assert recency_weight(5000, 0) == 1.0


def test_it_lets_recent_reviews_outweigh_old_ones():
    old_praise = bucket(10, 5.0, age_days=1460)
    new_complaints = bucket(10, 2.0, age_days=0)
    weighted = summarise_ratings([old_praise, new_complaints], dimension_keys=DIMS, half_life_days=365)
    flat = summarise_ratings([old_praise, new_complaints], dimension_keys=DIMS, half_life_days=0)
    assert flat.mean == pytest.approx(3.5)
    assert weighted.mean < 2.3
    assert weighted.count == flat.count == 20
    assert weighted.weighted_count < flat.weighted_count == 20


def test_it_averages_dimensions_only_over_reviews_that_rated_them():
    summary = summarise_ratings(
        [bucket(4, 4.0, dims={"practice": 2.0}), bucket(6, 3.0)], dimension_keys=DIMS, half_life_days=0
    )
    assert summary.dimensions == {"practice": 2.0, "concurrency": None}
    assert summary.dimension_counts == {"practice": 4, "concurrency": 0}


@pytest.mark.parametrize("rating", [1, 2.5, 3, 5])
def test_it_maps_stars_onto_zero_to_one(rating):
    assert rating_to_unit(rating) == pytest.approx((rating - 1) / 4)


def test_it_never_lowers_evidence_when_a_figure_grows():
    for rng in random_cases():
        figures = {
            "go_stars": rng.randint(0, 30_000),
            "golang_go_commits": rng.randint(0, 300),
            "allowlist_merged_prs": rng.randint(0, 300),
            "go_repos": rng.randint(0, 50),
            "followers": rng.randint(0, 9_000),
            "months_since_activity": rng.uniform(0, 40),
        }
        name = rng.choice(["go_stars", "golang_go_commits", "allowlist_merged_prs", "go_repos", "followers"])
        grown = figures | {name: figures[name] + rng.randint(1, 1000)}
        assert 0.0 <= evidence_strength(figures) <= evidence_strength(grown) <= 1.0


def test_it_caps_and_log_scales_figures_so_one_viral_repo_cannot_dominate():
    steady = {
        "go_stars": 2_000,
        "golang_go_commits": 40,
        "allowlist_merged_prs": 30,
        "go_repos": 12,
        "followers": 800,
    }
    viral = {"go_stars": 10_000_000}
    assert evidence_strength(viral) == evidence_strength({"go_stars": 20_000})  # capped
    assert evidence_strength(steady) > evidence_strength(viral)
    # Log scale: the first hundred stars earn more than the next hundred.
    first = evidence_strength({"go_stars": 100}) - evidence_strength({"go_stars": 0})
    second = evidence_strength({"go_stars": 200}) - evidence_strength({"go_stars": 100})
    assert first > second > 0


def test_it_gives_nothing_for_empty_evidence_and_rewards_recent_activity():
    assert evidence_strength({}) == 0.0
    assert evidence_strength({"months_since_activity": 0}) == 0.0  # activity alone is not evidence
    active = evidence_strength({"go_stars": 500, "months_since_activity": 0})
    dormant = evidence_strength({"go_stars": 500, "months_since_activity": 36})
    assert active > dormant > 0


def test_it_orders_percentiles_like_the_values():
    for rng in random_cases():
        values = [rng.choice([0.0, rng.random()]) for _ in range(rng.randint(1, 40))]
        result = percentiles(values)
        for a, pa in zip(values, result, strict=True):
            assert 0.0 <= pa < 1.0
            assert (pa == 0.0) == (a <= 0)
            for b, pb in zip(values, result, strict=True):
                if a < b:
                    assert pa <= pb if a <= 0 else pa < pb
                if a == b:
                    assert pa == pb


def test_it_computes_mid_rank_percentiles_among_instructors_with_evidence():
    assert percentiles([0.0, 0.2, 0.4, 0.4, 0.9]) == [0.0, 0.125, 0.5, 0.5, 0.875]


def test_it_smooths_the_signal_burden_towards_the_platform_share():
    newcomer = signal_burden(flagged=2, reviews=2, prior_share=0.2, prior_weight=10)
    veteran = signal_burden(flagged=200, reviews=200, prior_share=0.2, prior_weight=10)
    assert newcomer == pytest.approx((2 + 10 * 0.2) / 12)
    assert newcomer < veteran < 1.0
    assert signal_burden(flagged=0, reviews=0, prior_share=0.2, prior_weight=10) == pytest.approx(0.2)


def test_it_keeps_the_signal_part_neutral_before_the_first_run():
    assert signal_component(None) == NEUTRAL_SIGNAL_COMPONENT
    assert signal_component(0.25) == 0.75


def test_it_keeps_the_total_a_weighted_average_of_its_parts():
    for rng in random_cases():
        components = {name: rng.random() for name in ("learner", "evidence", "signal_burden")}
        weights = {name: rng.uniform(0.01, 3) for name in components}
        total = total_score(components, weights)
        assert min(components.values()) - 1e-9 <= total <= max(components.values()) + 1e-9
        expected = sum(weights[n] * components[n] for n in components) / sum(weights.values())
        assert math.isclose(total, expected)


def test_it_renormalises_weights_over_the_parts_a_course_has():
    weights = {"learner": 0.5, "evidence": 0.3, "signal_burden": 0.2}
    assert total_score({"learner": 1.0, "signal_burden": 0.0}, weights) == pytest.approx(0.5 / 0.7)
    assert total_score({}, weights) == 0.0


def test_it_labels_few_reviews_without_github_as_not_enough_data():
    assert not has_enough_data(review_count=4, has_evidence=False, min_reviews=5)
    assert has_enough_data(review_count=5, has_evidence=False, min_reviews=5)
    assert has_enough_data(review_count=0, has_evidence=True, min_reviews=5)


def test_it_ranks_by_total_then_reviews_and_leaves_thin_entries_unranked():
    entries = [
        Rankable(key="a", total=0.70, review_count=10, enough_data=True, name="a"),
        Rankable(key="b", total=0.90, review_count=3, enough_data=False, name="b"),
        Rankable(key="c", total=0.80, review_count=50, enough_data=True, name="c"),
        Rankable(key="d", total=0.80, review_count=50, enough_data=True, name="d"),
        Rankable(key="e", total=0.80, review_count=20, enough_data=True, name="e"),
    ]
    assert assign_ranks(entries) == {"c": 1, "d": 1, "e": 3, "a": 4, "b": None}


def test_it_counts_an_unlinked_github_account_as_the_stated_prior_not_zero():
    assert evidence_component(None) == EVIDENCE_PRIOR == 0.5
    assert evidence_component(0.0) == 0.0  # a linked account with no Go work is known, and weak
    assert evidence_component(0.9) == 0.9


def test_it_says_how_much_of_a_smoothed_figure_the_prior_carries():
    assert prior_weight_share(count=0, prior_weight=10) == 1.0
    assert prior_weight_share(count=10, prior_weight=10) == 0.5
    assert prior_weight_share(count=3, prior_weight=10) == pytest.approx(10 / 13)
    assert prior_weight_share(count=990, prior_weight=10) == pytest.approx(0.01)
    assert prior_weight_share(count=0, prior_weight=0) == 1.0
