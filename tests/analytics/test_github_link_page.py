"""Staff link an instructor to GitHub from the instructor page, the refresh starts at once, and a failure
reads as something they can act on."""

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.models import EvidenceSnapshot
from reviews.models import Instructor
from tests.factories import InstructorFactory, StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db

DNS_FAILURE = "[Errno -2] Name or service not known"


@pytest.fixture
def queued(monkeypatch):
    """What the link action sends to the broker, recorded instead of needing one."""
    from analytics.tasks import refresh_evidence

    sent: list[int] = []
    monkeypatch.setattr(refresh_evidence, "apply_async", lambda args, countdown=0: sent.append(args[0]))
    return sent


@pytest.fixture
def staff(client):
    client.force_login(StaffUserFactory())
    return client


def link(client, instructor, login, **extra):
    return client.post(
        reverse("instructor-github-link", args=[instructor.slug]),
        {"github_login": login},
        HTTP_ACCEPT_LANGUAGE="en",
        **extra,
    )


def test_it_links_an_instructor_and_starts_the_refresh_at_once(
    staff, queued, django_capture_on_commit_callbacks
):
    mo = InstructorFactory(slug="chen-mo", github_login="")
    with django_capture_on_commit_callbacks(execute=True):
        response = link(staff, mo, "chenmo-go", follow=True)
    assert Instructor.objects.get(pk=mo.pk).github_login == "chenmo-go"
    assert queued == [mo.pk]
    html = response.content.decode()
    assert "Linked to GitHub account chenmo-go" in html
    assert 'hx-trigger="every 3s"' in html  # the page follows the refresh without a reload


@pytest.mark.parametrize("login", ["", "has space", "-leading", "double--hyphen", "x" * 40, "<script>"])
def test_it_refuses_what_cannot_be_a_github_login(staff, queued, login):
    mo = InstructorFactory(slug="chen-mo", github_login="old-login")
    response = link(staff, mo, login)
    assert response.status_code == 302
    assert Instructor.objects.get(pk=mo.pk).github_login == "old-login"
    assert queued == []


def test_it_lets_only_staff_link_accounts(client, queued):
    mo = InstructorFactory(slug="chen-mo", github_login="")
    client.force_login(UserFactory())
    response = link(client, mo, "someone")
    assert response.status_code in (302, 403)
    assert Instructor.objects.get(pk=mo.pk).github_login == ""
    page = client.get(mo.get_absolute_url()).content.decode()
    assert "instructor-github-link" not in page and 'name="github_login"' not in page


def test_it_reports_a_failed_refresh_in_words_staff_can_act_on(
    staff, queued, django_capture_on_commit_callbacks
):
    mo = InstructorFactory(slug="chen-mo", github_login="")
    with django_capture_on_commit_callbacks(execute=True):
        link(staff, mo, "chenmo-go")
    status_url = reverse("instructor-github-status", args=[mo.slug])
    waiting = staff.get(status_url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Fetching the GitHub evidence of chenmo-go" in waiting and "every 3s" in waiting

    EvidenceSnapshot.objects.create(
        instructor=mo,
        fetched_at=timezone.now(),
        status=EvidenceSnapshot.Status.FAILED,
        payload_summary={"login": "chenmo-go", "error_kind": "GitHubUnavailable"},
        error=DNS_FAILURE,
    )
    failed = staff.get(status_url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "GitHub could not be reached" in failed
    assert "every 3s" not in failed  # stops polling once there is an answer
    page = staff.get(mo.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    visible = page.split("<details>")[0]
    assert "GitHub could not be reached" in page and DNS_FAILURE not in visible


def test_it_names_a_login_github_does_not_know(staff):
    mo = InstructorFactory(slug="chen-mo", github_login="no-such-user")
    EvidenceSnapshot.objects.create(
        instructor=mo,
        fetched_at=timezone.now(),
        status=EvidenceSnapshot.Status.FAILED,
        payload_summary={"login": "no-such-user", "error_kind": "GitHubNotFound"},
        error="GitHub has no user no-such-user (404)",
    )
    page = staff.get(mo.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "GitHub has no account called “no-such-user”" in page
