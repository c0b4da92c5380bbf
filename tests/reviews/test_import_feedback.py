"""`manage.py import_feedback FILE.jsonl`: all-or-nothing import of learner feedback."""

import datetime as dt
import json
import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import translation

from reviews.models import Course, Instructor, Review
from reviews.services import feedback_import
from tests.factories import CourseFactory, InstructorFactory

pytestmark = pytest.mark.django_db


def feedback(external_id: str = "r1", **overrides) -> dict:
    return {
        "id": external_id,
        "course": "Go 高并发实战",
        "instructor": "张三",
        "rating": 2,
        "text": "例子全是 Hello World，没有 context.WithTimeout。",
        "created_at": "2025-03-01T10:00:00+08:00",
        **overrides,
    }


def write_jsonl(tmp_path: Path, rows: list, name: str = "feedback.jsonl") -> Path:
    path = tmp_path / name
    path.write_text(
        "\n".join(row if isinstance(row, str) else json.dumps(row, ensure_ascii=False) for row in rows)
        + "\n",
        encoding="utf-8",
    )
    return path


def run_import(path: Path) -> str:
    out = StringIO()
    with translation.override("en"):
        call_command("import_feedback", str(path), stdout=out)
    return out.getvalue()


def failed_import(path: Path) -> str:
    with translation.override("en"), pytest.raises(CommandError) as caught:
        call_command("import_feedback", str(path), stdout=StringIO())
    return str(caught.value)


def test_it_imports_reviews_and_creates_courses_and_instructors_by_name(tmp_path):
    path = write_jsonl(
        tmp_path,
        [
            feedback("r1", provider="极客时间", dimensions={"practice": 1, "production": 2}),
            feedback("r2", rating=5, text="讲得好"),
            feedback("r3", course="Go 微服务实战", instructor="Li Si", rating=4, provider="慕课网"),
        ],
    )
    output = run_import(path)
    assert "imported 3, skipped 0 (already present)" in output
    assert Review.objects.count() == 3
    course = Course.objects.get(title="Go 高并发实战")
    assert course.provider == "极客时间" and course.slug == "go-高并发实战"
    assert list(course.instructors.values_list("name", flat=True)) == ["张三"]
    assert Instructor.objects.get(name="张三").slug == "张三"
    assert Instructor.objects.get(name="Li Si").slug == "li-si"
    review = Review.objects.get(external_id="r1")
    assert review.author is None and review.source == "import" and review.status == "published"
    assert review.dimensions == {"practice": 1, "production": 2}


@override_settings(TIME_ZONE="Asia/Shanghai")
def test_it_keeps_the_original_created_at(tmp_path):
    path = write_jsonl(
        tmp_path,
        [
            feedback("aware", created_at="2024-11-05T08:30:00Z"),
            feedback("naive", created_at="2024-11-05T08:30:00"),
            feedback("date", created_at="2024-11-05"),
        ],
    )
    run_import(path)
    created = dict(Review.objects.values_list("external_id", "created_at"))
    assert created["aware"] == dt.datetime(2024, 11, 5, 8, 30, tzinfo=dt.UTC)
    assert created["naive"] == dt.datetime(2024, 11, 5, 0, 30, tzinfo=dt.UTC)  # 08:30 in Shanghai
    assert created["date"] == dt.datetime(2024, 11, 4, 16, 0, tzinfo=dt.UTC)


def test_it_changes_nothing_when_the_same_file_is_imported_again(tmp_path):
    path = write_jsonl(tmp_path, [feedback("r1"), feedback("r2")])
    run_import(path)
    before = list(Review.objects.order_by("pk").values())
    output = run_import(path)
    assert "imported 0, skipped 2 (already present)" in output
    assert list(Review.objects.order_by("pk").values()) == before
    assert (Course.objects.count(), Instructor.objects.count()) == (1, 1)


def test_it_imports_only_the_new_ids_of_a_grown_file(tmp_path):
    run_import(write_jsonl(tmp_path, [feedback("r1")], name="v1.jsonl"))
    output = run_import(write_jsonl(tmp_path, [feedback("r1"), feedback("r2")], name="v2.jsonl"))
    assert "imported 1, skipped 1" in output
    assert Review.objects.count() == 2


