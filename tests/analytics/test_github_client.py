"""analytics.github against a fake GitHub on 127.0.0.1: no Django, no network beyond the local fake."""

import threading
from datetime import UTC, datetime

import pytest
from werkzeug import Response

from analytics.github import (
    GitHubClient,
    GitHubError,
    GitHubNotFound,
    GitHubRateLimited,
    GitHubUnavailable,
    fetch_evidence,
)
from tests.analytics.github_fake import ALLOWLIST, fake_github, repo, serve_account

NOW = datetime(2026, 2, 15, tzinfo=UTC)


@pytest.fixture(scope="module")
def server():
    with fake_github() as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh_handlers(server):
    server.clear()
    yield
    server.clear()


def make_client(server, **options) -> GitHubClient:
    sleeps: list[float] = []
    defaults = {"base_url": server.url_for(""), "timeout": 2.0, "max_retries": 3, "sleep": sleeps.append}
    client = GitHubClient(**(defaults | options))
    client.sleeps = sleeps  # what the client would have waited, observed without waiting
    return client


def fetch(client, login="ada"):
    return fetch_evidence(client, login, allowlist=ALLOWLIST, star_cap=1000, now=NOW)


def test_it_computes_every_figure_from_a_200_account(server):
    serve_account(
        server,
        repos=[
            repo("viral", stars=50_000),
            repo("tool", stars=300),
            repo("forked", stars=9_000, fork=True),
            repo("old", stars=800, archived=True),
            repo("website", stars=70, language="JavaScript"),
        ],
        followers=321,
        golang_commits_last_page=7,
        merged_pr_repos=["etcd-io/etcd", "etcd-io/etcd", "prometheus/prometheus"],
        events=["2026-01-16T00:00:00Z"],
        golang_issues=3,
        golang_reviews=1,
        releases={"viral": "2025-12-01T00:00:00Z"},
    )
    with make_client(server) as client:
        evidence = fetch(client)

    assert evidence.figures == {
        "go_repos": 2,  # forks, archived and non-Go repositories do not count
        "go_stars": 1000 + 300,  # the viral repository is capped at 1,000 stars
        "followers": 321,
        "golang_go_commits": 7,  # read from the rel="last" page number with per_page=1
        "allowlist_merged_prs": 3,
        "months_since_activity": 1.0,
        "golang_go_issues": 3,
        "golang_go_reviews": 1,
        "maintained_go_projects": 1,  # "viral" pushed and released lately; "tool" has never released
    }
    assert evidence.summary["merged_prs_by_repo"] == {"etcd-io/etcd": 2, "prometheus/prometheus": 1}
    assert [r["name"] for r in evidence.summary["top_repos"]] == ["viral", "tool"]
    assert evidence.summary["go_stars_uncapped"] == 50_300


def test_it_sends_the_token_and_asks_for_merged_prs_in_the_allow_list(server):
    serve_account(server)
    with make_client(server, token="s3cret") as client:
        fetch(client)

    requests = [request for request, _response in server.log]
    assert all(request.headers["Authorization"] == "Bearer s3cret" for request in requests)
    search = next(request for request in requests if request.path == "/search/issues")
    assert search.args["q"] == "is:pr is:merged author:ada repo:etcd-io/etcd repo:prometheus/prometheus"


def test_it_follows_link_pagination_over_several_pages(server):
    base = server.url_for("/users/ada/repos")
    for page in (1, 2, 3):
        query = {"type": "owner", "sort": "pushed", "per_page": "100"} | (
            {"page": str(page)} if page > 1 else {}
        )
        link = f'<{base}?type=owner&sort=pushed&per_page=100&page={page + 1}>; rel="next"' if page < 3 else ""
        server.expect_request("/users/ada/repos", query_string=query).respond_with_json(
            [repo(f"r{page}-{i}", stars=10) for i in range(100 if page < 3 else 5)], headers={"Link": link}
        )
    serve_account(server, repos=[])  # the other endpoints; the paged handlers above were registered first

    with make_client(server) as client:
        evidence = fetch(client)

    assert evidence.figures["go_repos"] == 205
    assert evidence.figures["go_stars"] == 2050


