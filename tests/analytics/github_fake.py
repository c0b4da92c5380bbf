"""A fake GitHub on 127.0.0.1 (pytest-httpserver) for the evidence tests: nothing reaches api.github.com.

`serve_account(server, "ada", ...)` answers every request `fetch_evidence` makes for one login.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from pytest_httpserver import HTTPServer

REPOS_QUERY = {"type": "owner", "sort": "pushed", "per_page": "100"}
ALLOWLIST = ["etcd-io/etcd", "prometheus/prometheus"]


@contextlib.contextmanager
def fake_github() -> Iterator[HTTPServer]:
    # Threaded, so a deliberately hanging handler cannot block the requests that follow it.
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


def repo(name: str, *, stars: int, language: str = "Go", fork: bool = False, archived: bool = False) -> dict:
    return {
        "name": name,
        "full_name": f"ada/{name}",
        "html_url": f"https://github.com/ada/{name}",
        "description": f"{name} description",
        "language": language,
        "fork": fork,
        "archived": archived,
        "stargazers_count": stars,
        "pushed_at": "2026-01-01T00:00:00Z",
    }


def serve_account(
    server: HTTPServer,
    login: str = "ada",
    *,
    repos: list[dict] | None = None,
    followers: int = 120,
    golang_commits_last_page: int | None = 7,
    merged_pr_repos: list[str] | None = None,
    events: list[str] | None = None,
    etag: str | None = None,
) -> None:
    """Answer the user, repos (one page), commits, search and events endpoints for `login`."""
    headers = {"ETag": etag} if etag else {}
    server.expect_request(f"/users/{login}").respond_with_json(
        {
            "login": login,
            "name": login.title(),
            "html_url": f"https://github.com/{login}",
            "followers": followers,
            "public_repos": len(repos or []),
        },
        headers=headers,
    )
    server.expect_request(f"/users/{login}/repos", query_string=REPOS_QUERY).respond_with_json(
        repos if repos is not None else [repo("tool", stars=50)], headers=headers
    )
    commit_headers = dict(headers)
    if golang_commits_last_page:
        last = (
            server.url_for("/repos/golang/go/commits")
            + f"?author={login}&per_page=1&page={golang_commits_last_page}"
        )
        nxt = server.url_for("/repos/golang/go/commits") + f"?author={login}&per_page=1&page=2"
        commit_headers["Link"] = f'<{nxt}>; rel="next", <{last}>; rel="last"'
    server.expect_request(
        "/repos/golang/go/commits", query_string={"author": login, "per_page": "1"}
    ).respond_with_json([{"sha": "abc"}] if golang_commits_last_page else [], headers=commit_headers)
    pr_repos = merged_pr_repos if merged_pr_repos is not None else ["etcd-io/etcd"]
    server.expect_request("/search/issues").respond_with_json(
        {
            "total_count": len(pr_repos),
            "items": [{"repository_url": f"https://api.github.com/repos/{name}"} for name in pr_repos],
        },
        headers=headers,
    )
    server.expect_request(f"/users/{login}/events/public", query_string={"per_page": "1"}).respond_with_json(
        [{"created_at": moment} for moment in (events if events is not None else ["2026-01-15T00:00:00Z"])],
        headers=headers,
    )
