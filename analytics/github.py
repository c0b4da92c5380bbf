"""GitHub REST client for instructor evidence. No Django: base URL, token and limits are passed in.

What it fetches for one login (see `fetch_evidence`):
  * the user (followers),
  * owned repositories (Link-header pagination) → non-fork, non-archived Go repositories and their stars,
    each repository capped so one viral repository or bought stars cannot dominate,
  * commits to golang/go by the login (golang/go merges through Gerrit, so commits are what count),
  * merged pull requests to an allow-list of Go projects (one search query over all of them),
  * months since the last public activity (public events, else the newest push to an owned repository).

How it behaves towards GitHub:
  * every GET is conditional when an ETag is known for that exact URL; a 304 reuses the compact data kept
    with the ETag, so nothing changes and the request does not count against the quota;
  * 403/429 with Retry-After → wait that long (bounded by `max_wait`) and retry; x-ratelimit-remaining: 0 with
    x-ratelimit-reset → stop at once with `GitHubRateLimited(until)` instead of sleeping for up to an hour;
  * 5xx, timeouts and connection errors → bounded retries with exponential backoff, then `GitHubUnavailable`;
  * 404 → `GitHubNotFound` naming what was not found.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

USER_AGENT = "CourseLens-evidence (+https://github.com/courselens)"
DAYS_PER_MONTH = 30.44


class GitHubError(Exception):
    """A refresh that could not complete. The message is shown to admins as is."""


class GitHubNotFound(GitHubError):
    pass


class GitHubUnavailable(GitHubError):
    pass


class GitHubRateLimited(GitHubError):
    def __init__(self, until: datetime):
        self.until = until
        super().__init__(f"GitHub rate limit reached: rate limited until {until:%Y-%m-%d %H:%M:%S} UTC")


def page_number(url: str) -> int | None:
    pages = parse_qs(urlsplit(url).query).get("page")
    return int(pages[0]) if pages and pages[0].isdigit() else None


class CachedPage(TypedDict):
    """What is kept of one answer with its ETag, so a 304 can be answered from it."""

    etag: str
    data: Any
    links: dict[str, str]


@dataclass
class Page:
    data: Any
    links: dict[str, str]
    not_modified: bool = False


@dataclass
class GitHubClient:
    """Conditional, rate-limit-aware GETs against one GitHub API base URL.

    `etag_cache` maps a URL to {"etag", "data", "links"} from an earlier refresh; after the refresh,
    `etags_used` holds exactly the entries for the URLs this refresh asked for (to store for the next one).
    `sleep` and `clock` are injectable so waits can be observed without waiting.
    """

    base_url: str
    token: str = ""
    timeout: float = 10.0
    max_retries: int = 3
    max_wait: float = 60.0
    etag_cache: Mapping[str, CachedPage] = field(default_factory=dict)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    transport: httpx.BaseTransport | None = None
    etags_used: dict[str, CachedPage] = field(default_factory=dict, init=False)
    requests_made: int = field(default=0, init=False)
    not_modified_count: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": USER_AGENT,
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        self._http = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(self.timeout),
            transport=self.transport,
            follow_redirects=True,
        )

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        query = f"?{urlencode(sorted(params.items()))}" if params else ""
        return f"{self.base_url.rstrip('/')}/{path.lstrip('/')}{query}"

    def get(self, url: str, *, compact: Callable[[Any], Any] = lambda data: data) -> Page:
        """One conditional GET of an absolute URL; `compact` keeps only what is needed (and cached)."""
        cached = self.etag_cache.get(url)
        response = self._send(url, etag=cached["etag"] if cached else None)
        if response.status_code == 304 and cached:
            self.not_modified_count += 1
            self.etags_used[url] = cached
            return Page(data=cached["data"], links=cached.get("links", {}), not_modified=True)
        if response.status_code == 404:
            raise GitHubNotFound(f"GitHub has no {self._describe(url)} (404)")
        if response.status_code != 200:
            raise GitHubError(
                f"GitHub answered {response.status_code} for {self._describe(url)}: {_message(response)}"
            )
        try:
            data = compact(response.json())
        except (ValueError, KeyError, TypeError) as exc:
            raise GitHubError(f"GitHub sent an unexpected body for {self._describe(url)}: {exc}") from exc
        links = {rel: link["url"] for rel, link in response.links.items() if rel}
        etag = response.headers.get("etag")
        if etag:
            self.etags_used[url] = {"etag": etag, "data": data, "links": links}
        return Page(data=data, links=links)

    def pages(
        self, path: str, params: Mapping[str, Any], *, compact: Callable[[Any], Any], max_pages: int = 20
    ) -> Iterator[Page]:
        """Follow rel="next" links from the first page, at most `max_pages` pages."""
        url: str | None = self.url(path, params)
        for _ in range(max_pages):
            if url is None:
                return
            page = self.get(url, compact=compact)
            yield page
            url = page.links.get("next")

    def count(self, path: str, params: Mapping[str, Any]) -> int:
        """Items in a list endpoint with one request: per_page=1, then the page number of rel="last"."""
        page = self.get(self.url(path, {**params, "per_page": 1}), compact=len)
        last = page.links.get("last")
        return (page_number(last) or page.data) if last else page.data

    def search_issues(self, query: str, *, sample: int = 5) -> Page:
        """One search/issues request → {"total": n, "items": [the first `sample` hits]}."""
        return self.get(self.url("/search/issues", {"q": query, "per_page": sample}), compact=_compact_found)

    def download(self, url: str, *, max_bytes: int) -> bytes:
        """Stream a binary body (a tarball, after GitHub's redirect to codeload), refusing more than
        `max_bytes` before holding them. Same retries and rate-limit handling as `get`."""
        response = self._send(url, etag=None, stream=True)
        try:
            if response.status_code == 404:
                raise GitHubNotFound(f"GitHub has no {self._describe(url)} (404)")
            if response.status_code != 200:
                raise GitHubError(f"GitHub answered {response.status_code} for {self._describe(url)}")
            chunks: list[bytes] = []
            received = 0
            for chunk in response.iter_bytes():
                received += len(chunk)
                if received > max_bytes:
                    raise GitHubError(
                        f"{self._describe(url)} is larger than {max_bytes} bytes: refused before unpacking"
                    )
                chunks.append(chunk)
            return b"".join(chunks)
        except httpx.TransportError as exc:
            raise GitHubUnavailable(f"Could not download {self._describe(url)}: {exc}") from exc
        finally:
            response.close()

    def _send(self, url: str, *, etag: str | None, stream: bool = False) -> httpx.Response:
        headers = {"If-None-Match": etag} if etag else {}
        attempt = 0
        while True:
            attempt += 1
            self.requests_made += 1
            try:
                response = self._http.send(
                    self._http.build_request("GET", url, headers=headers), stream=stream
                )
                if stream and response.status_code != 200:
                    response.read()  # small error bodies: read them so status handling can use them
            except httpx.TimeoutException as exc:
                if attempt > self.max_retries:
                    raise GitHubUnavailable(
                        f"GitHub did not answer within {self.timeout:g} s for {self._describe(url)} "
                        f"({attempt} attempts)"
                    ) from exc
                self.sleep(self._backoff(attempt))
                continue
            except httpx.TransportError as exc:
                if attempt > self.max_retries:
                    raise GitHubUnavailable(
                        f"Could not reach GitHub for {self._describe(url)}: {exc}"
                    ) from exc
                self.sleep(self._backoff(attempt))
                continue
            if response.status_code >= 500:
                if attempt > self.max_retries:
                    raise GitHubUnavailable(
                        f"GitHub answered {response.status_code} for {self._describe(url)} {attempt} times"
                    )
                self.sleep(self._backoff(attempt))
                continue
            if response.status_code in (403, 429):
                wait = self._rate_limit_wait(response)
                if wait is None:
                    raise GitHubError(f"GitHub refused {self._describe(url)} (403): {_message(response)}")
                if attempt > self.max_retries:
                    raise GitHubRateLimited(self._at(wait))
                self.sleep(wait)
                continue
            return response

    def _rate_limit_wait(self, response: httpx.Response) -> float | None:
        """Seconds to wait before a retry; raises when the wait is too long; None: not a rate limit."""
        retry_after = response.headers.get("retry-after", "").strip()
        if retry_after.isdigit():
            wait = max(1.0, float(retry_after))
            if wait > self.max_wait:
                raise GitHubRateLimited(self._at(wait))
            return wait
        reset = response.headers.get("x-ratelimit-reset", "").strip()
        if response.headers.get("x-ratelimit-remaining") == "0" and reset.isdigit():
            raise GitHubRateLimited(datetime.fromtimestamp(int(reset), tz=UTC))
        if response.status_code == 429 or "rate limit" in _message(response).lower():
            # Secondary limit without Retry-After: GitHub asks for at least a minute; stop, do not guess.
            raise GitHubRateLimited(self._at(60))
        return None

    def _backoff(self, attempt: int) -> float:
        return min(self.max_wait, 0.5 * 2.0 ** (attempt - 1))

    def _at(self, seconds: float) -> datetime:
        return datetime.fromtimestamp(self.clock() + seconds, tz=UTC)

    def _describe(self, url: str) -> str:
        return urlsplit(url).path or url


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return str(body.get("message", ""))[:200] if isinstance(body, dict) else ""


# --- Evidence ---


@dataclass(frozen=True)
class Evidence:
    figures: dict[str, float | int | None]
    summary: dict[str, Any]


def _compact_user(user: dict[str, Any]) -> dict[str, Any]:
    return {
        "login": user["login"],
        "name": user.get("name") or "",
        "html_url": user.get("html_url") or "",
        "followers": int(user.get("followers") or 0),
        "public_repos": int(user.get("public_repos") or 0),
    }


def _compact_repos(repos: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "name": repo["name"],
            "full_name": repo.get("full_name") or repo["name"],
            "html_url": repo.get("html_url") or "",
            "description": (repo.get("description") or "")[:300],
            "language": repo.get("language"),
            "fork": bool(repo.get("fork")),
            "archived": bool(repo.get("archived")),
            "stars": int(repo.get("stargazers_count") or 0),
            "pushed_at": repo.get("pushed_at"),
        }
        for repo in repos
    ]


def _compact_search(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "total": int(result["total_count"]),
        "repos": [
            item.get("repository_url", "").rsplit("/repos/", 1)[-1] for item in result.get("items", [])
        ],
    }


def _compact_found(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "total": int(result["total_count"]),
        "items": [
            {
                "title": str(item.get("title", ""))[:200],
                "html_url": item["html_url"],
                "number": item.get("number"),
            }
            for item in result.get("items", [])
        ],
    }


def _compact_events(events: list[dict[str, Any]]) -> list[str]:
    return [event["created_at"] for event in events if event.get("created_at")]


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def fetch_evidence(
    client: GitHubClient,
    login: str,
    *,
    allowlist: list[str],
    star_cap: int,
    now: datetime,
    top_repo_count: int = 5,
    participation_cap: int = 200,
    maintained_min_stars: int = 100,
    maintained_check_limit: int = 3,
) -> Evidence:
    """All figures for one login. Raises GitHubError (or a subclass); never returns half the figures."""
    user = client.get(client.url(f"/users/{login}"), compact=_compact_user).data

    repos: list[dict[str, Any]] = []
    for page in client.pages(
        f"/users/{login}/repos", {"type": "owner", "sort": "pushed", "per_page": 100}, compact=_compact_repos
    ):
        repos.extend(page.data)
    go_repos = [
        repo for repo in repos if repo["language"] == "Go" and not repo["fork"] and not repo["archived"]
    ]
    go_repos.sort(key=lambda repo: (-repo["stars"], repo["name"]))

    golang_commits = client.count("/repos/golang/go/commits", {"author": login})

    merged_prs = 0
    prs_by_repo: Counter[str] = Counter()
    if allowlist:
        query = " ".join([f"is:pr is:merged author:{login}", *(f"repo:{repo}" for repo in allowlist)])
        for page in client.pages(
            "/search/issues", {"q": query, "per_page": 100}, compact=_compact_search, max_pages=10
        ):
            merged_prs = page.data["total"]
            prs_by_repo.update(page.data["repos"])

    events = client.get(
        client.url(f"/users/{login}/events/public", {"per_page": 1}), compact=_compact_events
    ).data
    activity = [_parse_time(value) for value in [*events, *(repo["pushed_at"] for repo in repos)]]
    last_activity = max((moment for moment in activity if moment), default=None)
    months_since_activity = (
        round(max(0.0, (now - last_activity) / timedelta(days=DAYS_PER_MONTH)), 1) if last_activity else None
    )

    participation = {
        kind: _golang_participation(client, query.format(login=login), cap=participation_cap)
        for kind, query in GOLANG_PARTICIPATION_QUERIES.items()
    }
    maintained = [
        _maintenance(client, repo, now=now) for repo in go_repos if repo["stars"] >= maintained_min_stars
    ][:maintained_check_limit]

    figures = {
        "go_repos": len(go_repos),
        "go_stars": sum(min(repo["stars"], star_cap) for repo in go_repos),
        "followers": user["followers"],
        "golang_go_commits": golang_commits,
        "allowlist_merged_prs": merged_prs,
        "months_since_activity": months_since_activity,
        "golang_go_issues": participation["issues"]["counted"],
        "golang_go_reviews": participation["reviews"]["counted"],
        "maintained_go_projects": sum(1 for entry in maintained if entry["maintained"]),
    }
    summary = {
        "login": user["login"],
        "name": user["name"],
        "html_url": user["html_url"],
        "public_repos": user["public_repos"],
        "star_cap_per_repo": star_cap,
        "go_stars_uncapped": sum(repo["stars"] for repo in go_repos),
        "merged_prs_by_repo": dict(prs_by_repo.most_common()),
        "last_activity_at": last_activity.isoformat() if last_activity else None,
        "top_repos": [
            {key: repo[key] for key in ("name", "stars", "description", "html_url")}
            for repo in go_repos[:top_repo_count]
        ],
        "golang_go_participation": participation,
        "maintained_repos": maintained,
        "maintained_rule": {"min_stars": maintained_min_stars, **MAINTAINED_RULE},
    }
    return Evidence(figures=figures, summary=summary)


# golang/go takes changes through Gerrit, so GitHub shows its real problem solving in issues; PR reviews
# there are rare but count when present.
GOLANG_PARTICIPATION_QUERIES = {
    "issues": "repo:golang/go is:issue commenter:{login}",
    "reviews": "repo:golang/go is:pr reviewed-by:{login}",
}
# A high-star project counts as maintained when pushed to recently and released recently.
MAINTAINED_RULE = {"push_months": 12, "release_months": 24}


def search_url(query: str) -> str:
    """The github.com page listing what an issue search finds (for people, not the API)."""
    return f"https://github.com/search?{urlencode({'q': query, 'type': 'issues'})}"


def _golang_participation(client: GitHubClient, query: str, *, cap: int) -> dict[str, Any]:
    found = client.search_issues(query).data
    return {
        "total": found["total"],
        "counted": min(found["total"], cap),
        "cap": cap,
        "query": query,
        "search_url": search_url(query),
        "items": found["items"],
    }


def _compact_release(releases: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not releases:
        return None
    release = releases[0]
    return {
        "tag": str(release.get("tag_name", ""))[:100],
        "published_at": release.get("published_at"),
        "html_url": release.get("html_url", ""),
    }


def _months_since(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else max(0.0, (now - moment) / timedelta(days=DAYS_PER_MONTH))


def _maintenance(client: GitHubClient, repo: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    release = client.get(
        client.url(f"/repos/{repo['full_name']}/releases", {"per_page": 1}), compact=_compact_release
    ).data
    pushed = _months_since(_parse_time(repo["pushed_at"]), now)
    released = _months_since(_parse_time(release["published_at"]) if release else None, now)
    return {
        "name": repo["name"],
        "full_name": repo["full_name"],
        "html_url": repo["html_url"],
        "stars": repo["stars"],
        "pushed_at": repo["pushed_at"],
        "last_release": release,
        "maintained": pushed is not None
        and pushed <= MAINTAINED_RULE["push_months"]
        and released is not None
        and released <= MAINTAINED_RULE["release_months"],
    }


# --- Course repositories (代码仓库体检) ---

REPO_URL = re.compile(
    r"^https?://(?:www\.)?github\.com/([A-Za-z0-9-]{1,39})/([A-Za-z0-9._-]{1,100}?)(?:\.git)?/?$"
)


def parse_repo_url(url: str) -> tuple[str, str] | None:
    """("owner", "repo") for https://github.com/owner/repo[.git][/], else None."""
    match = REPO_URL.match(url.strip())
    if not match or match.group(2) in (".", ".."):
        return None
    return match.group(1), match.group(2)


@dataclass(frozen=True)
class RepoDownload:
    full_name: str
    html_url: str
    sha: str
    committed_at: datetime | None
    pushed_at: datetime | None
    stars: int
    archived: bool
    tarball: bytes | None  # None: the commit is the one already audited (`known_sha`), nothing downloaded


def _compact_repo_meta(repo: dict[str, Any]) -> dict[str, Any]:
    return {
        "full_name": repo["full_name"],
        "html_url": repo.get("html_url") or "",
        "default_branch": repo["default_branch"],
        "pushed_at": repo.get("pushed_at"),
        "stars": int(repo.get("stargazers_count") or 0),
        "archived": bool(repo.get("archived")),
    }


def _compact_commit(commit: dict[str, Any]) -> dict[str, Any]:
    return {"sha": commit["sha"], "date": commit["commit"]["committer"]["date"]}


def fetch_repository(
    client: GitHubClient, owner: str, name: str, *, max_bytes: int, known_sha: str = ""
) -> RepoDownload:
    """Metadata, head commit and (unless the head is `known_sha`) the tarball of that exact commit.
    Metadata and commit requests are conditional (ETag); the tarball is streamed with a size cap."""
    meta = client.get(client.url(f"/repos/{owner}/{name}"), compact=_compact_repo_meta).data
    full_name = meta["full_name"]
    head = client.get(
        client.url(f"/repos/{full_name}/commits/{meta['default_branch']}"), compact=_compact_commit
    ).data
    tarball = None
    if head["sha"] != known_sha:
        tarball = client.download(
            client.url(f"/repos/{full_name}/tarball/{head['sha']}"), max_bytes=max_bytes
        )
    return RepoDownload(
        full_name=full_name,
        html_url=meta["html_url"],
        sha=head["sha"],
        committed_at=_parse_time(head["date"]),
        pushed_at=_parse_time(meta["pushed_at"]),
        stars=meta["stars"],
        archived=meta["archived"],
        tarball=tarball,
    )
