"""A logged-in browser session cannot be ridden by another site, and no session is carried over a
log-in."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from reviews.models import Review
from tests.factories import DEFAULT_PASSWORD, CourseFactory, ReviewFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def session_api():
    """An API client logged in through the session cookie, with CSRF checks on like a browser."""
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(UserFactory())
    return client


def test_it_refuses_a_session_authenticated_api_write_without_the_csrf_token(session_api):
    course = CourseFactory()
    body = {"course": course.slug, "rating": 5, "text": "跨站请求伪造"}

    response = session_api.post("/api/reviews/", body, format="json")

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert Review.objects.count() == 0


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_it_refuses_session_edits_and_deletes_without_the_csrf_token(session_api, method):
    review = ReviewFactory(author=UserFactory())
    session_api.force_login(review.author)
    response = getattr(session_api, method)(f"/api/reviews/{review.pk}/", {"text": "改"}, format="json")
    assert response.status_code == 403
    assert Review.objects.filter(pk=review.pk, text=review.text).exists()


def test_it_refuses_a_session_vote_without_the_csrf_token(session_api):
    review = ReviewFactory()
    assert session_api.post(f"/api/reviews/{review.pk}/helpful/").status_code == 403
    review.refresh_from_db()
    assert review.helpful_count == 0


def test_it_accepts_the_write_with_the_token_from_the_page(session_api):
    course = CourseFactory()
    session_api.get(reverse("course-detail", args=[course.slug]))  # the page sets the csrftoken cookie
    token = session_api.cookies[settings.CSRF_COOKIE_NAME].value

    response = session_api.post(
        "/api/reviews/",
        {"course": course.slug, "rating": 5, "text": "真实的评价"},
        format="json",
        HTTP_X_CSRFTOKEN=token,
    )

    assert response.status_code == 201


def test_it_refuses_a_form_post_without_the_csrf_token():
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory())
    course = CourseFactory()
    response = client.post(reverse("review-create", args=[course.slug]), {"rating": "5", "text": "伪造"})
    assert response.status_code == 403
    assert Review.objects.count() == 0


def test_it_gives_the_session_a_new_key_at_log_in(client):
    UserFactory(username="dora")
    session = client.session
    session["visited"] = True  # an anonymous session an attacker could have planted
    session.save()
    planted = session.session_key
    client.cookies[settings.SESSION_COOKIE_NAME] = planted

    response = client.post(reverse("login"), {"username": "dora", "password": DEFAULT_PASSWORD})

    assert response.status_code == 302
    new_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert new_key and new_key != planted
    assert client.session["_auth_user_id"]
    # The planted key gives the attacker nothing: it is not a logged-in session.
    attacker = Client()
    attacker.cookies[settings.SESSION_COOKIE_NAME] = planted
    assert attacker.get(reverse("my-reviews")).status_code == 302


def test_it_logs_in_a_new_account_with_a_fresh_session(client):
    session = client.session
    session["visited"] = True
    session.save()
    planted = session.session_key
    client.cookies[settings.SESSION_COOKIE_NAME] = planted

    response = client.post(
        reverse("signup"),
        {"username": "newbie", "password1": "a-long-unusual-pass-77", "password2": "a-long-unusual-pass-77"},
    )

    assert response.status_code == 302
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != planted
