"""Imported reviews without a date (an export that has none) take part in extraction and in the ranking."""

import json

import pytest
from django.core.management import call_command

from analytics.models import InstructorScore, SignalRun
from reviews.services import feedback_import

pytestmark = pytest.mark.django_db

COMPLAINTS = [
    "视频经常卡顿，看到一半就卡住",
    "声音太小听不清",
    "字幕错误很多",
    "老师从不回复问题",
    "课程只更新一半就停了",
]


def test_extraction_and_the_ranking_take_undated_reviews(tmp_path):
    rows = [
        {
            "id": f"u{n}",
            "course": "数据结构",
            "instructor": "陈老师",
            "rating": 1 + n % 2,
            "text": COMPLAINTS[n % 5],
        }
        for n in range(40)
    ] + [
        {
            "id": f"d{n}",
            "course": "数据结构",
            "instructor": "陈老师",
            "rating": 1,
            "text": COMPLAINTS[n % 5],
            "created_at": f"2024-0{1 + n % 3}-15T10:00:00+08:00",
        }
        for n in range(20)
    ]
    path = tmp_path / "feedback.jsonl"
    path.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in rows), encoding="utf-8")
    feedback_import(path=path)

    call_command("extract_signals", "--json", str(tmp_path / "report.json"))
    call_command("rank_instructors")

    run = SignalRun.objects.get(status=SignalRun.Status.SUCCEEDED)
    assert run.counts["undated"] == 40
    assert InstructorScore.objects.filter(instructor__name="陈老师").exists()
