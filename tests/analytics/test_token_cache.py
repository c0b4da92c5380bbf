"""The per-review cache a run reads instead of segmenting and deciding again: what it stores must read back
as exactly the clauses the segmenter gives, on SQLite (executemany) and PostgreSQL (COPY) alike; a row's
words count while the review's text, its rating and the segmenter are unchanged, and its decisions while
the complaint model that made them is the current one."""

import hashlib

import pytest
from django.db import transaction

from analytics import clauses
from analytics.models import LearnedModel, ReviewSignal, ReviewTokens, SignalRun
from analytics.services import signal_runs, taxonomy
from analytics.text import get_segmenter
from reviews.models import Review
from tests.analytics.signal_corpus import make_corpus
from tests.factories import ReviewFactory

pytestmark = pytest.mark.django_db

AWKWARD_TEXTS = [
    "没有超时控制\u3000全角空格\u00a0不换行空格\t制表符\r\nWindows 换行\n还有\u2028行分隔符",
    '错误处理就是 fmt.Errorf("%v\\n")，反斜杠 \\ 和引号 " \' 都在',
    "还在用 ＧＯＰＡＴＨ　ｇｏ ｍｏｄ，Hello   World 级别的例子",
    "😂😂😂",
    "\u200b\u200b 🙂",
    "The examples are toys. No timeouts, no tests, no modules.",
    "這門課還在用 GOPATH，沒有超時控制",
    ("没有超时控制，goroutine 泄漏，GOPATH 过时。" * 200)[:5000],
]


def run_once() -> SignalRun:
    run, _created = signal_runs.signal_run_start(enqueue=False)
    return signal_runs.signal_run_execute(run_id=run.pk)


def cached(review) -> ReviewTokens:
    return ReviewTokens.objects.get(review=review)


@pytest.fixture
def seeded():
    taxonomy.seed_signal_definitions()


def _words(review) -> list[tuple[str, ...]]:
    segmenter = get_segmenter()
    return [clause.tokens for clause in clauses.split(segmenter.words(review.text), segmenter.keep)]


def test_it_reads_back_cached_clauses_exactly_as_the_segmenter_cut_them(seeded):
    make_corpus(repeat=1)
    reviews = [ReviewFactory(text=text, rating=2) for text in AWKWARD_TEXTS]
    first = run_once()
    for review in reviews:
        row = cached(review)
        assert [clause.tokens for clause in clauses.unpack(row.tokens)] == (
            _words(review) if not row.noise else []
        )
        assert row.text_hash == hashlib.md5(review.text.encode()).hexdigest()
        assert row.rating == 2
    assert cached(reviews[0]).complaint  # "没有超时控制…" at 2★
    assert cached(reviews[3]).noise == "empty" and not cached(reviews[3]).complaint  # 😂😂😂
    second = run_once()
    assert second.counts["segmented"] == 0
    assert dict(
        ReviewSignal.objects.filter(run=second).values_list("review_id", "cluster__definition__key")
    ) == (dict(ReviewSignal.objects.filter(run=first).values_list("review_id", "cluster__definition__key")))


def test_it_replaces_the_cached_tokens_of_an_edited_review(seeded):
    make_corpus(repeat=1)
    review = ReviewFactory(text="讲得非常清楚，强烈推荐", rating=5)
    run_once()
    assert not cached(review).complaint
    review.text = "讲得清楚，但是还在用 GOPATH，没有超时控制，一行单元测试都没有"
    review.save()
    assert run_once().counts["segmented"] == 1
    assert [clause.tokens for clause in clauses.unpack(cached(review).tokens)] == _words(review)
    assert cached(review).complaint  # a complaint in wording even at five stars


def test_it_sees_a_text_changed_behind_the_models_back(seeded):
    # A bulk update (a redaction, a data fix) saves no model instance: the database's hash of the text
    # still tells the next run that the cached clauses are stale.
    make_corpus(repeat=1)
    review = ReviewFactory(text="讲得非常清楚，强烈推荐", rating=2)
    run_once()
    Review.objects.filter(pk=review.pk).update(text="视频一直卡顿，根本播放不了")
    assert run_once().counts["segmented"] == 1
    review.refresh_from_db()
    assert cached(review).text_hash == review.text_hash == hashlib.md5(review.text.encode()).hexdigest()
    assert [clause.tokens for clause in clauses.unpack(cached(review).tokens)] == _words(review)


