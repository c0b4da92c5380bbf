"""Write paths of the course repository check (代码仓库体检): audit a source, keep the result per course."""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from analytics import jobs
from analytics.github import GitHubClient, GitHubError, fetch_repository, parse_repo_url
from analytics.models import RepoAudit
from analytics.repo_archive import Limits, RepoAuditError, RepoTree, read_directory, read_tarball
from analytics.repo_audit import AuditReport, audit
from analytics.services.scores import scores_recompute_soon
from reviews.models import Course

logger = logging.getLogger(__name__)
MB = 1024 * 1024


@dataclass(frozen=True)
class AuditOutcome:
    source: str
    report: AuditReport | None  # None: the GitHub head is the commit already audited (nothing downloaded)
    commit_sha: str = ""
    etags: dict | None = None
    repository: dict | None = None  # GitHub metadata: full_name, html_url, stars, archived, pushed_at


def _limits() -> Limits:
    return Limits(
        max_files=settings.REPO_AUDIT_MAX_FILES,
        max_total_bytes=settings.REPO_AUDIT_MAX_UNPACKED_MB * MB,
        max_file_bytes=settings.REPO_AUDIT_MAX_FILE_MB * MB,
    )


def repo_audit_source(
    source: str,
    *,
    now: datetime | None = None,
    etag_cache: dict | None = None,
    known_sha: str = "",
    last_commit_at: datetime | None = None,
) -> AuditOutcome:
    """Audit a directory, a .tar.gz or https://github.com/owner/repo (its default branch's head, as a tarball
    through the GitHub API). Reads files only. Raises RepoAuditError or GitHubError with a message to show."""
    now = now or timezone.now()
    source = source.strip()
    if source.startswith(("http://", "https://")):
        return _audit_github(source, now=now, etag_cache=etag_cache or {}, known_sha=known_sha)
    path = Path(source)
    if path.is_dir():
        tree = read_directory(path, limits=_limits())
    elif path.is_file():
        if not path.name.endswith((".tar.gz", ".tgz", ".tar")):
            raise RepoAuditError(f"{source}: expected a directory, a .tar.gz or a GitHub repository URL")
        tree = read_tarball(path, limits=_limits())
    else:
        raise RepoAuditError(f"{source}: no such file or directory")
    if last_commit_at is not None:
        tree.last_commit_at = last_commit_at
    return AuditOutcome(source=source, report=audit(tree, now=now))


def _audit_github(url: str, *, now: datetime, etag_cache: dict, known_sha: str) -> AuditOutcome:
    parsed = parse_repo_url(url)
    if parsed is None:
        raise RepoAuditError(f"{url}: not a GitHub repository URL (https://github.com/owner/repo)")
    with GitHubClient(
        base_url=settings.GITHUB_API_URL,
        token=settings.GITHUB_TOKEN,
        timeout=settings.GITHUB_TIMEOUT_SECONDS,
        max_retries=settings.GITHUB_MAX_RETRIES,
        max_wait=settings.GITHUB_MAX_WAIT_SECONDS,
        etag_cache=etag_cache,
    ) as client:
        download = fetch_repository(
            client, *parsed, max_bytes=settings.REPO_AUDIT_MAX_DOWNLOAD_MB * MB, known_sha=known_sha
        )
    repository = {
        "full_name": download.full_name,
        "html_url": download.html_url,
        "stars": download.stars,
        "archived": download.archived,
        "pushed_at": download.pushed_at.isoformat() if download.pushed_at else None,
    }
    report = None
    if download.tarball is not None:
        tree: RepoTree = read_tarball(io.BytesIO(download.tarball), limits=_limits())
        tree.last_commit_at = download.committed_at or tree.last_commit_at
        report = audit(tree, now=now)
    return AuditOutcome(
        source=url, report=report, commit_sha=download.sha, etags=client.etags_used, repository=repository
    )


