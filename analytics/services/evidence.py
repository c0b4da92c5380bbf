"""Instructors' GitHub evidence: refresh one from the API, enqueue refreshes, load the demo snapshots."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from analytics import jobs
from analytics.github import (
    GOLANG_PARTICIPATION_QUERIES,
    MAINTAINED_RULE,
    GitHubClient,
    GitHubError,
    GitHubRateLimited,
    fetch_evidence,
    search_url,
)
from analytics.models import (
    EvidenceSnapshot,
)
from analytics.services.scores import scores_recompute_soon
from reviews.models import Instructor

logger = logging.getLogger(__name__)


DEMO_FIGURE_KEYS = (
    "go_repos",
    "go_stars",
    "followers",
    "golang_go_commits",
    "allowlist_merged_prs",
    "months_since_activity",
)
# Figures added after the first demo file; a row without them counts them as 0.
DEMO_OPTIONAL_FIGURE_KEYS = ("golang_go_issues", "golang_go_reviews", "maintained_go_projects")


def _github_client(*, etag_cache: dict) -> GitHubClient:
    return GitHubClient(
        base_url=settings.GITHUB_API_URL,
        token=settings.GITHUB_TOKEN,
        timeout=settings.GITHUB_TIMEOUT_SECONDS,
        max_retries=settings.GITHUB_MAX_RETRIES,
        max_wait=settings.GITHUB_MAX_WAIT_SECONDS,
        etag_cache=etag_cache,
    )


def evidence_refresh(*, instructor_id: int) -> EvidenceSnapshot:
    """Fetch one instructor's GitHub evidence and keep it as a snapshot.

    Returns the new OK snapshot; or the current one untouched but for `checked_at` when GitHub confirms
    nothing changed (ETag 304s, same figures); or, on any failure, a FAILED snapshot carrying the error for
    admins while the last good snapshot stays current. A change schedules a score recompute.
    Raises ValidationError when the instructor has no GitHub login.
    """
    instructor = Instructor.objects.get(pk=instructor_id)
    login = instructor.github_login
    if not login:
        raise ValidationError({"github_login": [_("Link a GitHub login before refreshing evidence.")]})
    current = EvidenceSnapshot.objects.current_for(instructor)
    # The current snapshot only counts (for its ETags and as "unchanged") when it is of the same login.
    if current is not None and current.payload_summary.get("login", "").lower() != login.lower():
        current = None
    now = timezone.now()
    try:
        with _github_client(etag_cache=current.etags if current else {}) as client:
            evidence = fetch_evidence(
                client,
                login,
                allowlist=settings.GITHUB_ALLOWLIST,
                star_cap=settings.GITHUB_STAR_CAP_PER_REPO,
                now=now,
                participation_cap=settings.GITHUB_PARTICIPATION_CAP,
                maintained_min_stars=settings.GITHUB_MAINTAINED_MIN_STARS,
            )
    except GitHubError as exc:
        logger.warning("evidence refresh for %s (%s) failed: %s", instructor.slug, login, exc)
        summary: dict = {"login": login, "error_kind": type(exc).__name__}
        if isinstance(exc, GitHubRateLimited):
            summary["rate_limited_until"] = exc.until.isoformat()
        return EvidenceSnapshot.objects.create(
            instructor=instructor,
            fetched_at=now,
            status=EvidenceSnapshot.Status.FAILED,
            payload_summary=summary,
            error=str(exc),
        )
    if current and current.figures == evidence.figures and current.payload_summary == evidence.summary:
        current.checked_at = now
        current.etags = client.etags_used
        current.save(update_fields=["checked_at", "etags"])
        return current
    snapshot = EvidenceSnapshot.objects.create(
        instructor=instructor,
        fetched_at=now,
        status=EvidenceSnapshot.Status.OK,
        figures=evidence.figures,
        payload_summary=evidence.summary,
        etags=client.etags_used,
    )
    scores_recompute_soon()
    return snapshot


def evidence_refresh_request(*, instructor_ids: list[int], spacing_seconds: int = 5) -> int:
    """Enqueue `refresh_evidence` for the linked instructors among `instructor_ids`, spaced out so a batch
    stays inside GitHub's limits. Returns how many were enqueued (after commit)."""
    linked = list(
        Instructor.objects.filter(pk__in=instructor_ids, github_login__isnull=False)
        .exclude(github_login="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )

    def enqueue() -> None:
        for position, instructor_id in enumerate(linked):
            jobs.enqueue(
                jobs.REFRESH_EVIDENCE, instructor_id=instructor_id, countdown=position * spacing_seconds
            )

    transaction.on_commit(enqueue)
    return len(linked)


def evidence_load_demo(*, path: str | Path) -> int:
    """Load shipped evidence snapshots (demo/evidence.json, fictional accounts) so the offline demo shows
    evidence. Links each instructor (by slug) to its login. Idempotent: one snapshot per instructor and
    fetched_at. Any bad row → ValidationError naming it, nothing stored. Returns the number of rows."""
    try:
        rows = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValidationError({"path": [f"{path}: {exc}"]}) from exc
    if not isinstance(rows, list):
        raise ValidationError({"path": [f"{path}: expected a JSON list"]})
    problems: list[str] = []
    parsed: list[tuple[str, str, datetime, dict, list, dict]] = []
    for number, row in enumerate(rows, start=1):
        try:
            slug, login = str(row["slug"]), str(row["github_login"])
            fetched_at = parse_datetime(str(row["fetched_at"]))
            if fetched_at is None:
                raise ValueError("fetched_at is not an ISO 8601 date-time")
            if timezone.is_naive(fetched_at):
                fetched_at = timezone.make_aware(fetched_at)
            figures = {key: row["figures"][key] for key in DEMO_FIGURE_KEYS}
            figures |= {key: int(row["figures"].get(key, 0)) for key in DEMO_OPTIONAL_FIGURE_KEYS}
            extra = _demo_evidence_links(login, row)
            top_repos = [
                {
                    "name": str(repo["name"]),
                    "stars": int(repo["stars"]),
                    "description": repo.get("description", ""),
                }
                for repo in row.get("top_repos", [])
            ]
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"row {number}: {exc!r}")
            continue
        parsed.append((slug, login, fetched_at, figures, top_repos, extra))
    instructors = {i.slug: i for i in Instructor.objects.filter(slug__in=[row[0] for row in parsed])}
    problems += [f"unknown instructor slug {row[0]!r}" for row in parsed if row[0] not in instructors]
    taken = dict(
        Instructor.objects.filter(github_login__in=[row[1] for row in parsed])
        .exclude(slug__in=[row[0] for row in parsed])
        .values_list("github_login", "slug")
    )
    problems += [f"GitHub login {login!r} already belongs to {slug!r}" for login, slug in taken.items()]
    if problems:
        raise ValidationError({"path": problems})
    with transaction.atomic():
        for slug, login, fetched_at, figures, top_repos, extra in parsed:
            instructor = instructors[slug]
            if instructor.github_login != login:
                instructor.github_login = login
                instructor.save(update_fields=["github_login"])
            EvidenceSnapshot.objects.update_or_create(
                instructor=instructor,
                source="github",
                fetched_at=fetched_at,
                defaults={
                    "status": EvidenceSnapshot.Status.OK,
                    "figures": figures,
                    "payload_summary": {
                        "login": login,
                        "html_url": f"https://github.com/{login}",
                        "top_repos": top_repos,
                        "demo": True,
                        **extra,
                    },
                    "error": "",
                },
            )
    return len(parsed)


def _demo_evidence_links(login: str, row: dict) -> dict:
    """The golang/go participation and maintained-project details of a demo row, with the links the evidence
    card shows (built the way `fetch_evidence` builds them)."""
    extra: dict = {}
    participation = row.get("golang_go_participation")
    if participation:
        extra["golang_go_participation"] = {}
        for kind, template in GOLANG_PARTICIPATION_QUERIES.items():
            found = participation.get(kind, {})
            query = template.format(login=login)
            total = int(found.get("total", 0))
            extra["golang_go_participation"][kind] = {
                "total": total,
                "counted": min(total, settings.GITHUB_PARTICIPATION_CAP),
                "cap": settings.GITHUB_PARTICIPATION_CAP,
                "query": query,
                "search_url": search_url(query),
                "items": [
                    {key: str(item[key]) for key in ("title", "html_url")} | {"number": int(item["number"])}
                    for item in found.get("items", [])
                ],
            }
    if "maintained_repos" in row:
        extra["maintained_repos"] = [
            {
                "name": str(repo["name"]),
                "full_name": f"{login}/{repo['name']}",
                "html_url": f"https://github.com/{login}/{repo['name']}",
                "stars": int(repo["stars"]),
                "pushed_at": repo.get("pushed_at"),
                "last_release": repo.get("last_release"),
                "maintained": bool(repo["maintained"]),
            }
            for repo in row["maintained_repos"]
        ]
        extra["maintained_rule"] = {"min_stars": settings.GITHUB_MAINTAINED_MIN_STARS, **MAINTAINED_RULE}
    return extra
