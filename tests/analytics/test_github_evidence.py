"""Evidence refresh end to end (service, command, admin, demo file) against a fake GitHub on 127.0.0.1."""

import json
import re

import pytest
from django.contrib.admin.sites import site
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from analytics.models import EvidenceSnapshot, InstructorEvidence, InstructorScore
from analytics.services import evidence
from analytics.services.scores import scores_recompute
from tests.analytics.github_fake import ALLOWLIST, fake_github, repo, serve_account
from tests.factories import InstructorFactory, StaffUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def server():
    with fake_github() as running:
        yield running


@pytest.fixture(autouse=True)
def github(server, settings):
    server.clear()
    settings.GITHUB_API_URL = server.url_for("")
    settings.GITHUB_TOKEN = ""
    settings.GITHUB_ALLOWLIST = ALLOWLIST
    settings.GITHUB_STAR_CAP_PER_REPO = 1000
    settings.GITHUB_TIMEOUT_SECONDS = 2
    settings.GITHUB_MAX_RETRIES = 0  # service tests never wait; retries are covered in test_github_client
    yield server
    server.clear()


@pytest.fixture
def ada():
    return InstructorFactory(slug="ada", name="Ada", github_login="ada")


def refresh(instructor) -> EvidenceSnapshot:
    return evidence.evidence_refresh(instructor_id=instructor.pk)


def test_it_stores_a_snapshot_with_figures_top_repos_and_etags(github, ada):
    serve_account(github, repos=[repo("gocache", stars=4200), repo("cli", stars=90)], etag='"e1"')

    snapshot = refresh(ada)

    assert snapshot.status == EvidenceSnapshot.Status.OK
    assert snapshot.figures["go_stars"] == 1090
    assert snapshot.figures["golang_go_commits"] == 7
    assert [r["name"] for r in snapshot.payload_summary["top_repos"]] == ["gocache", "cli"]
    assert all(entry["etag"] == '"e1"' for entry in snapshot.etags.values())
    assert any(url.endswith("/users/ada") for url in snapshot.etags)
    assert EvidenceSnapshot.objects.current().get(instructor=ada) == snapshot


def test_it_changes_nothing_when_github_answers_304(github, ada):
    serve_account(github, etag='"e1"')
    first = refresh(ada)

    github.clear()
    github.expect_request(re.compile(".*"), headers={"If-None-Match": '"e1"'}).respond_with_data(
        "", status=304
    )
    second = refresh(ada)

    assert second.pk == first.pk
    assert EvidenceSnapshot.objects.count() == 1
    second.refresh_from_db()
    assert second.figures == first.figures
    assert second.fetched_at == first.fetched_at
    assert second.checked_at is not None  # "last refreshed" moves, the figures do not
    assert len(github.log) == 7  # every request was conditional and answered 304


def test_it_keeps_the_last_good_snapshot_when_rate_limited(github, ada):
    serve_account(github, followers=77)
    good = refresh(ada)

    github.clear()
    github.expect_request("/users/ada").respond_with_json(
        {"message": "API rate limit exceeded"},
        status=403,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1900000000"},
    )
    failed = refresh(ada)

    assert failed.status == EvidenceSnapshot.Status.FAILED
    assert "rate limited until 2030-03-17 17:46:40 UTC" in failed.error
    assert failed.payload_summary["rate_limited_until"] == "2030-03-17T17:46:40+00:00"
    assert EvidenceSnapshot.objects.current().get(instructor=ada) == good
    scores = {score.instructor_id: score for score in scores_recompute()}
    assert scores[ada.pk].breakdown["evidence"]["figures"]["followers"] == 77


def test_it_records_an_unknown_github_user_for_admins(github):
    ghost = InstructorFactory(github_login="ghost-user")
    github.expect_request("/users/ghost-user").respond_with_json({"message": "Not Found"}, status=404)

    snapshot = refresh(ghost)

    assert snapshot.status == EvidenceSnapshot.Status.FAILED
    assert snapshot.error == "GitHub has no /users/ghost-user (404)"
    assert not EvidenceSnapshot.objects.current().filter(instructor=ghost).exists()


def test_it_records_github_being_down(github, ada):
    github.expect_request("/users/ada").respond_with_data("bad gateway", status=502)
    snapshot = refresh(ada)
    assert snapshot.status == EvidenceSnapshot.Status.FAILED
    assert "answered 502" in snapshot.error


def test_it_refuses_an_instructor_without_a_github_login(github):
    unlinked = InstructorFactory(github_login=None)
    with pytest.raises(ValidationError) as raised:
        refresh(unlinked)
    assert "github_login" in raised.value.message_dict
    assert len(github.log) == 0


