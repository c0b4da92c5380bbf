"""The repository check end to end: command, GitHub tarballs, stored result, task, admin, staff button, card,
course score and demo data — against a fake GitHub on 127.0.0.1."""

import json
import os
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from analytics.models import CourseScore, RepoAudit
from analytics.services import repo_audit as services_repo_audit
from analytics.services.scores import scores_recompute
from analytics.tasks import refresh_all_repo_audits, refresh_repo_audit
from tests.analytics.github_fake import fake_github, make_tarball, serve_repository
from tests.factories import CourseFactory, ReviewFactory, StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db
DEMO = Path(__file__).resolve().parents[2] / "demo" / "repos"
SHA = "0123456789abcdef0123456789abcdef01234567"
GOOD_FILES = {
    "go.mod": "module github.com/acme/shop\n\ngo 1.22\n",
    "shop/shop.go": (
        'package shop\n\nimport "context"\n\nfunc Run(ctx context.Context) error { return ctx.Err() }\n'
    ),
    "shop/shop_test.go": 'package shop\n\nimport "testing"\n\nfunc TestRun(t *testing.T) {}\n',
}


@pytest.fixture(scope="module")
def server():
    with fake_github() as running:
        yield running


@pytest.fixture(autouse=True)
def github(server, settings):
    server.clear()
    settings.GITHUB_API_URL = server.url_for("")
    settings.GITHUB_TOKEN = ""
    settings.GITHUB_TIMEOUT_SECONDS = 2
    settings.GITHUB_MAX_RETRIES = 0
    yield server
    server.clear()


@pytest.fixture
def sent(monkeypatch):
    """What would go to the broker: (course id, countdown) per queued check."""
    queued = []
    monkeypatch.setattr(
        refresh_repo_audit, "apply_async", lambda args, countdown=0: queued.append((args[0], countdown))
    )
    return queued


def test_command_prints_each_verdict_for_a_directory_and_writes_json(tmp_path, capsys):
    out = tmp_path / "audit.json"
    call_command("audit_repo", str(DEMO / "go-web-gin-gorm-blog"), "--json", str(out))

    printed = capsys.readouterr().out
    assert "代码仓库体检" in printed
    assert "✗ 差 · 测试文件数: 0 — 没有任何测试" in printed
    assert "✗ 差 · 直接依赖数: 11" in printed
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["figures"]["test_files"] == 0
    assert report["verdicts"]["bad"] >= 5
    assert {finding["key"] for finding in report["findings"]} >= {"go_module", "errorf_wrapping", "ci"}


def test_command_reads_a_tarball(tmp_path, capsys):
    path = tmp_path / "repo.tar.gz"
    path.write_bytes(make_tarball(GOOD_FILES))
    call_command("audit_repo", str(path))
    assert "✓ 好 · context.Context 参数: 1" in capsys.readouterr().out


def test_command_fails_clearly_for_a_missing_path_a_non_go_repo_and_a_refused_archive(tmp_path):
    with pytest.raises(CommandError, match="no such file or directory"):
        call_command("audit_repo", str(tmp_path / "missing"))
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<p>hi</p>")
    with pytest.raises(CommandError, match="not a Go repository"):
        call_command("audit_repo", str(tmp_path / "site"))
    hostile = tmp_path / "hostile.tar.gz"
    hostile.write_bytes(make_tarball({"../escape.go": "package x"}, root=""))
    with pytest.raises(CommandError, match="path traversal"):
        call_command("audit_repo", str(hostile))
    with pytest.raises(CommandError, match="not a GitHub repository URL"):
        call_command("audit_repo", "https://gitlab.com/a/b")


def test_command_audits_a_github_repository_through_the_tarball_endpoint(github, capsys):
    serve_repository(github, "acme", "shop", make_tarball(GOOD_FILES))
    call_command("audit_repo", "https://github.com/acme/shop")

    printed = capsys.readouterr().out
    assert "https://github.com/acme/shop" in printed
    assert "最近一次提交: 2026-10-01" in printed  # the head commit's date from the API
    paths = [request.path for request, _response in github.log]
    assert paths == [
        "/repos/acme/shop",
        "/repos/acme/shop/commits/main",
        f"/repos/acme/shop/tarball/{SHA}",
        f"/codeload/acme/shop/tar.gz/{SHA}",  # GitHub's redirect, followed
    ]


