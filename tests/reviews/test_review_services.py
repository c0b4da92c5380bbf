"""Write paths in reviews.services: what a learner and a moderator can and cannot do, and what gets stored."""

import threading

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from analytics.services import review_followup
from reviews import services
from reviews.models import Review, ReviewReport, ReviewRevision, ReviewVote
from reviews.services import (
    review_delete,
    review_edit,
    review_moderate,
    review_report,
    review_submit,
    review_unvote_helpful,
    review_vote_helpful,
)
from tests.factories import (
    CourseFactory,
    ReviewFactory,
    ReviewReportFactory,
    StaffUserFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def saved_review_ids(monkeypatch) -> list[int]:
    calls: list[int] = []
    monkeypatch.setattr(review_followup, "review_saved", lambda *, review_id: calls.append(review_id))
    return calls


def test_it_stores_a_review_with_its_first_revision(saved_review_ids, django_capture_on_commit_callbacks):
    author, course = UserFactory(), CourseFactory()
    with django_capture_on_commit_callbacks(execute=True):
        review = review_submit(
            author=author,
            course=course,
            rating="4",
            text="  channel 讲得透彻，但缺 context 超时。 ",
            dimensions={"practice": 3, "production": "2"},
        )
    review.refresh_from_db()
    assert (review.rating, review.text, review.dimensions) == (
        4,
        "channel 讲得透彻，但缺 context 超时。",
        {"practice": 3, "production": 2},
    )
    assert review.status == Review.Status.PUBLISHED and review.source == Review.Source.WEB
    assert review.created_at is not None and review.helpful_count == 0
    revision = review.revisions.get()
    assert (revision.rating, revision.text, revision.dimensions, revision.edited_by) == (
        4,
        review.text,
        {"practice": 3, "production": 2},
        author,
    )
    assert saved_review_ids == [review.pk]


def test_it_tells_analytics_only_after_the_review_is_committed(
    saved_review_ids, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        review_submit(author=UserFactory(), course=CourseFactory(), rating=5, text="好课")
    assert saved_review_ids == [] and len(callbacks) == 1


def test_it_keeps_the_review_when_the_analytics_follow_up_fails(
    monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*, review_id):
        raise ConnectionError("broker down")

    monkeypatch.setattr(review_followup, "review_saved", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        review = review_submit(author=UserFactory(), course=CourseFactory(), rating=5, text="好课")
    assert Review.objects.filter(pk=review.pk).exists()


@pytest.mark.parametrize(
    ("rating", "text", "dimensions", "bad_fields"),
    [
        (0, "ok", None, {"rating"}),
        (6, "ok", None, {"rating"}),
        (2.5, "ok", None, {"rating"}),
        ("五", "ok", None, {"rating"}),
        (3, "   ", None, {"text"}),
        (3, "好" * 5001, None, {"text"}),
        (3, "nul\x00byte", None, {"text"}),
        (3, "ok", {"practice": 7}, {"dimensions"}),
        (None, "", {"unknown": 3}, {"rating", "text", "dimensions"}),
    ],
)
def test_it_rejects_bad_input_per_field_and_stores_nothing(rating, text, dimensions, bad_fields):
    with pytest.raises(ValidationError) as caught:
        review_submit(
            author=UserFactory(), course=CourseFactory(), rating=rating, text=text, dimensions=dimensions
        )
    assert set(caught.value.message_dict) == bad_fields
    assert Review.objects.count() == 0 and ReviewRevision.objects.count() == 0


def test_it_accepts_exactly_5000_chinese_characters():
    review = review_submit(author=UserFactory(), course=CourseFactory(), rating=3, text="并" * 5000)
    review.refresh_from_db()
    assert len(review.text) == 5000


def test_it_refuses_a_second_review_of_the_same_course_by_the_same_learner():
    author, course = UserFactory(), CourseFactory()
    review_submit(author=author, course=course, rating=4, text="第一次")
    with pytest.raises(ValidationError) as caught:
        review_submit(author=author, course=course, rating=1, text="第二次")
    assert list(caught.value.message_dict) == ["course"]
    assert Review.objects.filter(author=author, course=course).count() == 1


def test_it_lets_different_learners_review_the_same_course():
    course = CourseFactory()
    review_submit(author=UserFactory(), course=course, rating=4, text="a")
    review_submit(author=UserFactory(), course=course, rating=2, text="b")
    assert course.reviews.count() == 2


def test_it_requires_a_logged_in_author():
    with pytest.raises(PermissionDenied):
        review_submit(author=AnonymousUser(), course=CourseFactory(), rating=4, text="匿名")
    assert Review.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_it_keeps_one_review_when_two_submissions_race(monkeypatch):
    """Both requests pass the "already reviewed?" check before either inserts; the constraint decides.

    On PostgreSQL both transactions then run at once (the second INSERT waits on the unique index). SQLite
    runs one writer at a time (IMMEDIATE transactions), so there the second insert starts once the first
    has committed, which is the only interleaving SQLite allows (and its in-memory test database reports
    overlapping writers as "table is locked" instead of waiting like the real file does).
    """
    author, course = UserFactory(), CourseFactory()
    both_checked = threading.Barrier(2, timeout=10)
    one_writer_at_a_time = threading.Lock()
    this_thread = threading.local()
    serialize_writers = connection.vendor == "sqlite"
    real_initial_status = services.reviews.review_initial_status

    def initial_status_after_both_checked(**kwargs):
        both_checked.wait()
        if serialize_writers:
            this_thread.writing = one_writer_at_a_time.acquire(timeout=10)
        return real_initial_status(**kwargs)

    monkeypatch.setattr(services.reviews, "review_initial_status", initial_status_after_both_checked)
    outcomes: list[object] = []

    def submit(text: str) -> None:
        try:
            outcomes.append(review_submit(author=author, course=course, rating=4, text=text))
        except Exception as error:  # noqa: BLE001 - the test inspects whatever happened
            outcomes.append(error)
        finally:
            if getattr(this_thread, "writing", False):
                one_writer_at_a_time.release()
            connection.close()

    threads = [threading.Thread(target=submit, args=(text,)) for text in ("第一份", "第二份")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    created = [outcome for outcome in outcomes if isinstance(outcome, Review)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, ValidationError)]
    assert len(created) == 1 and len(refused) == 1, outcomes
    assert list(refused[0].message_dict) == ["course"]
    assert Review.objects.filter(author=author, course=course).count() == 1
    assert ReviewRevision.objects.count() == 1


def test_it_records_every_edit_as_a_revision(saved_review_ids, django_capture_on_commit_callbacks):
    author = UserFactory()
    review = review_submit(
        author=author, course=CourseFactory(), rating=4, text="v1", dimensions={"practice": 4}
    )
    with django_capture_on_commit_callbacks(execute=True):
        review_edit(review=review, editor=author, rating=2, text="v2", dimensions={"testing": 1})
    review_edit(review=review, editor=author, rating=3, text="v3")
    review.refresh_from_db()
    assert (review.rating, review.text, review.dimensions) == (3, "v3", {"testing": 1})
    assert list(review.revisions.order_by("pk").values_list("text", flat=True)) == ["v1", "v2", "v3"]
    assert saved_review_ids == [review.pk]


def test_it_stores_no_new_revision_when_nothing_changed():
    author = UserFactory()
    review = review_submit(author=author, course=CourseFactory(), rating=4, text="same")
    review_edit(review=review, editor=author, rating="4", text=" same ")
    assert review.revisions.count() == 1


def test_it_forbids_editing_someone_elses_review_and_leaves_it_unchanged():
    review = review_submit(author=UserFactory(), course=CourseFactory(), rating=4, text="原文")
    for intruder in (UserFactory(), AnonymousUser()):
        with pytest.raises(PermissionDenied):
            review_edit(review=review, editor=intruder, rating=1, text="篡改")
    review.refresh_from_db()
    assert (review.rating, review.text, review.revisions.count()) == (4, "原文", 1)


def test_it_leaves_the_review_unchanged_when_an_edit_is_invalid():
    author = UserFactory()
    review = review_submit(author=author, course=CourseFactory(), rating=4, text="原文")
    with pytest.raises(ValidationError) as caught:
        review_edit(review=review, editor=author, rating=9, text="")
    assert set(caught.value.message_dict) == {"rating", "text"}
    review.refresh_from_db()
    assert (review.rating, review.text, review.revisions.count()) == (4, "原文", 1)


def test_it_lets_only_the_author_delete_a_review():
    review = ReviewFactory()
    with pytest.raises(PermissionDenied):
        review_delete(review=review, user=UserFactory())
    assert Review.objects.filter(pk=review.pk).exists()
    review_delete(review=review, user=review.author)
    assert not Review.objects.filter(pk=review.pk).exists()


def test_it_counts_each_learners_helpful_vote_once():
    review = ReviewFactory()
    first, second = UserFactory(), UserFactory()
    review_vote_helpful(review=review, user=first)
    review_vote_helpful(review=review, user=first)
    assert review_vote_helpful(review=review, user=second).helpful_count == 2
    assert ReviewVote.objects.filter(review=review).count() == 2


def test_it_takes_back_a_helpful_vote_and_stays_consistent():
    review = ReviewFactory()
    voter = UserFactory()
    review_vote_helpful(review=review, user=voter)
    assert review_unvote_helpful(review=review, user=voter).helpful_count == 0
    assert review_unvote_helpful(review=review, user=voter).helpful_count == 0
    assert not ReviewVote.objects.exists()


def test_it_refuses_a_vote_for_ones_own_or_a_hidden_review():
    review = ReviewFactory()
    with pytest.raises(ValidationError):
        review_vote_helpful(review=review, user=review.author)
    hidden = ReviewFactory(status=Review.Status.HIDDEN)
    with pytest.raises(ValidationError):
        review_vote_helpful(review=hidden, user=UserFactory())
    with pytest.raises(PermissionDenied):
        review_vote_helpful(review=review, user=AnonymousUser())
    assert ReviewVote.objects.count() == 0
    assert Review.objects.filter(helpful_count__gt=0).count() == 0


def test_it_files_one_report_per_learner_and_review():
    review, reporter = ReviewFactory(), UserFactory()
    report = review_report(review=review, reporter=reporter, reason="spam", detail=" 推广链接 ")
    assert (report.reason, report.detail, report.resolved) == ("spam", "推广链接", False)
    with pytest.raises(ValidationError) as caught:
        review_report(review=review, reporter=reporter, reason="abuse")
    assert list(caught.value.message_dict) == ["review"]
    assert ReviewReport.objects.count() == 1


@pytest.mark.parametrize(
    ("reason", "detail", "bad_field"),
    [("nonsense", "", "reason"), ("abuse", "x" * 1001, "detail"), ("abuse", "a\x00b", "detail")],
)
def test_it_rejects_a_bad_report(reason, detail, bad_field):
    with pytest.raises(ValidationError) as caught:
        review_report(review=ReviewFactory(), reporter=UserFactory(), reason=reason, detail=detail)
    assert bad_field in caught.value.message_dict
    assert ReviewReport.objects.count() == 0


def test_it_refuses_a_report_on_ones_own_review():
    review = ReviewFactory()
    with pytest.raises(ValidationError):
        review_report(review=review, reporter=review.author, reason="spam")


def test_it_lets_staff_hide_reviews_and_closes_their_reports(
    saved_review_ids, django_capture_on_commit_callbacks
):
    reported = ReviewReportFactory().review
    other = ReviewFactory()
    with django_capture_on_commit_callbacks(execute=True):
        changed = review_moderate(reviews=[reported, other], status="hidden", moderator=StaffUserFactory())
    assert changed == 2
    assert set(Review.objects.values_list("status", flat=True)) == {"hidden"}
    assert not ReviewReport.objects.filter(resolved=False).exists()
    assert sorted(saved_review_ids) == sorted([reported.pk, other.pk])


def test_it_lets_only_staff_moderate():
    review = ReviewFactory()
    with pytest.raises(PermissionDenied):
        review_moderate(reviews=[review], status="hidden", moderator=UserFactory())
    review.refresh_from_db()
    assert review.status == Review.Status.PUBLISHED