def test_it_lists_every_bad_line_and_stores_nothing(tmp_path):
    path = write_jsonl(
        tmp_path,
        [
            feedback("ok-1"),
            feedback("bad-rating", rating=6),
            "{not json",
            feedback("bad-text", text="   "),
            feedback("ok-2", course="新课程", instructor="新讲师"),
            feedback("bad-nul", text="a\x00b"),
            feedback("bad-date", created_at="上周"),
            feedback("bad-dim", dimensions={"vibes": 3}),
            feedback("ok-1"),
            ["not", "an", "object"],
            {k: v for k, v in feedback("missing").items() if k != "instructor"},
            feedback("long", text="好" * 5001),
            feedback("float", rating=2.5),
        ],
    )
    message = failed_import(path)
    for line, reason in [
        (2, "rating"),
        (3, "invalid JSON"),
        (4, "text"),
        (6, "NUL"),
        (7, "created_at"),
        (8, "vibes"),
        (9, "duplicate id “ok-1” (first used on line 1)"),
        (10, "JSON object"),
        (11, "instructor"),
        (12, "5000"),
        (13, "rating"),
    ]:
        assert f"line {line}: " in message and reason in message.split(f"line {line}: ")[1].split("\n")[0]
    assert "line 1:" not in message and "line 5:" not in message
    assert (Review.objects.count(), Course.objects.count(), Instructor.objects.count()) == (0, 0, 0)


def test_it_accepts_exactly_5000_characters_of_text(tmp_path):
    run_import(write_jsonl(tmp_path, [feedback("long", text="好" * 5000)]))
    assert len(Review.objects.get().text) == 5000


def test_it_refuses_a_missing_file_clearly(tmp_path):
    message = failed_import(tmp_path / "nope.jsonl")
    assert "File not found" in message and "nope.jsonl" in message


