"""The pure signal pipeline as the benchmarks run it: no Django, no database.

Loads labelled JSON Lines, the shipped seeds and keyword stopwords; prepares a corpus as a cold run does
(noise gate, clauses, the complaint model and word vectors learned from the corpus's own stars plus the
DEV labels in demo/, complaint decisions) and runs analytics.signals.extract.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics import clauses, pipeline, signals, text  # noqa: E402
from analytics.complaints import ComplaintModel, LabelledClause  # noqa: E402
from analytics.embeddings import WordVectors  # noqa: E402

DEV_REVIEWS = ROOT / "demo" / "reviews.jsonl"
DEV_LABELS = ROOT / "demo" / "labels.jsonl"
EVAL_SET = ROOT / "bench" / "data" / "signal_eval.jsonl"
SEEDS = ROOT / "analytics" / "data" / "seeds.json"
KEYWORD_STOPWORDS = ROOT / "analytics" / "data" / "keyword_stopwords.txt"


@dataclass
class Labelled:
    ids: list[str]
    texts: list[str]
    ratings: list[int]
    labels: list[str]
    months: list[str]
    courses: list[str]
    instructors: dict[str, list[str]]


def load_labelled(reviews: Path, labels: Path | None = None) -> Labelled:
    """Reviews with a label each: inline ("label") or from a separate id → label file."""
    by_id: dict[str, str] = {}
    if labels is not None:
        for line in labels.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                by_id[str(item["id"])] = item["label"]
    data = Labelled([], [], [], [], [], [], {})
    for line in reviews.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        label = item.get("label") or by_id.get(str(item["id"]))
        if label is None:
            continue
        data.ids.append(str(item["id"]))
        data.texts.append(item["text"])
        data.ratings.append(int(item["rating"]))
        data.labels.append(label)
        data.months.append(str(item.get("created_at", ""))[:7])
        course = str(item.get("course", ""))
        data.courses.append(course)
        data.instructors.setdefault(course, [str(item.get("instructor", ""))])
    return data


def seed_specs(courses: Iterable[str] = ()) -> list[signals.SignalSpec]:
    """The shipped seeds. The benches' catalogs are all Go courses, so a scoped (Go) seed's courses are all of
    `courses`; it stays scoped, so it wins over a course-wide seed as it does in production."""
    segmenter = text.get_segmenter()
    every = frozenset(courses)
    return [
        signals.SignalSpec(
            key=seed["key"],
            terms=signals.seed_phrases(seed["seed_terms"], segmenter.tokens),
            courses=every if seed.get("scope_tags") else None,
            scope=tuple(seed.get("scope_tags", ())),
        )
        for seed in json.loads(SEEDS.read_text(encoding="utf-8"))
    ]


def seeded_keys() -> list[str]:
    return [seed["key"] for seed in json.loads(SEEDS.read_text(encoding="utf-8"))]


def dev_labelled() -> list[LabelledClause]:
    """The DEV set's labels as training clauses, as analytics.services.training reads them."""
    dev = load_labelled(DEV_REVIEWS, DEV_LABELS)
    complaint = [label not in ("praise", "spam") for label in dev.labels]
    return pipeline.labelled_clauses(dev.texts, complaint, text.get_segmenter())


@dataclass
class Prepared:
    """A corpus segmented, its models learned and its complaint clauses decided, ready to extract."""

    packed: list[str]
    models: tuple[ComplaintModel, WordVectors | None]


def prepare(texts: list[str], ratings: list[int], labelled: list[LabelledClause]) -> Prepared:
    """What a cold run does before extraction: noise gate and clauses, learning, decisions."""
    prepared = pipeline.prepare(texts, text.get_segmenter())
    reviews = [item.clauses for item in prepared]
    model, vectors = pipeline.train_models(reviews, ratings, labelled)
    decided = pipeline.decide(reviews, ratings, model)
    return Prepared([clauses.pack(review) for review in decided], (model, vectors))


def decide_all(texts: list[str], ratings: list[int], model: ComplaintModel) -> list[str]:
    """A cold run's corpus with models already learned: noise gate and clauses, then decisions, as one
    batch (what a run's chunks do)."""
    prepared = pipeline.prepare_batch(texts, text.get_segmenter())
    return pipeline.decide_batch(prepared.batch, ratings, model)


def run(
    corpus: Prepared, courses: list, parameters: signals.Parameters | None = None
) -> signals.ExtractionResult:
    return signals.extract(
        corpus.packed,
        courses,
        seed_specs(courses),
        vectors=corpus.models[1],
        evidence=corpus.models[0].log_odds_many,
        parameters=parameters,
        keyword_stopwords=text.load_stopwords(KEYWORD_STOPWORDS),
    )
