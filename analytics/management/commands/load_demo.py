"""`manage.py load_demo`: the demo catalog, reviews, evidence, one signal extraction and the ranking.

Idempotent: every step upserts by a natural key (slug, external id, username, signal key), so running it
again changes nothing and never duplicates rows.
"""

import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.text import slugify

from analytics.models import SignalRun
from analytics.services import evidence, repo_audit, taxonomy
from analytics.services.scores import scores_recompute
from reviews.models import Course, Instructor, Tag
from reviews.services import feedback_import

DEMO_DIR = settings.BASE_DIR / "demo"
# (username, password, is_staff): printed by the command and listed in README.
DEMO_ACCOUNTS = [("demo", "demo-pass-2026", False), ("admin", "admin-pass-2026", True)]


def load_catalog(path: Path) -> tuple[int, int]:
    """Upsert instructors and courses (with tags and instructor links) from demo/catalog.json."""
    catalog = json.loads(path.read_text(encoding="utf-8"))
    with transaction.atomic():
        instructors: dict[str, Instructor] = {}
        for row in catalog["instructors"]:
            instructor, _created = Instructor.objects.update_or_create(
                slug=row.get("slug") or slugify(row["name"], allow_unicode=True),
                defaults={
                    "name": row["name"],
                    "bio": row.get("bio", ""),
                    "github_login": row.get("github_login") or None,
                    "homepage": row.get("homepage", ""),
                },
            )
            instructors[instructor.slug] = instructors[instructor.name] = instructor
        for row in catalog["courses"]:
            course, _created = Course.objects.update_or_create(
                slug=row.get("slug") or slugify(row["title"], allow_unicode=True),
                defaults={
                    "title": row["title"],
                    "provider": row.get("provider", ""),
                    "url": row.get("url", ""),
                    "level": row.get("level", ""),
                    "description": row.get("description", ""),
                    "repo_url": row.get("repo_url", ""),
                },
            )
            course.tags.set(
                Tag.objects.get_or_create(name=name, defaults={"slug": slugify(name, allow_unicode=True)})[0]
                for name in row.get("tags", [])
            )
            try:
                course.instructors.set(instructors[key] for key in row.get("instructors", []))
            except KeyError as missing:
                raise CommandError(
                    f"{path}: course {course.slug!r} names unknown instructor {missing}"
                ) from None
    return len(catalog["instructors"]), len(catalog["courses"])


def ensure_account(username: str, password: str, *, staff: bool):
    user, _created = get_user_model().objects.get_or_create(
        username=username, defaults={"email": f"{username}@example.com"}
    )
    # The README documents these passwords, so a rerun restores them.
    if not user.check_password(password) or user.is_staff != staff or user.is_superuser != staff:
        user.set_password(password)
        user.is_staff = user.is_superuser = staff
        user.save()
    return user


class Command(BaseCommand):
    help = (
        "Load the demo data (demo/catalog.json, demo/reviews.jsonl, demo/evidence.json, demo/repos/), seed "
        "the signal definitions, run one signal extraction if none is current and recompute the instructor "
        "ranking. Creates the demo accounts when DEBUG is on or with --with-accounts. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--with-accounts",
            action="store_true",
            help="create the demo learner and staff accounts even when DEBUG is off (never in production)",
        )

    def handle(self, *args, with_accounts: bool, **options):
        instructors, courses = load_catalog(DEMO_DIR / "catalog.json")
        self.stdout.write(f"catalog: {instructors} instructors, {courses} courses")

        try:
            imported = feedback_import(path=DEMO_DIR / "reviews.jsonl")
        except ValidationError as error:
            raise CommandError("demo/reviews.jsonl: " + "; ".join(error.messages)) from None
        self.stdout.write(f"reviews: imported {imported.created}, already present {imported.skipped}")

        if settings.DEBUG or with_accounts:
            for username, password, staff in DEMO_ACCOUNTS:
                ensure_account(username, password, staff=staff)
                role = "staff" if staff else "learner"
                self.stdout.write(f"account: {username} / {password} ({role})")

        seeded = taxonomy.seed_signal_definitions()
        self.stdout.write(f"signal definitions: {seeded} seeded")
        evidence.evidence_load_demo(path=DEMO_DIR / "evidence.json")
        self.stdout.write("evidence: demo snapshots loaded")
        try:
            audited = repo_audit.repo_audit_load_demo(path=DEMO_DIR / "repos" / "repos.json")
        except ValidationError as error:
            raise CommandError("demo/repos/repos.json: " + "; ".join(error.messages)) from None
        self.stdout.write(f"repository checks: {audited} demo repositories audited")

        if not SignalRun.objects.current().exists():
            # The same synchronous code path as the Celery task; prints one line per signal.
            call_command("extract_signals", stdout=self.stdout)
        current = SignalRun.objects.current().first()
        if current is None:
            raise CommandError("the signal extraction finished without a current run; see the log above")
        self.stdout.write(f"signals: run #{current.pk} is current")

        scores = scores_recompute()
        self.stdout.write(self.style.SUCCESS(f"ranking: {len(scores)} instructors scored. Demo data ready."))