def test_it_sends_the_etag_and_a_304_returns_the_kept_data(server):
    server.expect_request("/users/ada").respond_with_json(
        {"login": "ada", "followers": 5}, headers={"ETag": '"v1"'}
    )
    with make_client(server) as first:
        assert first.get(first.url("/users/ada")).data == {"login": "ada", "followers": 5}
        kept = first.etags_used

    server.clear()
    server.expect_request("/users/ada", headers={"If-None-Match": '"v1"'}).respond_with_data("", status=304)
    with make_client(server, etag_cache=kept) as second:
        page = second.get(second.url("/users/ada"))

    assert page.not_modified
    assert page.data == {"login": "ada", "followers": 5}
    assert second.not_modified_count == 1
    assert second.etags_used == kept


def test_it_stops_at_a_403_with_an_exhausted_quota_and_names_the_reset_time(server):
    reset = 1_900_000_000
    server.expect_request("/users/ada").respond_with_json(
        {"message": "API rate limit exceeded for 127.0.0.1."},
        status=403,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
    )
    client = make_client(server)
    with client, pytest.raises(GitHubRateLimited) as raised:
        fetch(client)

    assert raised.value.until == datetime.fromtimestamp(reset, tz=UTC)
    assert "rate limited until 2030-03-17 17:46:40 UTC" in str(raised.value)
    assert client.sleeps == []  # it does not sleep until the reset, and does not hammer either
    assert len(server.log) == 1


def test_it_waits_out_a_short_retry_after_then_succeeds(server):
    server.expect_oneshot_request("/users/ada").respond_with_json(
        {"message": "You have exceeded a secondary rate limit."}, status=429, headers={"Retry-After": "3"}
    )
    serve_account(server)
    client = make_client(server)
    with client:
        evidence = fetch(client)

    assert client.sleeps == [3.0]
    assert evidence.figures["followers"] == 120


def test_it_does_not_sleep_through_a_long_retry_after(server):
    server.expect_request("/users/ada").respond_with_json(
        {"message": "slow down"}, status=403, headers={"Retry-After": "900"}
    )
    client = make_client(server, max_wait=60, clock=lambda: 1_800_000_000)
    with client, pytest.raises(GitHubRateLimited) as raised:
        fetch(client)

    assert raised.value.until == datetime.fromtimestamp(1_800_000_900, tz=UTC)
    assert client.sleeps == []


def test_it_retries_5xx_with_growing_backoff_then_succeeds(server):
    server.expect_oneshot_request("/users/ada").respond_with_data("boom", status=502)
    server.expect_oneshot_request("/users/ada").respond_with_data("boom", status=503)
    serve_account(server)
    client = make_client(server)
    with client:
        evidence = fetch(client)

    assert evidence.figures["followers"] == 120
    assert client.sleeps == [0.5, 1.0]


def test_it_gives_up_after_the_bounded_retries_on_5xx(server):
    server.expect_request("/users/ada").respond_with_data("down", status=500)
    client = make_client(server, max_retries=2)
    with client, pytest.raises(GitHubUnavailable, match="answered 500 for /users/ada 3 times"):
        fetch(client)
    assert len(server.log) == 3
    assert client.sleeps == [0.5, 1.0]


def test_it_times_out_on_a_hanging_response(server):
    release = threading.Event()

    def hang(_request):
        release.wait(10)
        return Response("{}", content_type="application/json")

    server.expect_request("/users/ada").respond_with_handler(hang)
    client = make_client(server, timeout=0.3, max_retries=1)
    try:
        with (
            client,
            pytest.raises(
                GitHubUnavailable, match=r"did not answer within 0.3 s for /users/ada \(2 attempts\)"
            ),
        ):
            fetch(client)
    finally:
        release.set()
    assert client.sleeps == [0.5]


def test_it_reports_an_unknown_user_clearly(server):
    server.expect_request("/users/nobody-here").respond_with_json({"message": "Not Found"}, status=404)
    with (
        make_client(server) as client,
        pytest.raises(GitHubNotFound, match="GitHub has no /users/nobody-here"),
    ):
        fetch(client, "nobody-here")


