"""The write/edit/delete review pages as a learner uses them: what is kept, what is refused, what is shown."""

import pytest
from django.urls import reverse

from reviews.models import Review
from tests.factories import CourseFactory, ReviewFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def course():
    return CourseFactory(title="Go 并发编程实战", slug="go-concurrency")


@pytest.fixture
def learner(client):
    user = UserFactory()
    client.force_login(user)
    return user


def _create_url(course) -> str:
    return reverse("review-create", args=[course.slug])


def test_it_stores_the_dimension_ratings_a_learner_gives_and_leaves_the_others_unrated(
    client, course, learner
):
    response = client.post(
        _create_url(course),
        {
            "rating": "3",
            "text": "并发章节不错，测试太少",
            "dim_concurrency": "5",
            "dim_testing": "1",
            "dim_practice": "",
        },
    )
    assert response.status_code == 302
    review = Review.objects.get(author=learner)
    assert review.dimensions == {"concurrency": 5, "testing": 1}


@pytest.mark.parametrize("value", ["0", "6", "2.5", "五"])
def test_it_shows_a_bad_dimension_rating_on_that_dimension_and_stores_nothing(client, course, learner, value):
    response = client.post(_create_url(course), {"rating": "4", "text": "还行", "dim_production": value})
    assert response.status_code == 200
    assert response.context["form"].errors["dim_production"]
    assert not Review.objects.filter(author=learner).exists()


def test_it_explains_errors_in_chinese_by_default(client, course, learner):
    body = client.post(_create_url(course), {"rating": "五", "text": "  "}).content.decode()
    assert "请选择 1 到 5 星的评分" in body
    assert "请填写评价内容" in body
    assert 'lang="zh-hans"' in body
    assert not Review.objects.exists()


def test_it_keeps_what_the_learner_typed_when_the_form_is_refused(client, course, learner):
    body = client.post(_create_url(course), {"rating": "9", "text": "讲得很清楚的一门课"}).content.decode()
    assert "讲得很清楚的一门课" in body
    assert not Review.objects.exists()


def test_it_accepts_windows_line_breaks_within_the_limit(client, course, learner):
    text = ("好" * 99 + "\r\n") * 50  # 5,000 characters once CRLF is a single line break
    assert client.post(_create_url(course), {"rating": "5", "text": text}).status_code == 302
    assert len(Review.objects.get(author=learner).text) == 4999  # trailing line break stripped


def test_it_sends_a_learner_who_already_reviewed_to_their_review(client, course, learner):
    review = ReviewFactory(course=course, author=learner)
    response = client.get(_create_url(course))
    assert response.status_code == 302 and response["Location"] == reverse("review-edit", args=[review.pk])


def test_it_links_to_the_existing_review_when_a_second_one_is_posted(client, course, learner):
    review = ReviewFactory(course=course, author=learner)
    response = client.post(_create_url(course), {"rating": "2", "text": "第二条"})
    assert response.status_code == 200
    assert reverse("review-edit", args=[review.pk]) in response.content.decode()
    assert Review.objects.filter(author=learner, course=course).count() == 1


def test_it_prefills_the_edit_form_and_counts_earlier_versions(client, course, learner):
    client.post(_create_url(course), {"rating": "4", "text": "第一版", "dim_delivery": "4"})
    review = Review.objects.get(author=learner)
    client.post(reverse("review-edit", args=[review.pk]), {"rating": "3", "text": "第二版"})
    response = client.get(reverse("review-edit", args=[review.pk]), HTTP_ACCEPT_LANGUAGE="en")
    form = response.context["form"]
    assert (form["rating"].value(), form["text"].value()) == ("3", "第二版")
    assert response.context["previous_versions"] == 1
    assert "Edited 1 time before" in response.content.decode()


def test_it_clears_a_dimension_the_learner_sets_back_to_not_rated(client, course, learner):
    review = ReviewFactory(course=course, author=learner, dim_practice=2)
    client.post(reverse("review-edit", args=[review.pk]), {"rating": "4", "text": "改了", "dim_practice": ""})
    review.refresh_from_db()
    assert review.dim_practice is None


def test_it_ignores_status_and_author_posted_to_the_edit_form(client, course, learner):
    review = ReviewFactory(course=course, author=learner)
    other = UserFactory()
    client.post(
        reverse("review-edit", args=[review.pk]),
        {"rating": "2", "text": "改评价", "status": "hidden", "author": other.pk, "helpful_count": "50"},
    )
    review.refresh_from_db()
    assert (review.text, review.status, review.author, review.helpful_count) == (
        "改评价",
        "published",
        learner,
        0,
    )


def test_it_shows_someone_elses_edit_page_as_forbidden(client, course, learner):
    review = ReviewFactory(course=course, rating=5, text="原文")
    assert client.get(reverse("review-edit", args=[review.pk])).status_code == 403
    assert client.get(reverse("review-delete", args=[review.pk])).status_code == 403
    review.refresh_from_db()
    assert (review.rating, review.text) == (5, "原文")


def test_it_asks_for_confirmation_before_deleting_and_then_deletes(client, course, learner):
    review = ReviewFactory(course=course, author=learner)
    confirm = client.get(reverse("review-delete", args=[review.pk]))
    assert confirm.status_code == 200 and Review.objects.filter(pk=review.pk).exists()
    response = client.post(reverse("review-delete", args=[review.pk]))
    assert response.status_code == 302 and response["Location"] == course.get_absolute_url()
    assert not Review.objects.filter(pk=review.pk).exists()


def test_it_wires_the_live_character_counter_to_the_text_field(client, course, learner):
    body = client.get(_create_url(course)).content.decode()
    assert 'data-maxchars="5000"' in body and 'data-counter-for="id_text"' in body
