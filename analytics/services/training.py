"""The complaint classifier and background text every run uses, trained from the labelled reviews and kept
per process until those files change."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import sklearn
from django.conf import settings

from analytics.signals import (
    ComplaintClassifier,
    RatingComplaintRule,
)
from analytics.text import get_segmenter

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingData:
    """What the project's labelled reviews give every run: the complaint classifier, and their content
    tokens as background text for the TF-IDF and LSA spaces (more co-occurrence evidence on small corpora)."""

    classifier: ComplaintClassifier | RatingComplaintRule
    kind: str  # "trained" or "rating-rule"
    context: tuple[str, ...]  # each review's content tokens joined by spaces
    # Of the segmenter, the classifier and what it learned from: cached tokens and complaint decisions
    # made under another fingerprint are stale.
    fingerprint: str


class _TrainingCache:
    lock = threading.Lock()
    key: tuple | None = None
    value: TrainingData | None = None


def signal_training_data() -> TrainingData:
    """Trained (≈0.3 s, deterministic) from SIGNAL_TRAINING_REVIEWS/_LABELS; cached per process until those
    files change. Without usable training data the rule "rating ≤ 3" is used, and each run's counts say
    so ("classifier": "rating-rule")."""
    reviews_path = Path(settings.SIGNAL_TRAINING_REVIEWS)
    labels_path = Path(settings.SIGNAL_TRAINING_LABELS)
    try:
        key = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in (reviews_path, labels_path))
    except OSError:
        key = None
    with _TrainingCache.lock:
        if _TrainingCache.value is not None and _TrainingCache.key == key:
            return _TrainingCache.value
        try:
            if key is None:
                raise ValueError("training files are missing")
            value = _train(reviews_path, labels_path)
        except (ValueError, KeyError, TypeError, json.JSONDecodeError) as error:
            logger.warning("complaint classifier falls back to the rating rule: %s", error)
            rule = RatingComplaintRule()
            value = TrainingData(
                classifier=rule,
                kind="rating-rule",
                context=(),
                fingerprint=_pipeline_fingerprint(f"rating-rule {rule.at_or_below}".encode()),
            )
        _TrainingCache.key, _TrainingCache.value = key, value
        return value


def _pipeline_fingerprint(*parts: bytes) -> str:
    digest = hashlib.sha256(get_segmenter().fingerprint.encode())
    for part in (sklearn.__version__.encode(), *parts):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()[:32]


def _train(reviews_path: Path, labels_path: Path) -> TrainingData:
    reviews_bytes, labels_bytes = reviews_path.read_bytes(), labels_path.read_bytes()
    labels: dict[str, str] = {}
    for line in labels_bytes.decode("utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            labels[str(item["id"])] = str(item["label"])
    texts, ratings, complaint = [], [], []
    for line in reviews_bytes.decode("utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        label = labels.get(str(item["id"]))
        if label is None:
            continue
        texts.append(str(item["text"]))
        ratings.append(int(item["rating"]))
        complaint.append(label != "praise")
    segmenter = get_segmenter()
    words = segmenter.words_many(texts)
    classifier = ComplaintClassifier().fit(words, ratings, complaint)
    return TrainingData(
        classifier=classifier,
        kind="trained",
        context=tuple(" ".join(segmenter.filter(w)) for w in words),
        fingerprint=_pipeline_fingerprint(
            repr((classifier.version, classifier.c, classifier.threshold)).encode(),
            reviews_bytes,
            labels_bytes,
        ),
    )