def test_it_exits_non_zero_from_the_command_line(tmp_path):
    path = write_jsonl(tmp_path, [feedback("x"), feedback("y", rating=0)])
    # A separate process with its own throw-away SQLite database, exactly as an operator runs it.
    env = {**os.environ, "COURSELENS_DEV": "1", "COURSELENS_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    finished = subprocess.run(
        [sys.executable, "manage.py", "import_feedback", str(path)],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode != 0
    # The operator's language is the site default (zh-hans) once translations are compiled.
    assert re.search(r"line 2: |第 2 行", finished.stderr), finished.stderr
    assert "line 1: " not in finished.stderr and "第 1 行" not in finished.stderr


def test_it_reports_an_empty_file_and_imports_nothing(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n", encoding="utf-8")
    assert "imported 0" in run_import(path)
    assert Review.objects.count() == 0


def test_it_matches_existing_catalog_courses_by_title_or_slug(tmp_path):
    instructor = InstructorFactory(name="张三", slug="zhang-san")
    by_title = CourseFactory(title="Go 高并发实战", slug="gaobingfa", instructors=[instructor])
    by_slug = CourseFactory(title="Go 语言微服务", slug="go-micro")
    run_import(
        write_jsonl(
            tmp_path,
            [feedback("a"), feedback("b", course="go-micro")],
        )
    )
    assert Review.objects.get(external_id="a").course == by_title
    assert Review.objects.get(external_id="b").course == by_slug
    assert (Course.objects.count(), Instructor.objects.count()) == (2, 1)
    assert list(by_slug.instructors.all()) == [instructor]


def test_it_makes_slugs_unique_and_never_empty(tmp_path):
    CourseFactory(title="Other", slug="go-并发")
    run_import(
        write_jsonl(
            tmp_path,
            [
                feedback("a", course="Go 并发", instructor="!!!"),
                feedback("b", course="GO 并发!", instructor="???"),
            ],
        )
    )
    slugs = sorted(Course.objects.exclude(title="Other").values_list("slug", flat=True))
    assert slugs == ["go-并发-2", "go-并发-3"]
    instructor_slugs = list(Instructor.objects.values_list("slug", flat=True))
    assert len(set(instructor_slugs)) == 2 and all(instructor_slugs)


def test_it_accepts_numeric_ids_and_ignores_extra_keys(tmp_path):
    run_import(write_jsonl(tmp_path, [feedback(42, labels=["toy_examples"], source_url="https://x")]))
    assert Review.objects.get().external_id == "42"


def test_it_validates_without_storing_in_a_dry_run(tmp_path):
    rows = [feedback("a"), feedback("b", course="Go 微服务", instructor="李四")]
    result = feedback_import(path=write_jsonl(tmp_path, rows), dry_run=True)
    assert (result.created, result.skipped, result.courses_created, result.instructors_created) == (
        2,
        0,
        2,
        2,
    )
    assert (Review.objects.count(), Course.objects.count(), Instructor.objects.count()) == (0, 0, 0)


REAL_DATA = Path(settings.BASE_DIR).parent / "shared" / "data" / "real"


def test_it_imports_undated_reviews_without_inventing_a_date(tmp_path, client):
    undated = {key: value for key, value in feedback("undated").items() if key != "created_at"}
    path = write_jsonl(tmp_path, [undated, feedback("null-date", created_at=None), feedback("dated")])
    assert "imported 3" in run_import(path)
    assert Review.objects.get(external_id="undated").created_at is None
    assert Review.objects.get(external_id="null-date").created_at is None
    # Undated reviews come last in both date orders; the public pages show them.
    for ordering in ("newest", "oldest"):
        response = client.get("/api/reviews/", {"ordering": ordering})
        assert response.status_code == 200
        assert response.json()["results"][0]["created_at"] is not None
        assert response.json()["results"][-1]["created_at"] is None
    course = Course.objects.get()
    assert client.get(f"/courses/{course.slug}/").status_code == 200


def test_it_says_which_field_is_missing(tmp_path):
    line = {key: value for key, value in feedback("r1").items() if key not in ("course", "rating", "text")}
    message = failed_import(write_jsonl(tmp_path, [line]))
    assert "line 1: “course” is missing" in message
    assert "“rating” is missing" in message and "“text” is missing" in message
    assert "non-empty string" not in message and "got null" not in message


def test_it_lists_the_first_twenty_bad_lines_then_counts_the_rest(tmp_path):
    rows = [feedback(f"r{n}", rating=9) for n in range(30)] + [feedback("late", created_at="未来")]
    path = write_jsonl(tmp_path, rows)
    message = failed_import(path)
    assert "line 20:" in message and "line 21:" not in message
    assert message.splitlines()[-1] == "… and 11 more lines with errors (2 distinct reasons)"
    with translation.override("zh-hans"), pytest.raises(CommandError) as caught:
        call_command("import_feedback", str(path), stdout=StringIO())
    assert str(caught.value).splitlines()[-1] == "… 另有 11 行有错误（共 2 种不同原因）"
    assert Review.objects.count() == 0


@override_settings(TIME_ZONE="Asia/Shanghai")
def test_it_refuses_dates_before_1970_or_in_the_future_and_stores_utc(tmp_path):
    bad = write_jsonl(
        tmp_path,
        [
            feedback("go-zero", created_at="0001-01-01T00:00:00"),
            feedback("old", created_at="1900-05-01T00:00:00"),
            feedback("future", created_at="2999-01-01T00:00:00Z"),
        ],
    )
    message = failed_import(bad)
    assert "line 1: “created_at” is before 1970: 0001-01-01T00:00:00" in message
    assert "line 2: “created_at” is before 1970" in message
    assert "line 3: “created_at” is in the future" in message
    assert Review.objects.count() == 0

    run_import(write_jsonl(tmp_path, [feedback("epoch", created_at="1970-01-01T08:00:00")], name="ok.jsonl"))
    stored = Review.objects.get(external_id="epoch").created_at
    assert stored == dt.datetime(1970, 1, 1, tzinfo=dt.UTC) and stored.utcoffset() == dt.timedelta(0)


def test_the_database_refuses_a_date_before_1970_from_any_write_path():
    from django.db import IntegrityError, transaction

    course = CourseFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.create(
            course=course, rating=3, text="好", created_at=dt.datetime(1, 1, 1, tzinfo=dt.UTC)
        )


def test_it_reports_a_deeply_nested_line_with_its_number(tmp_path):
    deep = '{"id": "deep", "dimensions": ' + "[" * 100_000 + "]" * 100_000 + "}"
    message = failed_import(write_jsonl(tmp_path, [feedback("ok"), deep]))
    assert "line 2: JSON nested too deeply" in message
    assert Review.objects.count() == 0


@pytest.mark.slow
def test_it_imports_the_real_undated_study163_export_as_it_is():
    result = feedback_import(path=REAL_DATA / "study163_it_reviews.jsonl")
    assert result.created == Review.objects.count() > 26_000
    assert not Review.objects.filter(created_at__isnull=False).exists()
