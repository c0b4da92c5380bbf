"""The demo data shipped in demo/ is what `load_demo`, every page and every signal benchmark stand on."""

import collections
import datetime as dt
import json
from pathlib import Path

import pytest

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
DIMENSION_KEYS = {"practice", "concurrency", "production", "engineering", "testing", "delivery"}
SEEDED_SIGNALS = {
    "toy_examples",
    "no_production",
    "shallow_concurrency",
    "outdated_tooling",
    "weak_testing",
    "no_practice",
}
LABELS = SEEDED_SIGNALS | {"praise", "support", "pace", "audio", "price"}
REQUIRED_REVIEW_FIELDS = {"id", "course", "instructor", "rating", "text", "created_at", "provider"}
LEVELS = {"beginner", "intermediate", "advanced"}


def _read_jsonl(name: str) -> list[dict]:
    lines = (DEMO_DIR / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def catalog() -> dict:
    return json.loads((DEMO_DIR / "catalog.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def reviews() -> list[dict]:
    return _read_jsonl("reviews.jsonl")


@pytest.fixture(scope="module")
def labels() -> list[dict]:
    return _read_jsonl("labels.jsonl")


def test_it_ships_a_catalog_big_enough_to_rank(catalog):
    assert len(catalog["instructors"]) >= 8
    assert len(catalog["courses"]) >= 12
    instructor_slugs = [i["slug"] for i in catalog["instructors"]]
    course_slugs = [c["slug"] for c in catalog["courses"]]
    assert len(set(instructor_slugs)) == len(instructor_slugs)
    assert len(set(course_slugs)) == len(course_slugs)
    logins = [i["github_login"] for i in catalog["instructors"] if i["github_login"]]
    assert len(set(logins)) == len(logins)
    for course in catalog["courses"]:
        assert course["title"] and course["provider"] and course["level"] in LEVELS
        assert course["instructors"] and set(course["instructors"]) <= set(instructor_slugs)
        assert all(slug.isascii() for slug in [course["slug"], *course["instructors"]])


def test_it_writes_every_review_line_in_the_import_feedback_format(reviews):
    assert len(reviews) >= 400
    for review in reviews:
        assert REQUIRED_REVIEW_FIELDS <= review.keys(), review["id"]
        assert type(review["rating"]) is int and 1 <= review["rating"] <= 5, review["id"]
        assert isinstance(review["text"], str) and review["text"].strip(), review["id"]
        assert "\x00" not in review["text"] and len(review["text"]) <= 5000, review["id"]
        created = dt.datetime.fromisoformat(review["created_at"])
        assert created.tzinfo is not None, review["id"]
        dimensions = review.get("dimensions", {})
        assert set(dimensions) <= DIMENSION_KEYS, review["id"]
        assert all(type(v) is int and 1 <= v <= 5 for v in dimensions.values()), review["id"]


def test_it_gives_every_review_a_unique_id_and_text(reviews):
    ids = [r["id"] for r in reviews]
    assert len(set(ids)) == len(ids)
    duplicated = [t for t, n in collections.Counter(r["text"] for r in reviews).items() if n > 1]
    assert duplicated == []


def test_it_only_references_courses_and_instructors_from_the_catalog(catalog, reviews):
    courses = {c["title"]: c for c in catalog["courses"]}
    names = {i["slug"]: i["name"] for i in catalog["instructors"]}
    for review in reviews:
        course = courses.get(review["course"])
        assert course is not None, review["id"]
        assert review["provider"] == course["provider"], review["id"]
        assert review["instructor"] == names[course["instructors"][0]], review["id"]


def test_it_labels_every_review_exactly_once(reviews, labels):
    labelled = collections.Counter(row["id"] for row in labels)
    assert set(labelled) == {r["id"] for r in reviews}
    assert max(labelled.values()) == 1
    assert {row["label"] for row in labels} <= LABELS


def test_it_has_enough_examples_of_every_seeded_signal_and_of_support(labels):
    counts = collections.Counter(row["label"] for row in labels)
    for label in [*sorted(SEEDED_SIGNALS), "support"]:
        assert counts[label] >= 30, label
    assert counts["praise"] >= 100


def test_it_ships_evidence_only_for_catalog_instructors_with_a_github_login(catalog):
    evidence = json.loads((DEMO_DIR / "evidence.json").read_text(encoding="utf-8"))
    logins = {i["slug"]: i["github_login"] for i in catalog["instructors"]}
    figure_keys = {
        "go_repos",
        "go_stars",
        "followers",
        "golang_go_commits",
        "allowlist_merged_prs",
        "months_since_activity",
        "golang_go_issues",
        "golang_go_reviews",
        "maintained_go_projects",
    }
    for snapshot in evidence:
        assert logins[snapshot["slug"]] == snapshot["github_login"]
        assert dt.datetime.fromisoformat(snapshot["fetched_at"]).tzinfo is not None
        assert set(snapshot["figures"]) == figure_keys
        assert all(type(v) is int and v >= 0 for v in snapshot["figures"].values())
        assert len(snapshot["top_repos"]) <= 3
    assert {s["slug"] for s in evidence} == {slug for slug, login in logins.items() if login}


def test_it_ships_a_demo_repository_for_catalog_courses_with_a_repository(catalog):
    manifest = json.loads((DEMO_DIR / "repos" / "repos.json").read_text(encoding="utf-8"))
    with_repo = {course["slug"] for course in catalog["courses"] if course.get("repo_url")}
    assert {row["course"] for row in manifest} <= with_repo
    for row in manifest:
        assert any((DEMO_DIR / "repos" / row["path"]).rglob("*.go"))
        assert dt.datetime.fromisoformat(row["last_commit_at"]).tzinfo is not None