def test_it_refuses_a_plain_403_without_retrying(server):
    server.expect_request("/users/ada").respond_with_json({"message": "Resource protected"}, status=403)
    client = make_client(server)
    with client, pytest.raises(GitHubError, match="refused /users/ada"):
        fetch(client)
    assert len(server.log) == 1


def test_it_counts_an_empty_commit_list_as_zero(server):
    serve_account(server, golang_commits_last_page=None, merged_pr_repos=[], events=[])
    with make_client(server) as client:
        evidence = fetch(client)
    assert evidence.figures["golang_go_commits"] == 0
    assert evidence.figures["allowlist_merged_prs"] == 0
    # No events: the newest push to an owned repository dates the activity.
    assert evidence.summary["last_activity_at"] == "2026-01-01T00:00:00+00:00"


def test_it_reads_next_and_last_pages_from_the_link_header(server):
    header = '<https://x/a?page=2>; rel="next", <https://x/a?page=9>; rel="last"'
    server.expect_request("/linked").respond_with_json([], headers={"Link": header})
    server.expect_request("/unlinked").respond_with_json([])
    with make_client(server) as client:
        linked = client.get(client.url("/linked"))
        unlinked = client.get(client.url("/unlinked"))
    assert linked.links == {"next": "https://x/a?page=2", "last": "https://x/a?page=9"}
    assert unlinked.links == {}


def test_it_counts_golang_go_participation_through_search_capped_and_linked(server):
    serve_account(server, golang_issues=1234, golang_reviews=2)
    with make_client(server) as client:
        evidence = fetch_evidence(
            client, "ada", allowlist=ALLOWLIST, star_cap=1000, now=NOW, participation_cap=200
        )

    assert evidence.figures["golang_go_issues"] == 200  # 1,234 found, counted up to the cap
    assert evidence.figures["golang_go_reviews"] == 2
    issues = evidence.summary["golang_go_participation"]["issues"]
    assert issues["total"] == 1234
    assert issues["query"] == "repo:golang/go is:issue commenter:ada"
    assert issues["search_url"].startswith(
        "https://github.com/search?q=repo%3Agolang%2Fgo+is%3Aissue+commenter%3Aada"
    )
    assert [item["html_url"] for item in issues["items"]][:1] == ["https://github.com/golang/go/issues/50000"]
    assert len(issues["items"]) == 5  # a sample to link, not the whole result
    searches = [request.args["q"] for request, _response in server.log if request.path == "/search/issues"]
    assert searches[1:] == ["repo:golang/go is:issue commenter:ada", "repo:golang/go is:pr reviewed-by:ada"]


def test_it_calls_a_high_star_project_maintained_only_with_a_recent_push_and_release(server):
    serve_account(
        server,
        repos=[
            repo("active", stars=900, pushed_at="2026-01-20T00:00:00Z"),
            repo("no-release", stars=800, pushed_at="2026-01-20T00:00:00Z"),
            repo("stale-release", stars=700, pushed_at="2026-01-20T00:00:00Z"),
            repo("abandoned", stars=600, pushed_at="2022-01-01T00:00:00Z"),
            repo("small", stars=20, pushed_at="2026-01-20T00:00:00Z"),
        ],
        releases={
            "active": "2025-11-01T00:00:00Z",
            "stale-release": "2022-06-01T00:00:00Z",
            "abandoned": "2025-12-01T00:00:00Z",
        },
    )
    with make_client(server) as client:
        evidence = fetch_evidence(
            client, "ada", allowlist=ALLOWLIST, star_cap=1000, now=NOW, maintained_check_limit=4
        )

    checked = {entry["name"]: entry for entry in evidence.summary["maintained_repos"]}
    assert set(checked) == {
        "active",
        "no-release",
        "stale-release",
        "abandoned",
    }  # "small" is below 100 stars
    assert {name for name, entry in checked.items() if entry["maintained"]} == {"active"}
    assert evidence.figures["maintained_go_projects"] == 1
    assert (
        checked["active"]["last_release"]["html_url"] == "https://github.com/ada/active/releases/tag/v1.0.0"
    )
    assert checked["no-release"]["last_release"] is None