def test_a_course_check_is_kept_and_an_unchanged_head_downloads_nothing(github, capsys):
    course = CourseFactory(slug="shop-course", repo_url="https://github.com/acme/shop")
    serve_repository(github, "acme", "shop", make_tarball(GOOD_FILES), etag='"v1"')

    call_command("audit_repo", course.repo_url, "--course", "shop-course")
    first = RepoAudit.objects.get(course=course)
    assert first.status == RepoAudit.Status.OK and first.commit_sha == SHA
    assert first.report["repository"]["full_name"] == "acme/shop"

    github.clear()
    github.expect_request(re.compile(".*"), headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304
    )
    again = services_repo_audit.repo_audit_refresh(course_id=course.pk)

    assert len(github.log) == 2  # metadata and head commit, both 304; no tarball
    assert again.report == first.report and again.audited_at == first.audited_at
    assert again.checked_at > first.checked_at


def test_a_failed_fetch_keeps_the_last_good_result_and_says_why(github):
    course = CourseFactory(repo_url="https://github.com/acme/shop")
    serve_repository(github, "acme", "shop", make_tarball(GOOD_FILES))
    good = services_repo_audit.repo_audit_refresh(course_id=course.pk)

    github.clear()
    github.expect_request("/repos/acme/shop").respond_with_data("bad gateway", status=502)
    failed = services_repo_audit.repo_audit_refresh(course_id=course.pk)

    assert failed.status == RepoAudit.Status.FAILED
    assert "answered 502" in failed.error
    assert failed.report == good.report and failed.score == good.score
    with pytest.raises(CommandError, match="the last good result is kept"):
        call_command("audit_repo", course.repo_url, "--course", course.slug)


def test_an_oversized_or_hostile_download_is_refused_and_nothing_replaces_the_result(github, settings):
    course = CourseFactory(repo_url="https://github.com/acme/shop")
    settings.REPO_AUDIT_MAX_DOWNLOAD_MB = 1
    big = make_tarball({**GOOD_FILES, "data.bin": os.urandom(2 * 1024 * 1024)})  # incompressible
    serve_repository(github, "acme", "shop", big)
    row = services_repo_audit.repo_audit_refresh(course_id=course.pk)
    assert row.status == RepoAudit.Status.FAILED and "larger than 1048576 bytes" in row.error
    assert not row.has_result

    github.clear()
    settings.REPO_AUDIT_MAX_DOWNLOAD_MB = 50
    serve_repository(github, "acme", "shop", make_tarball({"../../x.go": "package x"}, root=""))
    row = services_repo_audit.repo_audit_refresh(course_id=course.pk)
    assert row.status == RepoAudit.Status.FAILED and "path traversal" in row.error


def test_the_task_checks_one_course_and_the_nightly_task_queues_every_linked_course(
    github, sent, django_capture_on_commit_callbacks
):
    linked = CourseFactory(repo_url="https://github.com/acme/shop")
    CourseFactory(repo_url="")
    serve_repository(github, "acme", "shop", make_tarball(GOOD_FILES))

    assert refresh_repo_audit.run(linked.pk) == "ok"
    assert refresh_repo_audit.run(999_999) == "skipped"
    with django_capture_on_commit_callbacks(execute=True):
        assert refresh_all_repo_audits.run() == 1
    assert sent == [(linked.pk, 0)]


def test_admin_action_queues_checks_and_skips_courses_without_a_repository(
    client, sent, django_capture_on_commit_callbacks
):
    linked = CourseFactory(repo_url="https://github.com/acme/shop")
    bare = CourseFactory(repo_url="")
    client.force_login(StaffUserFactory())
    client.cookies["django_language"] = "en"
    url = reverse("admin:analytics_courserepository_changelist")
    assert client.get(url).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {"action": "run_repo_audit", "_selected_action": [linked.pk, bare.pk]}, follow=True
        )

    assert sent == [(linked.pk, 0)]
    texts = [str(message) for message in response.context["messages"]]
    assert any("1 course" in text for text in texts)
    assert any("no companion repository" in text for text in texts)


def test_staff_button_queues_a_check_and_nobody_else_can(client, sent, django_capture_on_commit_callbacks):
    course = CourseFactory(repo_url="https://github.com/acme/shop")
    url = reverse("repo-audit-rerun", args=[course.slug])

    assert client.post(url).status_code == 302 and "login" in client.post(url)["Location"]
    client.force_login(UserFactory())
    assert client.post(url).status_code == 403
    client.force_login(StaffUserFactory())
    assert client.get(url).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response["Location"].endswith(f"/courses/{course.slug}/#repo-audit")
    assert sent == [(course.pk, 0)]


