"""Django admin for the reviews app: every page opens, and moderation goes through the service."""

import pytest
from django.urls import reverse

from reviews.models import Review, ReviewReport
from tests.factories import (
    CourseFactory,
    InstructorFactory,
    ReviewFactory,
    ReviewReportFactory,
    ReviewRevisionFactory,
    ReviewVoteFactory,
    StaffUserFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db

MODELS = ["instructor", "tag", "course", "review", "reviewrevision", "reviewvote", "reviewreport"]


@pytest.fixture
def staff_client(client):
    client.force_login(StaffUserFactory())
    return client


@pytest.fixture
def some_of_everything():
    review = ReviewFactory(text="<b>并发</b> 讲得好", course=CourseFactory(instructors=[InstructorFactory()]))
    review.course.tags.add(TagFactory())
    ReviewRevisionFactory(review=review)
    ReviewVoteFactory(review=review)
    ReviewReportFactory(review=review)
    return review


@pytest.mark.parametrize("model", MODELS)
def test_it_opens_the_list_and_change_pages_of_every_model(staff_client, some_of_everything, model):
    response = staff_client.get(reverse(f"admin:reviews_{model}_changelist"), {"q": "并发"})
    assert response.status_code == 200
    obj = {
        "instructor": lambda r: r.course.instructors.get(),
        "tag": lambda r: r.course.tags.get(),
        "course": lambda r: r.course,
        "review": lambda r: r,
        "reviewrevision": lambda r: r.revisions.get(),
        "reviewvote": lambda r: r.votes.get(),
        "reviewreport": lambda r: r.reports.get(),
    }[model](some_of_everything)
    assert staff_client.get(reverse(f"admin:reviews_{model}_change", args=[obj.pk])).status_code == 200


def test_it_escapes_review_text_in_the_admin(staff_client, some_of_everything):
    response = staff_client.get(reverse("admin:reviews_review_changelist"))
    assert b"<b>\xe5\xb9\xb6\xe5\x8f\x91</b>" not in response.content
    assert "&lt;b&gt;并发&lt;/b&gt;".encode() in response.content


def test_it_hides_and_republishes_selected_reviews(staff_client):
    reviews = [ReviewFactory(), ReviewFactory()]
    url = reverse("admin:reviews_review_changelist")
    ids = [review.pk for review in reviews]
    staff_client.post(url, {"action": "hide_reviews", "_selected_action": ids})
    assert set(Review.objects.values_list("status", flat=True)) == {"hidden"}
    staff_client.post(url, {"action": "publish_reviews", "_selected_action": ids})
    assert set(Review.objects.values_list("status", flat=True)) == {"published"}


def test_it_hides_a_reported_review_and_closes_the_report(staff_client):
    report = ReviewReportFactory()
    staff_client.post(
        reverse("admin:reviews_reviewreport_changelist"),
        {"action": "hide_reported_reviews", "_selected_action": [report.pk]},
    )
    report.refresh_from_db()
    assert report.resolved and report.review.status == Review.Status.HIDDEN


def test_it_dismisses_reports_and_keeps_the_review_published(staff_client):
    report = ReviewReportFactory()
    staff_client.post(
        reverse("admin:reviews_reviewreport_changelist"),
        {"action": "keep_reported_reviews", "_selected_action": [report.pk]},
    )
    assert not ReviewReport.objects.filter(resolved=False).exists()
    assert Review.objects.get().status == Review.Status.PUBLISHED


def test_it_does_not_let_staff_add_or_rewrite_reviews(staff_client):
    review = ReviewFactory(text="原文")
    assert staff_client.get(reverse("admin:reviews_review_add")).status_code == 403
    response = staff_client.post(
        reverse("admin:reviews_review_change", args=[review.pk]),
        {"status": "hidden", "text": "改写", "revisions-TOTAL_FORMS": 0, "revisions-INITIAL_FORMS": 0},
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert (review.status, review.text) == ("hidden", "原文")
