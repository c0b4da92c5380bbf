"""The pure signal pipeline as the benchmarks run it: no Django, no database.

Loads labelled JSON Lines, the shipped seeds and keyword stopwords, trains the complaint classifier on
the DEV set (demo/reviews.jsonl + demo/labels.jsonl) exactly as analytics.services does, and runs
analytics.signals.extract.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics import signals, text  # noqa: E402

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


def seed_specs() -> list[signals.SignalSpec]:
    segmenter = text.get_segmenter()
    return [
        signals.SignalSpec(key=seed["key"], terms=signals.seed_phrases(seed["seed_terms"], segmenter.tokens))
        for seed in json.loads(SEEDS.read_text(encoding="utf-8"))
    ]


def seeded_keys() -> list[str]:
    return [seed["key"] for seed in json.loads(SEEDS.read_text(encoding="utf-8"))]


def train_classifier() -> signals.ComplaintClassifier:
    dev = load_labelled(DEV_REVIEWS, DEV_LABELS)
    words = text.get_segmenter().words_many(dev.texts)
    return signals.ComplaintClassifier().fit(words, dev.ratings, [label != "praise" for label in dev.labels])


def background_context() -> list[str]:
    """The DEV reviews' content tokens: background text for the TF-IDF/LSA spaces, as services passes it."""
    dev = load_labelled(DEV_REVIEWS, DEV_LABELS)
    return [" ".join(review) for review in text.segment_many(dev.texts)]


def run(
    words: list[list[str]],
    ratings: list[int],
    classifier,
    parameters: signals.Parameters | None = None,
    context: list[str] | None = None,
) -> signals.ExtractionResult:
    tokens = [" ".join(review) for review in text.get_segmenter().filter_many(words)]
    return signals.extract(
        tokens,
        classifier.is_complaint(words, ratings),
        seed_specs(),
        parameters=parameters,
        keyword_stopwords=text.load_stopwords(KEYWORD_STOPWORDS),
        context=context or (),
    )