def test_the_course_page_shows_the_card_in_both_languages_and_the_failure_to_staff_only(client, github):
    course = CourseFactory(repo_url="https://github.com/acme/shop")
    serve_repository(github, "acme", "shop", make_tarball(GOOD_FILES))
    services_repo_audit.repo_audit_refresh(course_id=course.pk)
    github.clear()
    github.expect_request("/repos/acme/shop").respond_with_data("bad gateway", status=502)
    services_repo_audit.repo_audit_refresh(course_id=course.pk)
    page = reverse("course-detail", args=[course.slug])

    html = client.get(page).content.decode()
    assert "代码仓库体检" in html and 'data-finding="context_params" data-verdict="good"' in html
    assert "有 go.mod" in html
    assert "answered 502" not in html and "repo-audit-rerun" not in html

    client.cookies["django_language"] = "en"
    english = client.get(page).content.decode()
    assert "Repository check" in english and "Has go.mod" in english

    client.force_login(StaffUserFactory())
    staff_view = client.get(page).content.decode()
    assert "answered 502" in staff_view and "The last good result is shown." in staff_view
    assert reverse("repo-audit-rerun", args=[course.slug]) in staff_view


def test_a_course_without_a_repository_shows_no_card(client):
    course = CourseFactory(repo_url="")
    assert 'id="repo-audit"' not in client.get(reverse("course-detail", args=[course.slug])).content.decode()


def test_the_repository_check_moves_the_course_score(settings):
    settings.SCORE_MIN_REVIEWS = 1
    good, bad, unchecked = (CourseFactory(repo_url=f"https://github.com/acme/r{n}") for n in range(3))
    for course in (good, bad, unchecked):
        ReviewFactory(course=course, rating=4)
    for course, path in ((good, "go-concurrency-in-practice"), (bad, "go-core-programming-projects")):
        outcome = services_repo_audit.repo_audit_source(str(DEMO / path))
        RepoAudit.objects.create(
            course=course,
            source=path,
            checked_at=timezone.now(),
            audited_at=timezone.now(),
            score=outcome.report.score,
            report=outcome.report.as_dict(),
        )

    scores_recompute()
    scores = {score.course_id: score for score in CourseScore.objects.all()}

    assert scores[good.pk].total > scores[unchecked.pk].total > scores[bad.pk].total
    assert scores[good.pk].rank == 1 and scores[bad.pk].rank == 3
    breakdown = scores[unchecked.pk].breakdown
    assert breakdown["components"]["repository"] == 0.5 and breakdown["repository"]["checked"] is False
    assert breakdown["weights"]["repository"] == settings.SCORE_REPOSITORY_WEIGHT
    assert scores[good.pk].breakdown["repository"]["score"] == RepoAudit.objects.get(course=good).score


def test_how_we_rank_shows_the_repository_weight(client, settings):
    settings.SCORE_WEIGHTS = {"learner": 0.5, "evidence": 0.3, "signal_burden": 0.2}
    settings.SCORE_REPOSITORY_WEIGHT = 0.3
    html = client.get(reverse("how-we-rank")).content.decode()
    assert 'id="repository"' in html
    assert "30% × 代码仓库体检" in html  # 0.3 of learner 0.5 + burden 0.2 + repository 0.3


def test_demo_repositories_load_idempotently():
    slugs = ["go-concurrency-in-practice", "go-core-programming-projects", "go-web-gin-gorm-blog"]
    for slug in slugs:
        CourseFactory(slug=slug)

    assert services_repo_audit.repo_audit_load_demo(path=DEMO / "repos.json") == 3
    assert services_repo_audit.repo_audit_load_demo(path=DEMO / "repos.json") == 3

    audits = {audit.course.slug: audit for audit in RepoAudit.objects.select_related("course")}
    assert set(audits) == set(slugs)
    assert audits["go-concurrency-in-practice"].score > audits["go-web-gin-gorm-blog"].score
    assert audits["go-core-programming-projects"].report["figures"]["last_commit_at"].startswith("2019-03-02")
    assert all(audit.report["demo"] for audit in audits.values())