def test_it_does_not_reuse_etags_after_the_login_changes(github, ada):
    serve_account(github, etag='"e1"')
    refresh(ada)
    ada.github_login = "ada2"
    ada.save()
    serve_account(github, "ada2", followers=9)

    snapshot = refresh(ada)

    assert snapshot.figures["followers"] == 9
    assert all("If-None-Match" not in request.headers for request, _ in github.log if "ada2" in request.path)


def test_it_refreshes_one_instructor_and_recomputes_from_the_command(github, ada, capsys):
    serve_account(github)
    call_command("fetch_evidence", "--instructor", "ada")
    out = capsys.readouterr().out
    assert "ada (ada): updated" in out
    assert InstructorScore.objects.filter(instructor=ada).exists()


def test_it_fails_the_fetch_evidence_command_loudly_naming_the_error(github, ada, capsys):
    github.expect_request("/users/ada").respond_with_json({"message": "Not Found"}, status=404)
    with pytest.raises(CommandError, match="1 of 1 refreshes failed"):
        call_command("fetch_evidence")
    assert "GitHub has no /users/ada (404)" in capsys.readouterr().err


def test_it_rejects_unknown_and_unlinked_slugs_in_fetch_evidence():
    InstructorFactory(slug="plain", github_login=None)
    with pytest.raises(CommandError, match="no instructor with the slug 'nope'"):
        call_command("fetch_evidence", "--instructor", "nope")
    with pytest.raises(CommandError, match="plain has no GitHub login"):
        call_command("fetch_evidence", "--instructor", "plain")


def test_it_loads_demo_evidence_idempotently_and_links_logins(tmp_path):
    InstructorFactory(slug="chen-mo", github_login=None)
    rows = [
        {
            "slug": "chen-mo",
            "github_login": "chenmo-go",
            "fetched_at": "2026-01-10T08:00:00+08:00",
            "figures": {
                "go_repos": 4,
                "go_stars": 900,
                "followers": 50,
                "golang_go_commits": 2,
                "allowlist_merged_prs": 5,
                "months_since_activity": 0.5,
            },
            "top_repos": [{"name": "gocron", "stars": 700, "description": "cron"}],
        }
    ]
    path = tmp_path / "evidence.json"
    path.write_text(json.dumps(rows), encoding="utf-8")

    assert evidence.evidence_load_demo(path=path) == 1
    assert evidence.evidence_load_demo(path=path) == 1

    snapshot = EvidenceSnapshot.objects.get()
    assert snapshot.instructor.github_login == "chenmo-go"
    assert snapshot.figures["go_stars"] == 900
    assert snapshot.payload_summary["demo"] is True


def test_it_stores_no_demo_evidence_when_a_row_is_bad(tmp_path):
    InstructorFactory(slug="chen-mo", github_login=None)
    good = {
        "slug": "chen-mo",
        "github_login": "chenmo-go",
        "fetched_at": "2026-01-10T08:00:00+08:00",
        "figures": dict.fromkeys(evidence.DEMO_FIGURE_KEYS, 1),
    }
    path = tmp_path / "evidence.json"
    path.write_text(json.dumps([good, {**good, "slug": "who-is-this"}]), encoding="utf-8")

    with pytest.raises(ValidationError, match="unknown instructor slug 'who-is-this'"):
        evidence.evidence_load_demo(path=path)
    assert not EvidenceSnapshot.objects.exists()


def test_it_links_a_login_in_the_admin_and_queues_a_refresh(
    client, django_capture_on_commit_callbacks, mocker_apply_async
):
    staff = StaffUserFactory()
    linked = InstructorFactory(github_login="ada")
    unlinked = InstructorFactory(github_login=None)
    client.force_login(staff)
    url = reverse("admin:analytics_instructorevidence_changelist")

    assert client.get(url).status_code == 200
    client.cookies["django_language"] = "en"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {"action": "refresh_evidence", "_selected_action": [linked.pk, unlinked.pk]},
            follow=True,
        )

    assert response.status_code == 200
    assert mocker_apply_async == [((linked.pk,), 0)]
    texts = [str(message) for message in response.context["messages"]]
    assert any("1 instructor" in text for text in texts)
    assert any("no GitHub login" in text for text in texts)
    assert InstructorEvidence in site._registry


@pytest.fixture
def mocker_apply_async(monkeypatch):
    """Record what the admin action sends to the broker instead of needing one."""
    from analytics.tasks import refresh_evidence

    sent = []
    monkeypatch.setattr(
        refresh_evidence, "apply_async", lambda args, countdown=0: sent.append((tuple(args), countdown))
    )
    return sent
