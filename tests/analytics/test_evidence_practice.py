"""golang/go participation and maintained projects: fetched through the fake GitHub, kept in the snapshot,
shown with links on the instructor's evidence card, and loaded from the demo file."""

import json

import pytest
from django.urls import reverse

from analytics.models import EvidenceSnapshot
from analytics.scoring import evidence_strength
from analytics.services import evidence
from tests.analytics.github_fake import ALLOWLIST, fake_github, repo, serve_account
from tests.factories import InstructorFactory

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
    settings.GITHUB_TIMEOUT_SECONDS = 2
    settings.GITHUB_MAX_RETRIES = 0
    settings.GITHUB_PARTICIPATION_CAP = 50
    settings.GITHUB_MAINTAINED_MIN_STARS = 100
    yield server
    server.clear()


def test_the_evidence_card_links_golang_go_participation_and_maintained_projects(client, github):
    ada = InstructorFactory(slug="ada", name="Ada", github_login="ada")
    serve_account(
        github,
        repos=[repo("gocache", stars=4200, pushed_at="2026-11-20T00:00:00Z"), repo("old", stars=300)],
        golang_issues=75,
        golang_reviews=3,
        releases={"gocache": "2026-10-01T00:00:00Z"},
    )

    snapshot = evidence.evidence_refresh(instructor_id=ada.pk)

    assert snapshot.status == EvidenceSnapshot.Status.OK
    assert snapshot.figures["golang_go_issues"] == 50  # 75 found, capped by GITHUB_PARTICIPATION_CAP
    assert snapshot.figures["golang_go_reviews"] == 3
    assert snapshot.figures["maintained_go_projects"] == 1  # "old" has neither a recent push nor a release
    client.cookies["django_language"] = "en"
    html = client.get(reverse("instructor-detail", args=["ada"])).content.decode()
    assert "golang/go issues commented on" in html
    assert "https://github.com/search?q=repo%3Agolang%2Fgo+is%3Aissue+commenter%3Aada" in html
    assert 'href="https://github.com/golang/go/issues/50000"' in html
    assert "75 found; counted up to 50." in html
    assert 'data-maintained="yes"' in html and 'data-maintained="no"' in html
    assert 'href="https://github.com/ada/gocache/releases/tag/v1.0.0"' in html


def test_participation_and_maintenance_raise_evidence_strength():
    base = {"go_stars": 800, "golang_go_commits": 2, "months_since_activity": 1}
    assert evidence_strength({**base, "golang_go_issues": 40}) > evidence_strength(base)
    assert evidence_strength({**base, "maintained_go_projects": 2}) > evidence_strength(base)
    assert evidence_strength({**base, "golang_go_issues": 10_000}) == evidence_strength(
        {**base, "golang_go_issues": 200}
    )


def test_demo_evidence_carries_participation_and_maintenance_with_links(tmp_path, client):
    InstructorFactory(slug="chen-mo", github_login=None)
    row = {
        "slug": "chen-mo",
        "github_login": "chenmo-go",
        "fetched_at": "2026-11-01T10:00:00+00:00",
        "figures": dict.fromkeys(evidence.DEMO_FIGURE_KEYS, 1) | {"golang_go_issues": 12},
        "golang_go_participation": {
            "issues": {
                "total": 12,
                "items": [{"title": "t", "number": 7, "html_url": "https://github.com/golang/go/issues/7"}],
            }
        },
        "maintained_repos": [
            {"name": "ratekit", "stars": 900, "pushed_at": "2026-10-01", "maintained": True}
        ],
    }
    path = tmp_path / "evidence.json"
    path.write_text(json.dumps([row]), encoding="utf-8")

    evidence.evidence_load_demo(path=path)

    snapshot = EvidenceSnapshot.objects.get()
    assert snapshot.figures["golang_go_issues"] == 12 and snapshot.figures["maintained_go_projects"] == 0
    summary = snapshot.payload_summary
    assert summary["golang_go_participation"]["issues"]["search_url"].endswith(
        "commenter%3Achenmo-go&type=issues"
    )
    assert summary["maintained_repos"][0]["html_url"] == "https://github.com/chenmo-go/ratekit"
    html = client.get(reverse("instructor-detail", args=["chen-mo"])).content.decode()
    assert 'href="https://github.com/golang/go/issues/7"' in html