def test_it_decides_again_when_only_the_rating_changed(seeded):
    make_corpus(repeat=1)
    review = ReviewFactory(text="讲得还行，就是例子太简单，没有实战", rating=5)
    run_once()
    review.rating = 1
    review.save()
    run = run_once()
    assert run.counts["segmented"] == 1
    assert cached(review).complaint and cached(review).rating == 1
    assert (
        ReviewSignal.objects.filter(run=run, review=review).exists()
        or review.pk in run.report["unassigned_complaints"]
    )


def test_it_rebuilds_rows_made_by_another_pipeline(seeded):
    labels = make_corpus(repeat=1)
    run_once()
    ReviewTokens.objects.filter(pk__in=list(labels)[:5]).update(pipeline="older-classifier", complaint=False)
    assert run_once().counts["segmented"] == 5
    assert not ReviewTokens.objects.filter(pipeline="older-classifier").exists()


def test_it_decides_again_from_cached_words_when_the_model_is_learned_again(seeded, settings):
    make_corpus(repeat=1)
    first = run_once()
    assert first.counts["trained"] == 1 and first.counts["segmented"] == first.counts["reviews"]
    assert run_once().counts["trained"] == 0  # the stored model serves an unchanged corpus
    make_corpus(repeat=1)  # the corpus doubles: enough change to learn again
    run = run_once()
    assert run.counts["trained"] == 1
    assert run.counts["segmented"] == first.counts["reviews"]  # only the new reviews are cut
    assert run.counts["decided"] == run.counts["reviews"]  # every review, by the new model
    assert LearnedModel.objects.get(kind=LearnedModel.COMPLAINTS).reviews == run.counts["reviews"]


def test_it_reads_integer_columns_as_one_array(seeded):
    from django.db.models import IntegerField, Value

    from analytics.services.token_cache import int_columns

    make_corpus(repeat=1)
    rows = Review.objects.order_by("pk").values_list("pk", "rating", "course_id")
    table = int_columns(rows)
    assert table.shape == (Review.objects.count(), 3)
    assert [tuple(row) for row in table.tolist()] == list(rows)
    assert int_columns(rows.filter(pk__lt=0)).shape == (0, 3)
    with pytest.raises((RuntimeError, TypeError)):
        int_columns(
            Review.objects.annotate(nothing=Value(None, output_field=IntegerField())).values_list(
                "pk", "nothing"
            )
        )


def test_a_new_row_that_already_exists_fails_the_whole_write(seeded):
    """Chunks insert the rows of reviews without a cache row as they are; one that appeared meanwhile must
    fail the chunk's write as a whole (it is run again), never leave half of it stored."""
    from django.db import IntegrityError, transaction

    from analytics.services.token_cache import store

    make_corpus(repeat=1)
    run_once()
    review = Review.objects.order_by("pk").first()
    ReviewTokens.objects.exclude(review=review).delete()
    others = list(Review.objects.exclude(pk=review.pk).values_list("pk", flat=True)[:5])
    rows = [(pk, "0" * 32, 3, "| 新", False, "") for pk in [*others, review.pk]]
    with pytest.raises(IntegrityError), transaction.atomic():
        store(rows, pipeline="x", new=True)
    assert not ReviewTokens.objects.filter(review_id__in=others).exists()
    assert cached(review).tokens != "| 新"


def test_a_deleted_reviews_row_goes_with_it_and_a_left_over_row_harms_nothing(seeded, admin_client):
    """The cache's link to its review has no database constraint (checking it cost more than writing the
    rows): deleting reviews through Django still deletes their rows, and a row whose review went away
    behind Django's back (a chunk that wrote it as the review was deleted) is never read."""
    from analytics.services.token_cache import store

    make_corpus(repeat=1)
    first = run_once()
    gone = list(Review.objects.order_by("pk").values_list("pk", flat=True)[:3])
    Review.objects.filter(pk__in=gone).delete()
    assert not ReviewTokens.objects.filter(review_id__in=gone).exists()
    with transaction.atomic():
        store([(gone[0], "0" * 32, 1, "!| 卡顿 严重", True, "")], pipeline="x", new=True)
    second = run_once()
    assert second.status == SignalRun.Status.SUCCEEDED
    assert second.counts["reviews"] == first.counts["reviews"] - 3
    assert not ReviewSignal.objects.filter(run=second, review_id__in=gone).exists()
    page = admin_client.get("/admin/analytics/reviewtokens/")
    assert page.status_code == 200
