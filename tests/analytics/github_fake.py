"""A fake GitHub on 127.0.0.1 (pytest-httpserver) for the evidence tests: nothing reaches api.github.com.

`serve_account(server, "ada", ...)` answers every request `fetch_evidence` makes for one login (the issue
search answers by query: merged PRs in the allow-list, golang/go issues commented on, golang/go PRs reviewed);
`serve_repository(server, "owner", "name", tarball)` what `fetch_repository` asks for, the tarball behind a
redirect as on GitHub.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import tarfile
import time
from collections.abc import Iterator

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

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


def repo(
    name: str,
    *,
    stars: int,
    language: str = "Go",
    fork: bool = False,
    archived: bool = False,
    pushed_at: str = "2026-01-01T00:00:00Z",
) -> dict:
    return {
        "name": name,
        "full_name": f"ada/{name}",
        "html_url": f"https://github.com/ada/{name}",
        "description": f"{name} description",
        "language": language,
        "fork": fork,
        "archived": archived,
        "stargazers_count": stars,
        "pushed_at": pushed_at,
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
    golang_issues: int = 0,
    golang_reviews: int = 0,
    releases: dict[str, str | None] | None = None,
) -> None:
    """Answer the user, repos (one page), commits, search, events and releases endpoints for `login`.

    `releases` maps a repository name to its latest release date (None: no release); unnamed ones have none.
    """
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
    found = {"commenter:": golang_issues, "reviewed-by:": golang_reviews}

    def search(request: Request) -> Response:
        query = request.args.get("q", "")
        if "is:merged" in query:
            body = {
                "total_count": len(pr_repos),
                "items": [{"repository_url": f"https://api.github.com/repos/{name}"} for name in pr_repos],
            }
        else:
            total = next(count for qualifier, count in found.items() if qualifier in query)
            shown = min(total, int(request.args.get("per_page", "30")))
            body = {
                "total_count": total,
                "items": [
                    {
                        "title": f"issue {number}",
                        "number": 50000 + number,
                        "html_url": f"https://github.com/golang/go/issues/{50000 + number}",
                        "repository_url": "https://api.github.com/repos/golang/go",
                    }
                    for number in range(shown)
                ],
            }
        return Response(json.dumps(body), content_type="application/json", headers=headers)

    server.expect_request("/search/issues").respond_with_handler(search)
    for name, published in (releases or {}).items():
        server.expect_request(
            f"/repos/{login}/{name}/releases", query_string={"per_page": "1"}
        ).respond_with_json(
            [
                {
                    "tag_name": "v1.0.0",
                    "published_at": published,
                    "html_url": f"https://github.com/{login}/{name}/releases/tag/v1.0.0",
                }
            ]
            if published
            else [],
            headers=headers,
        )
    server.expect_request(re.compile(rf"/repos/{login}/[^/]+/releases")).respond_with_json(
        [], headers=headers
    )
    server.expect_request(f"/users/{login}/events/public", query_string={"per_page": "1"}).respond_with_json(
        [{"created_at": moment} for moment in (events if events is not None else ["2026-01-15T00:00:00Z"])],
        headers=headers,
    )


def serve_repository(
    server: HTTPServer,
    owner: str,
    name: str,
    tarball: bytes,
    *,
    sha: str = "0123456789abcdef0123456789abcdef01234567",
    committed_at: str = "2026-10-01T12:00:00Z",
    etag: str | None = None,
) -> None:
    """Repository metadata, the default branch's head commit, and its tarball behind a 302 (like codeload)."""
    headers = {"ETag": etag} if etag else {}
    server.expect_request(f"/repos/{owner}/{name}").respond_with_json(
        {
            "full_name": f"{owner}/{name}",
            "html_url": f"https://github.com/{owner}/{name}",
            "default_branch": "main",
            "pushed_at": committed_at,
            "stargazers_count": 42,
            "archived": False,
        },
        headers=headers,
    )
    server.expect_request(f"/repos/{owner}/{name}/commits/main").respond_with_json(
        {"sha": sha, "commit": {"committer": {"date": committed_at}}}, headers=headers
    )
    codeload = server.url_for(f"/codeload/{owner}/{name}/tar.gz/{sha}")
    server.expect_request(f"/repos/{owner}/{name}/tarball/{sha}").respond_with_data(
        "", status=302, headers={"Location": codeload}
    )
    server.expect_request(f"/codeload/{owner}/{name}/tar.gz/{sha}").respond_with_data(
        tarball, content_type="application/x-gzip"
    )


def make_tarball(files: dict[str, str | bytes], *, root: str = "owner-repo-0123456") -> bytes:
    """A .tar.gz like GitHub's: every file under one top-level directory."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(f"{root}/{path}" if root else path)
            info.size = len(data)
            info.mtime = int(time.time())
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
