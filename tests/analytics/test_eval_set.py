"""The held-out signal evaluation set (bench/data/signal_eval.jsonl) stays loadable, labelled and balanced.

bench/signal_quality.py scores the pipeline against this file; a malformed line, a typo in a label or a
label that quietly lost its members would make those figures meaningless, so they are checked here (no DB).
"""

import collections
import datetime as dt
import json
import re
import unicodedata
from pathlib import Path

import pytest

DATA_DIR = Path(__file__).resolve().parents[2] / "bench" / "data"
EVAL_SET = DATA_DIR / "signal_eval.jsonl"
README = DATA_DIR / "README.md"

FIELDS = {"id", "course", "instructor", "rating", "text", "created_at", "label"}
SEEDED_SIGNALS = (
    "toy_examples",
    "no_production",
    "shallow_concurrency",
    "outdated_tooling",
    "weak_testing",
    "no_practice",
)
MINIMUM_PER_LABEL = {
    "praise": 90,
    **dict.fromkeys(SEEDED_SIGNALS, 30),
    "support": 30,
    "pace": 12,
    "audio": 12,
    "price": 10,
}
EARLIEST = dt.datetime(2024, 1, 1, tzinfo=dt.UTC) - dt.timedelta(hours=14)
LATEST = dt.datetime(2026, 11, 1, tzinfo=dt.UTC) + dt.timedelta(hours=14)


def _load() -> list[dict]:
    rows = []
    for number, line in enumerate(EVAL_SET.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            pytest.fail(f"line {number} is not JSON: {exc}")
        if not isinstance(row, dict):
            pytest.fail(f"line {number} is not a JSON object")
        row["_line"] = number
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return _load()


def _fold(text: str) -> str:
    """Width-folded, case-folded text without spaces or punctuation: catches near-verbatim copies."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def test_it_holds_at_least_360_reviews(rows):
    assert len(rows) >= 360


def test_it_gives_every_line_exactly_the_import_fields_plus_a_label(rows):
    wrong = {
        row["_line"]: sorted(set(row) - {"_line"} ^ FIELDS) for row in rows if set(row) - {"_line"} != FIELDS
    }
    assert wrong == {}


def test_it_keeps_every_field_importable(rows):
    problems = []
    for row in rows:
        line = row["_line"]
        if not re.fullmatch(r"eval-\d{4}", str(row["id"])):
            problems.append((line, "id"))
        for field in ("course", "instructor", "text"):
            if not isinstance(row[field], str) or not row[field].strip() or "\x00" in row[field]:
                problems.append((line, field))
        if type(row["rating"]) is not int or not 1 <= row["rating"] <= 5:
            problems.append((line, "rating"))
        if isinstance(row["text"], str) and len(row["text"]) > 5000:
            problems.append((line, "text too long"))
        try:
            created = dt.datetime.fromisoformat(row["created_at"])
        except (TypeError, ValueError):
            problems.append((line, "created_at"))
            continue
        if created.tzinfo is None or not EARLIEST <= created <= LATEST:
            problems.append((line, "created_at timezone or range"))
    assert problems == []


def test_it_uses_only_the_allowed_labels(rows):
    unknown = {row["_line"]: row["label"] for row in rows if row["label"] not in MINIMUM_PER_LABEL}
    assert unknown == {}


def test_it_has_enough_reviews_for_every_label(rows):
    counts = collections.Counter(row["label"] for row in rows)
    short = {label: counts[label] for label, minimum in MINIMUM_PER_LABEL.items() if counts[label] < minimum}
    assert short == {}


def test_it_has_unique_ids(rows):
    duplicates = [id_ for id_, n in collections.Counter(row["id"] for row in rows).items() if n > 1]
    assert duplicates == []


def test_it_has_no_repeated_texts_even_after_folding_width_case_and_punctuation(rows):
    seen: dict[str, int] = {}
    repeats = []
    for row in rows:
        key = _fold(row["text"])
        if key in seen:
            repeats.append((seen[key], row["_line"]))
        seen.setdefault(key, row["_line"])
    assert repeats == []


def test_it_keeps_one_instructor_per_course(rows):
    instructors = collections.defaultdict(set)
    for row in rows:
        instructors[row["course"]].add(row["instructor"])
    assert {course: names for course, names in instructors.items() if len(names) > 1} == {}
    assert len(instructors) == 8
    assert len({name for names in instructors.values() for name in names}) == 6


def test_it_mixes_ratings_so_the_rating_alone_cannot_give_the_label_away(rows):
    praise_below_four = sum(1 for row in rows if row["label"] == "praise" and row["rating"] <= 3)
    complaints_above_three = sum(1 for row in rows if row["label"] != "praise" and row["rating"] >= 4)
    assert praise_below_four >= 5
    assert complaints_above_three >= 15


def test_it_documents_the_current_counts_in_the_readme(rows):
    documented = dict(
        re.findall(r"^\|\s*`?([a-z_]+)`?\s*\|\s*(\d+)\s*\|", README.read_text(encoding="utf-8"), re.M)
    )
    counts = collections.Counter(row["label"] for row in rows)
    assert {label: int(n) for label, n in documented.items()} == {**counts, "total": len(rows)}
