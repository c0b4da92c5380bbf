"""Staff pages and staff APIs refuse anonymous visitors and learners; nobody touches another learner's
review."""

import base64

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from analytics.services import evidence
from reviews.models import Review
from tests.factories import (
    DEFAULT_PASSWORD,
    InstructorFactory,
    ReviewFactory,
    ReviewRevisionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# (URL name, needs a pk, method). Object ids need not exist: permission is checked before the lookup.
STAFF_PAGES = [
    ("signals-dashboard", False, "get"),
    ("signals-detail", True, "get"),
    ("signals-confirm", True, "post"),
    ("signals-dismiss", True, "post"),
    ("signals-promote", True, "post"),
    ("signals-rename", True, "post"),
    ("signals-merge", True, "post"),
    ("signals-terms", True, "post"),
    ("signals-runs", False, "get"),
    ("signals-run-start", False, "post"),
    ("signals-run-progress", True, "get"),
    ("moderation-queue", False, "get"),
    ("moderation-review", True, "get"),
    ("moderation-decide", True, "post"),
]
STAFF_API = [
    ("api-signals", False, "get"),
    ("signal-run-list", False, "get"),
    ("signal-run-list", False, "post"),
    ("signal-run-detail", True, "get"),
]
ADMIN_PAGES = [
    "/admin/",
    "/admin/analytics/instructorevidence/",  # links GitHub logins, refreshes evidence
    "/admin/reviews/review/",
    "/admin/reviews/reviewrevision/",
    "/admin/analytics/signalrun/",
]
# Route prefixes that only staff may use: every URL under them must be listed above.
STAFF_PREFIXES = ("signals/", "moderation/", "api/signals/", "api/^signal-runs")


def _url(name: str, needs_pk: bool) -> str:
    return reverse(name, kwargs={"pk": 1} if needs_pk else None)


@pytest.fixture
def learner_client(client):
    client.force_login(UserFactory())
    return client


def test_it_lists_every_staff_route_in_these_tests():
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), pattern.name

    covered = {name for name, _pk, _method in STAFF_PAGES + STAFF_API}
    staff_routes = {
        name for route, name in walk(get_resolver().url_patterns) if route.startswith(STAFF_PREFIXES)
    }
    assert staff_routes, "the staff URL prefixes no longer match anything"
    assert sorted(staff_routes - covered) == []


@pytest.mark.parametrize(("name", "needs_pk", "method"), STAFF_PAGES)
def test_it_sends_anonymous_visitors_of_staff_pages_to_log_in(client, name, needs_pk, method):
    url = _url(name, needs_pk)
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("name", "needs_pk", "method"), STAFF_PAGES)
def test_it_forbids_staff_pages_to_learners(learner_client, name, needs_pk, method):
    response = getattr(learner_client, method)(_url(name, needs_pk))
    assert response.status_code == 403


@pytest.mark.parametrize(("name", "needs_pk", "method"), STAFF_API)
@pytest.mark.parametrize("who", ["anonymous", "learner", "learner-basic-auth"])
def test_it_forbids_the_staff_api_to_non_staff(who, name, needs_pk, method):
    client = APIClient()
    if who == "learner":
        client.force_authenticate(UserFactory())
    elif who == "learner-basic-auth":
        UserFactory(username="basic-learner")
        token = base64.b64encode(f"basic-learner:{DEFAULT_PASSWORD}".encode()).decode()
        client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")
    response = getattr(client, method)(_url(name, needs_pk), {}, format="json")
    assert response.status_code == 403


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_it_keeps_the_admin_to_staff(client, learner_client, path):
    for visitor in (client, learner_client):
        response = visitor.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_it_refreshes_no_evidence_for_a_learner_posting_the_admin_action(learner_client, monkeypatch):
    calls = []
    monkeypatch.setattr(evidence, "evidence_refresh_request", lambda **kw: calls.append(kw))
    instructor = InstructorFactory(github_login="someone")

    response = learner_client.post(
        "/admin/analytics/instructorevidence/",
        {"action": "refresh_evidence", "_selected_action": [instructor.pk]},
    )

    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert calls == []


# --- Another learner's review ------------------------------------------------------------------------------


@pytest.fixture
def someone_elses_review():
    review = ReviewFactory(text="原作者的评价", rating=4)
    ReviewRevisionFactory(review=review, text="原作者的第一版")
    return review


def test_it_forbids_editing_or_deleting_someone_elses_review_in_the_pages(
    learner_client, someone_elses_review
):
    review = someone_elses_review
    assert learner_client.get(reverse("review-edit", args=[review.pk])).status_code == 403
    edit = learner_client.post(reverse("review-edit", args=[review.pk]), {"rating": "1", "text": "改掉"})
    assert edit.status_code == 403
    assert learner_client.post(reverse("review-delete", args=[review.pk])).status_code == 403
    review.refresh_from_db()
    assert (review.text, review.rating) == ("原作者的评价", 4)


def test_it_forbids_editing_or_deleting_someone_elses_review_in_the_api(someone_elses_review):
    client = APIClient()
    client.force_authenticate(UserFactory())
    review = someone_elses_review

    assert client.patch(f"/api/reviews/{review.pk}/", {"text": "改掉"}, format="json").status_code == 403
    assert client.delete(f"/api/reviews/{review.pk}/").status_code == 403
    assert Review.objects.filter(pk=review.pk, text="原作者的评价").exists()


def test_it_shows_nobody_else_the_revision_history(client, learner_client, someone_elses_review):
    review = someone_elses_review
    for visitor in (client, learner_client):
        assert visitor.get(reverse("moderation-review", args=[review.pk])).status_code in (302, 403)
        assert "原作者的第一版" not in visitor.get(review.course.get_absolute_url()).content.decode()
    api = APIClient()
    api.force_authenticate(UserFactory())
    body = api.get(f"/api/reviews/{review.pk}/").json()
    assert "原作者的第一版" not in str(body)
    assert not any("revision" in key for key in body)


STAFF_ONLY_SCHEMA_PATHS = {"/api/signals/", "/api/signal-runs/", "/api/signal-runs/{id}/"}


@pytest.mark.parametrize("who", ["anonymous", "learner"])
def test_the_api_schema_hides_staff_only_operations_from_others(client, who):
    if who == "learner":
        client.force_login(UserFactory())
    paths = set(client.get("/api/schema/", {"format": "json"}).json()["paths"])
    assert not paths & STAFF_ONLY_SCHEMA_PATHS
    assert {"/api/reviews/", "/api/courses/"} <= paths
    assert "post" in client.get("/api/schema/", {"format": "json"}).json()["paths"]["/api/reviews/"]


def test_the_api_schema_lists_staff_operations_to_staff(client, admin_user):
    client.force_login(admin_user)
    paths = set(client.get("/api/schema/", {"format": "json"}).json()["paths"])
    assert STAFF_ONLY_SCHEMA_PATHS <= paths
