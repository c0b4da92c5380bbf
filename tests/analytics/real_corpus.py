"""Real learner reviews from ../shared/data/real/ (never copied into the project), prepared once per test run.

The tests that use them check what a staff user would see on a real platform's reviews: mis-starred praise
is not a complaint, a happy review's "但是…" clause is, and discovery finds recurring complaints of their own.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from analytics import clauses, pipeline, text
from analytics.clauses import Clause
from analytics.complaints import ComplaintModel
from analytics.embeddings import WordVectors

REAL_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"
MAIN_FILE = REAL_DATA / "icourse163_cs_reviews.jsonl"
PAID_FILE = REAL_DATA / "study163_it_reviews.jsonl"


@dataclass
class RealCorpus:
    ids: list[str]
    texts: list[str]
    ratings: list[int]
    courses: list[str]
    reviews: list[list[Clause]]  # decided
    packed: list[str]
    model: ComplaintModel
    vectors: WordVectors | None


def _read(path: Path) -> list[dict]:
    if not path.exists():
        pytest.fail(f"the real reviews are missing: {path} (CI has ../shared/data/real/)", pytrace=False)
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


@functools.cache
def real_corpus() -> RealCorpus:
    rows = _read(MAIN_FILE) + _read(PAID_FILE)
    texts = [row["text"] for row in rows]
    ratings = [int(row["rating"]) for row in rows]
    prepared = pipeline.prepare(texts, text.get_segmenter())
    raw = [item.clauses for item in prepared]
    model, vectors = pipeline.train_models(raw, ratings)
    decided = pipeline.decide(raw, ratings, model)
    return RealCorpus(
        ids=[row["id"] for row in rows],
        texts=texts,
        ratings=ratings,
        courses=[row["course"] for row in rows],
        reviews=decided,
        packed=[clauses.pack(review) for review in decided],
        model=model,
        vectors=vectors,
    )
