"""`manage.py load_demo`: the whole demo (catalog, reviews, evidence, signals, ranking) and nothing twice."""

import json
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

from analytics.models import EvidenceSnapshot, InstructorScore, SignalDefinition, SignalRun
from reviews.models import Course, Instructor, Review, Tag

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

DEMO_DIR = settings.BASE_DIR / "demo"


def load_demo(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    models = [
        Instructor,
        Course,
        Tag,
        Review,
        SignalDefinition,
        SignalRun,
        EvidenceSnapshot,
        get_user_model(),
    ]
    return {model.__name__: model.objects.count() for model in models}


def test_it_loads_the_catalog_reviews_signals_and_ranking(settings):
    settings.DEBUG = False
    catalog = json.loads((DEMO_DIR / "catalog.json").read_text(encoding="utf-8"))
    review_lines = (DEMO_DIR / "reviews.jsonl").read_text(encoding="utf-8").splitlines()

    output = load_demo()

    first = catalog["instructors"][0]
    instructor = Instructor.objects.get(slug=first["slug"])
    assert (instructor.name, instructor.bio, instructor.github_login) == (
        first["name"],
        first["bio"],
        first["github_login"],
    )
    row = catalog["courses"][0]
    course = Course.objects.get(slug=row["slug"])
    assert (course.title, course.provider, course.level, course.repo_url) == (
        row["title"],
        row["provider"],
        row["level"],
        row["repo_url"],
    )
    assert sorted(course.tags.values_list("name", flat=True)) == sorted(row["tags"])
    assert sorted(course.instructors.values_list("slug", flat=True)) == sorted(row["instructors"])
    assert Review.objects.count() == len([line for line in review_lines if line.strip()])
    assert SignalRun.objects.filter(is_current=True, status=SignalRun.Status.SUCCEEDED).count() == 1
    assert EvidenceSnapshot.objects.exists()
    assert InstructorScore.objects.exists()
    assert not get_user_model().objects.exists()  # no demo accounts with DEBUG off
    assert "Demo data ready" in output


def test_it_changes_nothing_when_run_again(settings):
    settings.DEBUG = True
    load_demo()
    before = row_counts()
    current_run = SignalRun.objects.get(is_current=True).pk

    load_demo()

    assert row_counts() == before
    assert SignalRun.objects.get(is_current=True).pk == current_run  # no second extraction


def test_it_creates_the_documented_demo_accounts_on_request(settings):
    settings.DEBUG = False

    output = load_demo("--with-accounts")

    learner = authenticate(username="demo", password="demo-pass-2026")
    admin = authenticate(username="admin", password="admin-pass-2026")
    assert learner is not None and not learner.is_staff
    assert admin is not None and admin.is_staff and admin.is_superuser
    assert "demo / demo-pass-2026" in output
    readme = (settings.BASE_DIR / "README.md").read_text(encoding="utf-8")
    assert "demo-pass-2026" in readme and "admin-pass-2026" in readme
