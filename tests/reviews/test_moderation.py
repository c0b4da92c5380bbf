"""Suspicious reviews wait for a moderator instead of reaching the public rating; staff publish or hide them
with a reason; the author sees where their review stands; only published reviews count anywhere public."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from analytics.models import InstructorScore
from analytics.services import scores
from reviews import moderation
from reviews.models import ModerationEvent, Review, ReviewReport
from reviews.services import review_edit, review_moderation_decide, review_submit
from tests.factories import (
    CourseFactory,
    InstructorFactory,
    ReviewFactory,
    ReviewReportFactory,
    StaffUserFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# A copied puff piece: no contact in it, so only the near-duplicate rule can catch its copies.
SPAM = "这门课是我见过最好的 Go 课程，强烈推荐给所有人，老师讲得非常好，每一章都有能跑的代码 666"


def old_account(**kwargs):
    return UserFactory(date_joined=timezone.now() - timedelta(days=400), **kwargs)


def held_rules(review: Review) -> list[str]:
    event = review.moderation_events.get(action=ModerationEvent.Action.HELD)
    return [finding["rule"] for finding in event.findings]


# --- The heuristics ----------------------------------------------------------------------------------------


def test_it_holds_a_near_duplicate_posted_from_another_account():
    first = review_submit(author=old_account(), course=CourseFactory(), rating=5, text=SPAM)
    copy = review_submit(
        author=old_account(), course=CourseFactory(), rating=5, text=SPAM.replace("666", "777") + "！！"
    )

    assert first.status == Review.Status.PUBLISHED
    copy.refresh_from_db()
    assert copy.status == Review.Status.PENDING
    assert held_rules(copy) == [moderation.NEAR_DUPLICATE]
    finding = copy.moderation_events.get().findings[0]["detail"]
    assert finding["review_id"] == first.pk and finding["same_author"] is False


@pytest.mark.parametrize(
    "text",
    [
        "讲得不错，需要全套资料的加我微信 go-master-666 领取优惠券",
        "课程很好，考研视频请加企鹅 二四九六七九一九九一",
        "分享一个学习编程的网站 www.cxyschool.com 免费",
    ],
)
def test_it_holds_a_review_with_a_contact_or_a_link_as_suspected_spam(text):
    review = review_submit(author=old_account(), course=CourseFactory(), rating=5, text=text)
    review.refresh_from_db()
    assert review.status == Review.Status.PENDING
    assert held_rules(review) == [moderation.SUSPECTED_SPAM]


def test_it_holds_a_review_edited_into_an_ad():
    author = old_account()
    review = review_submit(author=author, course=CourseFactory(), rating=4, text="讲得清楚，例子实用")
    review_edit(review=review, editor=author, rating=4, text="讲得清楚，想要源码的加 QQ 群 758988526")
    review.refresh_from_db()
    assert review.status == Review.Status.PENDING
    assert held_rules(review) == [moderation.SUSPECTED_SPAM]


def test_it_leaves_short_common_praise_alone():
    for _ in range(3):
        review = review_submit(
            author=old_account(), course=CourseFactory(), rating=5, text="讲得很好，推荐！"
        )
        assert review.status == Review.Status.PUBLISHED


def test_it_holds_a_burst_of_reviews_on_one_instructor_from_new_accounts():
    instructor = InstructorFactory()
    courses = [CourseFactory(instructors=[instructor]) for _ in range(3)]
    texts = ["并发讲得特别透彻，案例贴近生产", "pprof 和 trace 的演示很实用", "context 超时控制终于搞懂了"]

    reviews = [
        review_submit(author=UserFactory(), course=course, rating=5, text=text)
        for course, text in zip(courses, texts, strict=True)
    ]

    assert [r.status for r in reviews] == ["published", "published", "pending"]
    assert held_rules(reviews[2]) == [moderation.NEW_ACCOUNT_BURST]


def test_it_does_not_treat_established_learners_as_a_burst():
    instructor = InstructorFactory()
    for text in [
        "并发讲得特别透彻，案例贴近生产",
        "pprof 和 trace 的演示很实用",
        "context 超时控制终于搞懂了",
    ]:
        review = review_submit(
            author=old_account(), course=CourseFactory(instructors=[instructor]), rating=5, text=text
        )
        assert review.status == Review.Status.PUBLISHED


def test_it_holds_a_learner_reviewing_many_courses_within_minutes():
    learner = old_account()
    texts = ["例子太简单了", "GOPATH 时代的内容，过时", "测试一点没讲"]
    reviews = [review_submit(author=learner, course=CourseFactory(), rating=2, text=t) for t in texts]

    assert [r.status for r in reviews] == ["published", "published", "pending"]
    assert held_rules(reviews[2]) == [moderation.REVIEW_SPREE]


def test_it_holds_a_review_edited_into_a_copy_of_another():
    review_submit(author=old_account(), course=CourseFactory(), rating=5, text=SPAM)
    author = old_account()
    mine = review_submit(author=author, course=CourseFactory(), rating=3, text="节奏偏快，但内容扎实")

    review_edit(review=mine, editor=author, rating=5, text=SPAM)

    mine.refresh_from_db()
    assert mine.status == Review.Status.PENDING


def test_it_scores_similarity_on_normalised_text():
    assert (
        moderation.similarity(moderation.shingles("Ｇｏ 并发，讲得好！"), moderation.shingles("go并发讲得好"))
        == 1
    )
    assert (
        moderation.similarity(moderation.shingles("完全不同的内容"), moderation.shingles("goroutine 泄漏"))
        == 0
    )


# --- Public numbers count published reviews only -----------------------------------------------------------


@pytest.fixture
def course_with_mixed_statuses():
    instructor = InstructorFactory(slug="mixed-instructor")
    course = CourseFactory(slug="mixed-course", instructors=[instructor])
    ReviewFactory(course=course, rating=4, status=Review.Status.PUBLISHED)
    ReviewFactory(course=course, rating=2, status=Review.Status.PUBLISHED)
    ReviewFactory(course=course, rating=5, status=Review.Status.PENDING, text="待审核的评价")
    ReviewFactory(course=course, rating=5, status=Review.Status.HIDDEN, text="被隐藏的评价")
    return course


def test_it_counts_only_published_reviews_in_the_course_page_and_api(client, course_with_mixed_statuses):
    course = course_with_mixed_statuses
    page = client.get(reverse("course-detail", args=[course.slug]))
    assert page.context["summary"]["count"] == 2
    assert page.context["summary"]["average"] == 3
    assert "待审核的评价" not in page.content.decode() and "被隐藏的评价" not in page.content.decode()

    api = APIClient()
    detail = api.get(f"/api/courses/{course.slug}/").json()
    assert (detail["review_count"], detail["avg_rating"]) == (2, 3.0)
    instructor = api.get("/api/instructors/mixed-instructor/").json()
    assert (instructor["review_count"], instructor["avg_rating"]) == (2, 3.0)
    listed = api.get("/api/reviews/", {"course": course.slug}).json()
    assert sorted(r["rating"] for r in listed["results"]) == [2, 4]


def test_it_ranks_on_published_reviews_only(course_with_mixed_statuses):
    scores.scores_recompute()

    score = InstructorScore.objects.get(instructor__slug="mixed-instructor")
    assert score.review_count == 2
    assert score.breakdown["learner"]["mean_rating"] == 3


# --- Staff pages -------------------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client):
    client.force_login(StaffUserFactory())
    return client


def test_it_lists_held_and_reported_reviews_for_staff(staff_client):
    review_submit(author=old_account(), course=CourseFactory(), rating=5, text=SPAM)
    held = review_submit(author=old_account(), course=CourseFactory(), rating=5, text=SPAM + "。")
    reported = ReviewFactory(text="这条评价在骂人")
    ReviewReportFactory(review=reported, reason=ReviewReport.Reason.ABUSE)

    pending_page = staff_client.get(reverse("moderation-queue"), HTTP_ACCEPT_LANGUAGE="en")
    reported_page = staff_client.get(
        reverse("moderation-queue"), {"tab": "reported"}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert pending_page.status_code == 200
    assert [r.pk for r in pending_page.context["page_obj"].object_list] == [held.pk]
    assert "by another account" in pending_page.content.decode()
    assert [r.pk for r in reported_page.context["page_obj"].object_list] == [reported.pk]
    assert "这条评价在骂人" in reported_page.content.decode()


def test_it_publishes_a_held_review_from_the_queue(staff_client):
    review = ReviewFactory(status=Review.Status.PENDING)

    response = staff_client.post(
        reverse("moderation-decide", args=[review.pk]), {"action": "publish", "reason": "核实过，是真实学员"}
    )

    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == Review.Status.PUBLISHED
    event = review.moderation_events.get()
    assert (event.action, event.reason, event.from_status) == ("published", "核实过，是真实学员", "pending")


def test_it_hides_a_reported_review_with_a_reason_and_closes_its_reports(staff_client):
    review = ReviewFactory()
    ReviewReportFactory.create_batch(2, review=review)

    staff_client.post(reverse("moderation-decide", args=[review.pk]), {"action": "hide", "reason": "广告"})

    review.refresh_from_db()
    assert review.status == Review.Status.HIDDEN
    assert not review.reports.filter(resolved=False).exists()
    assert review.moderation_events.get().moderator.is_staff


def test_it_refuses_to_hide_without_a_reason(staff_client):
    review = ReviewFactory()
    response = staff_client.post(
        reverse("moderation-decide", args=[review.pk]), {"action": "hide", "reason": "  "}, follow=True
    )
    review.refresh_from_db()
    assert review.status == Review.Status.PUBLISHED
    assert not review.moderation_events.exists()
    assert any(m.level_tag == "error" for m in response.context["messages"])


def test_it_refuses_moderation_by_a_learner():
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        review_moderation_decide(review=ReviewFactory(), moderator=UserFactory(), action="hide", reason="x")


def test_it_shows_staff_every_version_of_a_review(staff_client):
    author = old_account()
    review = review_submit(author=author, course=CourseFactory(), rating=4, text="第一版：还不错")
    review_edit(review=review, editor=author, rating=2, text="第二版：后半部分太水")

    page = staff_client.get(reverse("moderation-review", args=[review.pk])).content.decode()

    assert "第一版：还不错" in page and "第二版：后半部分太水" in page


# --- The author --------------------------------------------------------------------------------------------


def test_it_tells_the_author_their_review_awaits_moderation(client):
    author = old_account()
    review = ReviewFactory(author=author, status=Review.Status.PENDING, text="我的待审核评价")
    client.force_login(author)

    page = client.get(reverse("course-detail", args=[review.course.slug]), HTTP_ACCEPT_LANGUAGE="en")
    mine = client.get(reverse("my-reviews"), HTTP_ACCEPT_LANGUAGE="en")
    api = APIClient()
    api.force_authenticate(author)

    assert "waiting for a moderator" in page.content.decode()
    assert "我的待审核评价" in page.content.decode()
    assert "Pending moderation" in mine.content.decode()
    assert api.get(f"/api/reviews/{review.pk}/").json()["status"] == "pending"
    client.logout()
    assert (
        "我的待审核评价"
        not in client.get(reverse("course-detail", args=[review.course.slug])).content.decode()
    )


def test_it_shows_the_author_why_their_review_was_hidden(client):
    author = old_account()
    review = ReviewFactory(author=author)
    review_moderation_decide(
        review=review, moderator=StaffUserFactory(), action="hide", reason="含有联系方式"
    )
    client.force_login(author)

    page = client.get(reverse("course-detail", args=[review.course.slug]), HTTP_ACCEPT_LANGUAGE="en")
    mine = client.get(reverse("my-reviews"), HTTP_ACCEPT_LANGUAGE="en")

    assert "hidden by a moderator" in page.content.decode() and "含有联系方式" in page.content.decode()
    assert "含有联系方式" in mine.content.decode()


@pytest.mark.parametrize("status", [Review.Status.HIDDEN, Review.Status.PENDING])
def test_deleting_a_moderated_review_and_posting_it_again_does_not_skip_moderation(status):
    author, course = old_account(), CourseFactory()
    api = APIClient()
    api.force_authenticate(author)
    text = "老师只会念课件，例子全是 Hello World，毫无生产经验可言，别买这门课"
    first = api.post("/api/reviews/", {"course": course.slug, "rating": 1, "text": text}, format="json")
    review = Review.objects.get(pk=first.json()["id"])
    if status == Review.Status.HIDDEN:
        review_moderation_decide(review=review, moderator=StaffUserFactory(), action="hide", reason="辱骂")
    else:
        Review.objects.filter(pk=review.pk).update(status=status)

    assert api.delete(f"/api/reviews/{review.pk}/").status_code == 204
    again = api.post("/api/reviews/", {"course": course.slug, "rating": 1, "text": text}, format="json")

    assert again.status_code == 201
    resubmitted = Review.objects.get(pk=again.json()["id"])
    assert resubmitted.status == Review.Status.PENDING
    assert held_rules(resubmitted) == [moderation.RESUBMITTED]
    assert not Review.objects.filter(course=course, status=Review.Status.PUBLISHED).exists()


def test_deleting_a_published_review_leaves_the_next_one_published():
    author, course = old_account(), CourseFactory()
    first = review_submit(author=author, course=course, rating=4, text="讲得清楚，例子也实用")
    api = APIClient()
    api.force_authenticate(author)
    assert api.delete(f"/api/reviews/{first.pk}/").status_code == 204
    again = review_submit(author=author, course=course, rating=4, text="讲得清楚，例子也实用")
    assert again.status == Review.Status.PUBLISHED


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_near_identical_reviews_saved_at_the_same_instant_are_not_both_published(monkeypatch):
    import threading
    import time

    from django.db import connection

    from reviews import services

    courses = CourseFactory.create_batch(2)
    authors = [old_account(), old_account()]
    saved = services.reviews.notify_review_saved

    def slow_follow_up(review_id):
        time.sleep(0.3)  # widen the window between screening and commit
        saved(review_id)

    monkeypatch.setattr(services.reviews, "notify_review_saved", slow_follow_up)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def submit(author, course, suffix):
        try:
            start.wait()
            review_submit(author=author, course=course, rating=5, text=SPAM + suffix)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=submit, args=(author, course, suffix))
        for author, course, suffix in zip(authors, courses, ["！", "。"], strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert sorted(Review.objects.values_list("status", flat=True)) == ["pending", "published"]
