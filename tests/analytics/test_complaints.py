"""Complaint clauses (analytics/complaints.py, analytics/pipeline.py) on real reviews: the text decides, the
stars are evidence."""

import pytest

from analytics import clauses, complaints, pipeline, text
from analytics.clauses import Clause

from .real_corpus import real_corpus

pytestmark = pytest.mark.slow


def _decide(review: str, rating: int) -> list[tuple[str, bool]]:
    corpus = real_corpus()
    prepared = pipeline.prepare([review], text.get_segmenter())[0]
    decided = pipeline.decide([prepared.clauses], [rating], corpus.model)[0]
    return [("".join(clause.tokens), clause.complaint) for clause in decided]


def test_it_does_not_take_one_star_praise_for_a_complaint():
    assert not any(complaint for _clause, complaint in _decide("老师讲的很好，很透彻", 1))


def test_it_takes_the_complaint_clause_of_a_five_star_review():
    decided = _decide("讲得很清楚，但是声音太小了", 5)
    assert [complaint for _clause, complaint in decided] == [False, True]


def test_it_finds_complaints_in_what_one_star_learners_write():
    for review in ["视频一直卡，根本播放不了", "老师全程照着PPT念", "提问了一个月没人回复"]:
        assert any(complaint for _clause, complaint in _decide(review, 1)), review


def test_it_counts_few_complaints_among_five_star_reviews_and_most_among_one_star():
    corpus = real_corpus()
    share = {}
    for stars in (1, 5):
        reviews = [r for r, rating in zip(corpus.reviews, corpus.ratings, strict=True) if rating == stars]
        share[stars] = sum(any(c.complaint for c in review) for review in reviews) / len(reviews)
    assert share[5] < 0.1 and share[1] > 0.8


def test_it_learns_its_priors_from_the_corpus_not_from_a_rule():
    corpus = real_corpus()
    model = corpus.model
    assert model.prior(1, False) > model.prior(3, False) > model.prior(5, False)
    assert model.prior(5, True) > model.prior(5, False)  # "但是…" in a happy review


def test_it_survives_a_round_trip_as_json():
    model = real_corpus().model
    again = complaints.ComplaintModel.from_json(model.as_json())
    clause = ("声音", "太小")
    assert again.log_odds(clause) == pytest.approx(model.log_odds(clause))
    assert again.prior(2, True) == model.prior(2, True)


def test_it_refuses_to_learn_from_a_corpus_without_low_ratings():
    praise = [([Clause(("老师", "讲", "好"))], 5)] * 100
    with pytest.raises(ValueError, match="too few"):
        complaints.train(praise)


def test_cached_clauses_are_decided_as_freshly_segmented_ones():
    # A run's chunks decide cached (packed) reviews in one batch; the decisions must be those of the clauses.
    corpus = real_corpus()
    reviews, ratings = corpus.reviews[:400], corpus.ratings[:400]
    undecided = [clauses.pack([clause._replace(complaint=False) for clause in review]) for review in reviews]
    expected = [clauses.pack(review) for review in pipeline.decide(reviews, ratings, corpus.model)]
    assert any("!" in packed for packed in expected) and "" in undecided
    assert pipeline.decide_packed(undecided, ratings, corpus.model) == expected


def test_a_batch_of_packed_reviews_refuses_text_that_is_not_packed():
    with pytest.raises(ValueError, match="clause marker"):
        clauses.read(["| 声音 太小", "声音 太小"])


def test_a_batch_is_prepared_and_decided_as_review_by_review():
    """prepare_batch / decide_batch (a run's chunks) give what prepare / decide / pack give per review."""
    corpus = real_corpus()
    texts, ratings = corpus.texts[:5000], corpus.ratings[:5000]
    texts += ["加QQ群 123456789 领资料", "哈哈哈哈", "的的 了", "好"]
    ratings += [1, 5, 3, 4]
    segmenter = text.get_segmenter()
    one_by_one = pipeline.prepare(texts, segmenter)
    batch = pipeline.prepare_batch(texts, segmenter)
    assert batch.noise == [item.noise for item in one_by_one]
    assert batch.noise[-4:] == ["contact", "empty", pipeline.NO_CONTENT, ""]
    decided = pipeline.decide([item.clauses for item in one_by_one], ratings, corpus.model)
    assert pipeline.decide_batch(batch.batch, ratings, corpus.model) == [clauses.pack(r) for r in decided]