def repo_audit_refresh(*, course_id: int, source: str | None = None) -> RepoAudit:
    """Audit a course's repository (`source`, else its companion repository URL) and keep the result.

    On success the report replaces the last one and a score recompute is scheduled; when GitHub says the head
    commit is the one already audited, only `checked_at` moves. On any failure the last good report stays and
    the row records the error. Raises ValidationError when there is nothing to audit.
    """
    course = Course.objects.get(pk=course_id)
    source = (source or course.repo_url or "").strip()
    if not source:
        raise ValidationError({"repo_url": [_("This course has no companion repository to check.")]})
    existing = RepoAudit.objects.filter(course=course).first()
    same_source = existing is not None and existing.source == source and existing.has_result
    now = timezone.now()
    try:
        outcome = repo_audit_source(
            source,
            now=now,
            etag_cache=existing.etags if existing is not None and same_source else {},
            known_sha=existing.commit_sha if existing is not None and same_source else "",
        )
    except (RepoAuditError, GitHubError) as exc:
        logger.warning("repository check of %s (%s) failed: %s", course.slug, source, exc)
        failure = {"status": RepoAudit.Status.FAILED, "error": str(exc), "checked_at": now}
        # The row keeps naming the source its last good report came from.
        audit_row, created = RepoAudit.objects.get_or_create(
            course=course, defaults={"source": source, **failure}
        )
        if not created:
            RepoAudit.objects.filter(pk=audit_row.pk).update(**failure)
            audit_row.refresh_from_db()
        return audit_row
    return _store(course, outcome, now=now, previous=existing if same_source else None)


def _store(course: Course, outcome: AuditOutcome, *, now: datetime, previous: RepoAudit | None) -> RepoAudit:
    defaults: dict = {"source": outcome.source, "status": RepoAudit.Status.OK, "error": "", "checked_at": now}
    if outcome.etags is not None:
        defaults["etags"] = outcome.etags
    if outcome.report is not None:
        report = outcome.report.as_dict()
        if outcome.repository:
            report["repository"] = outcome.repository
        defaults.update(
            report=report, score=outcome.report.score, commit_sha=outcome.commit_sha, audited_at=now
        )
    with transaction.atomic():
        audit_row, _created = RepoAudit.objects.update_or_create(course=course, defaults=defaults)
    if outcome.report is not None and (previous is None or previous.score != outcome.report.score):
        scores_recompute_soon()
    return audit_row


def repo_audit_request(*, course_ids: list[int], spacing_seconds: int = 5) -> int:
    """Enqueue `refresh_repo_audit` (after commit) for the courses among `course_ids` that have a companion
    repository, spaced out for GitHub's rate limit. Returns how many were enqueued."""
    linked = list(
        Course.objects.filter(pk__in=course_ids)
        .exclude(repo_url="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )

    def enqueue() -> None:
        for position, course_id in enumerate(linked):
            jobs.enqueue(jobs.REFRESH_REPO_AUDIT, course_id=course_id, countdown=position * spacing_seconds)

    transaction.on_commit(enqueue)
    return len(linked)


def repo_audit_load_demo(*, path: str | Path) -> int:
    """Audit the demo repositories shipped under demo/repos/ (listed in its repos.json with the course slug
    and a fictional last-commit date) so the offline demo shows the card. Idempotent: one row per course.
    Any bad entry → ValidationError naming it, nothing stored. Returns the number of courses audited."""
    manifest = Path(path)
    try:
        rows = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValidationError({"path": [f"{path}: {exc}"]}) from exc
    now = timezone.now()
    audits: list[tuple[Course, str, AuditReport]] = []
    problems: list[str] = []
    courses = {
        course.slug: course for course in Course.objects.filter(slug__in=[r.get("course") for r in rows])
    }
    for number, row in enumerate(rows, start=1):
        try:
            course = courses[row["course"]]
            committed = parse_datetime(str(row["last_commit_at"]))
            directory = manifest.parent / row["path"]
            outcome = repo_audit_source(str(directory), now=now, last_commit_at=committed)
        except (KeyError, TypeError, ValueError, RepoAuditError) as exc:
            problems.append(f"row {number}: {exc!r}")
            continue
        if outcome.report is not None:
            audits.append((course, f"demo:{row['path']}", outcome.report))
    if problems:
        raise ValidationError({"path": problems})
    with transaction.atomic():
        for course, source, report in audits:
            RepoAudit.objects.update_or_create(
                course=course,
                defaults={
                    "source": source,
                    "status": RepoAudit.Status.OK,
                    "error": "",
                    "checked_at": now,
                    "audited_at": now,
                    "score": report.score,
                    "report": {**report.as_dict(), "demo": True},
                },
            )
    return len(audits)
