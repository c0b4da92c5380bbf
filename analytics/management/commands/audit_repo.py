"""`python manage.py audit_repo SOURCE [--course SLUG] [--json OUT]`: check a course's companion repository.

SOURCE is a directory, a .tar.gz or https://github.com/owner/repo (fetched as a tarball through the GitHub
API). The code is read, never executed. With --course the result is kept as that course's repository check
(the same service the nightly task and the staff button use). Exits non-zero, with the reason, for a missing
path, a repository without Go code, a refused archive or a failed download.
"""

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from analytics.github import GitHubError
from analytics.models import RepoAudit
from analytics.repo_archive import RepoAuditError
from analytics.services.repo_audit import repo_audit_refresh, repo_audit_source
from reviews.models import Course

MARKS = {"good": "✓", "concern": "!", "bad": "✗", "info": "·"}
VERDICT_WORDS = {
    "zh": {"good": "好", "concern": "注意", "bad": "差", "info": "不适用"},
    "en": {"good": "good", "concern": "concern", "bad": "bad", "info": "n/a"},
}


class Command(BaseCommand):
    help = (
        "Statically check a Go repository (directory, .tar.gz or GitHub URL) and print each figure's verdict."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", help="a directory, a .tar.gz or https://github.com/owner/repo")
        parser.add_argument(
            "--course", metavar="SLUG", help="keep the result as this course's repository check"
        )
        parser.add_argument(
            "--json", metavar="OUT", dest="json_out", help="also write the figures and verdicts as JSON"
        )

    def handle(self, *args, source: str, course: str | None, json_out: str | None, **options):
        if course:
            chosen = Course.objects.filter(slug=course).first()
            if chosen is None:
                raise CommandError(f"no course with the slug {course!r}")
            try:
                row = repo_audit_refresh(course_id=chosen.pk, source=source)
            except ValidationError as error:
                raise CommandError("; ".join(error.messages)) from None
            if row.status == RepoAudit.Status.FAILED:
                kept = " (the last good result is kept)" if row.has_result else ""
                raise CommandError(f"{source}: {row.error}{kept}")
            result = {"source": row.source, "course": chosen.slug, **row.report}
        else:
            try:
                outcome = repo_audit_source(source)
            except (RepoAuditError, GitHubError) as error:
                raise CommandError(str(error)) from None
            result = {"source": outcome.source, **outcome.report.as_dict()}  # type: ignore[union-attr]  # no known commit: always a report
        self._print(result)
        if json_out:
            _write_json(Path(json_out), result)
            self.stdout.write(f"wrote {json_out}")

    def _print(self, result: dict) -> None:
        lang = "en" if (translation.get_language() or "").startswith("en") else "zh"
        words = VERDICT_WORDS[lang]
        counts = result["verdicts"]
        title = "Repository check" if lang == "en" else "代码仓库体检"
        score = "score" if lang == "en" else "得分"
        self.stdout.write(f"{title} · {result['source']}")
        self.stdout.write(
            f"{score} {round(100 * result['score'])}/100 · "
            + " · ".join(f"{words[key]} {counts[key]}" for key in ("good", "concern", "bad", "info"))
        )
        for finding in result["findings"]:
            shown = _shown(finding["value"], lang)
            mark, word = MARKS[finding["verdict"]], words[finding["verdict"]]
            label, meaning = finding[f"label_{lang}"], finding[f"meaning_{lang}"]
            self.stdout.write(f"{mark} {word} · {label}: {shown} — {meaning}")


def _shown(value, lang: str) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return {("en", True): "yes", ("en", False): "no", ("zh", True): "是", ("zh", False): "否"}[
            lang, value
        ]
    return str(value)


def _write_json(path: Path, result: dict) -> None:
    try:
        path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    except OSError as error:
        raise CommandError(f"could not write {path}: {error}") from None
