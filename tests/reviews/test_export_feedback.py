"""`manage.py export_feedback OUT.jsonl`: every review, in the import format; export, then import into an
empty database, gives back the same reviews, ratings, texts, dates, statuses and revisions."""

import itertools
import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from reviews.models import Course, Instructor, Review
from reviews.services import feedback_import, review_edit, review_moderation_decide, review_submit
from tests.factories import CourseFactory, InstructorFactory, StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db

DEMO_REVIEWS = Path(settings.BASE_DIR) / "demo" / "reviews.jsonl"
REAL_DATA = Path(settings.BASE_DIR).parent / "shared" / "data" / "real"


def snapshot() -> dict[str, tuple]:
    """Everything the round trip must keep, per review, keyed by the id the export gives it."""
    reviews = Review.objects.select_related("course").prefetch_related("revisions", "course__instructors")
    return {
        review.external_id or f"web-{review.pk}": (
            review.course.title,
            review.course.provider,
            sorted(instructor.name for instructor in review.course.instructors.all())[:1],
            review.rating,
            review.text,
            review.dimensions,
            review.context,
            review.created_at,
            review.status,
            sorted(
                (
                    revision.created_at,
                    revision.rating,
                    revision.text,
                    json.dumps(revision.dimensions, sort_keys=True),
                    json.dumps(revision.context, sort_keys=True),
                )
                for revision in review.revisions.all()
            ),
        )
        for review in reviews
    }


def round_trip(tmp_path: Path) -> tuple[dict, dict, str]:
    before = snapshot()
    out = StringIO()
    call_command("export_feedback", str(tmp_path / "backup.jsonl"), "--unmasked", stdout=out)
    Review.objects.all().delete()
    Course.objects.all().delete()
    Instructor.objects.all().delete()
    feedback_import(path=tmp_path / "backup.jsonl")
    return before, snapshot(), out.getvalue()


def test_the_demo_data_and_site_reviews_survive_export_and_import(tmp_path):
    feedback_import(path=DEMO_REVIEWS)
    course = CourseFactory(provider="极客时间")
    course.instructors.add(InstructorFactory())
    edited = review_submit(author=UserFactory(), course=course, rating=2, text="例子太少，没讲超时控制")
    review_edit(
        review=edited,
        editor=edited.author,
        rating=3,
        text="例子太少，没讲超时控制；补了一章",
        dimensions={"practice": 2},
        context={"taken": "2024-03", "finished": False, "weekly_hours": 6, "would_recommend": True},
    )
    hidden = review_submit(author=UserFactory(), course=course, rating=1, text="骂人的话")
    review_moderation_decide(review=hidden, moderator=StaffUserFactory(), action="hide", reason="辱骂")
    Review.objects.filter(external_id="demo-0001").update(status=Review.Status.PENDING)
    Review.objects.filter(external_id="demo-0002").update(created_at=None)

    before, after, output = round_trip(tmp_path)

    assert len(before) == Review.objects.count() > 100
    assert after == before
    assert f"exported {len(before)} reviews" in output or f"{len(before)}" in output
    assert {status for *_, status, _revisions in after.values()} == {"published", "pending", "hidden"}
    assert len(after[f"web-{edited.pk}"][-1]) == 2  # both versions of the edited review
    assert after[f"web-{edited.pk}"][6].weekly_hours == 6  # the reviewer context came back


@pytest.mark.slow
def test_ten_thousand_real_reviews_survive_export_and_import(tmp_path):
    source = tmp_path / "real.jsonl"
    with source.open("w", encoding="utf-8") as out:
        for name in ("icourse163_cs_reviews.jsonl", "study163_it_reviews.jsonl"):
            with (REAL_DATA / name).open(encoding="utf-8") as lines:
                out.writelines(itertools.islice(lines, 5000))
    feedback_import(path=source)
    assert Review.objects.count() == 10_000
    assert Review.objects.filter(created_at__isnull=True).count() == 5000  # 网易云课堂 has no dates

    before, after, _output = round_trip(tmp_path)

    assert len(after) == 10_000
    assert after == before
