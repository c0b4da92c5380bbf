"""What signal runs learn and keep: the complaint model and the word vectors of the corpus.

Learning them takes seconds on 100k reviews, so a run does not do it every time: they are stored
(analytics.models.LearnedModel) with the fingerprint of what they were learned with, and learned again when
that changes (segmenter dictionary, labelled reviews, code) or when the corpus has grown or shrunk by more
than SIGNAL_RETRAIN_GROWTH since. The labelled reviews shipped with the project (SIGNAL_TRAINING_REVIEWS /
_LABELS) join the platform's own stars as training examples.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from django.conf import settings

from analytics import complaints, embeddings, pipeline
from analytics.clauses import Clause
from analytics.complaints import ComplaintModel, LabelledClause
from analytics.embeddings import WordVectors
from analytics.models import LearnedModel
from analytics.text import get_segmenter

logger = logging.getLogger(__name__)

# Bump when the complaint model, the clauses or the word vectors change meaning.
MODEL_VERSION = "2"

# Without enough rated reviews to learn from: ≤ 2★ reviews' clauses are complaints, 3★ uncertain ones too.
RATING_RULE = ComplaintModel(
    weights={},
    # Just past the evidence a clause's words must show (no words here): the rating decides alone.
    intercept=complaints.MIN_EVIDENCE + 1e-3,
    priors={
        f"{stars}:{contrast}": prior
        for stars, prior in ((1, 0.9), (2, 0.9), (3, 0.5), (4, 0.1), (5, 0.1))
        for contrast in (0, 1)
    },
)


@dataclass(frozen=True)
class SignalModels:
    complaints: ComplaintModel
    vectors: WordVectors | None
    kind: str  # "learned" or "rating-rule"
    fingerprint: str  # names this model: cached decisions made by another are made again
    reviews: int  # how many reviews it learned from


def segmenter_fingerprint() -> str:
    """16 characters naming the segmenter (dictionary, stopwords) and clause format: cached words made
    under another are segmented again."""
    digest = hashlib.sha256(f"{get_segmenter().fingerprint}:{MODEL_VERSION}".encode())
    return digest.hexdigest()[:16]


def decisions_id(models: SignalModels) -> str:
    """Names the cached rows segmented by today's segmenter and decided by `models` (ReviewTokens.pipeline):
    a row made under another is segmented or decided again."""
    return segmenter_fingerprint() + models.fingerprint[:16]


class _Labelled:
    lock = threading.Lock()
    key: tuple | None = None
    clauses: list[LabelledClause] = []
    digest: str = ""


def labelled_training() -> tuple[list[LabelledClause], str]:
    """The project's hand-labelled reviews as training clauses, and a digest of the files (cached per
    process until the files change; missing or unreadable files give none)."""
    paths = (Path(settings.SIGNAL_TRAINING_REVIEWS), Path(settings.SIGNAL_TRAINING_LABELS))
    try:
        key = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
    except OSError:
        return [], "none"
    with _Labelled.lock:
        if _Labelled.key != key:
            try:
                _Labelled.clauses, _Labelled.digest = _read_labelled(*paths)
            except (ValueError, KeyError, TypeError) as error:
                logger.warning("labelled reviews ignored: %s", error)
                _Labelled.clauses, _Labelled.digest = [], "none"
            _Labelled.key = key
        return _Labelled.clauses, _Labelled.digest


def _read_labelled(reviews_path: Path, labels_path: Path) -> tuple[list[LabelledClause], str]:
    reviews_bytes, labels_bytes = reviews_path.read_bytes(), labels_path.read_bytes()
    labels: dict[str, str] = {}
    for line in labels_bytes.decode("utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            labels[str(item["id"])] = str(item["label"])
    texts, complaint = [], []
    for line in reviews_bytes.decode("utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            label = labels.get(str(item["id"]))
            if label is not None:
                texts.append(str(item["text"]))
                complaint.append(label not in ("praise", "spam"))
    digest = hashlib.sha256(reviews_bytes + b"\0" + labels_bytes).hexdigest()[:16]
    return pipeline.labelled_clauses(texts, complaint, get_segmenter()), digest


def _base_fingerprint() -> str:
    """What a stored model depends on besides the corpus."""
    _clauses, labelled_digest = labelled_training()
    parts = (segmenter_fingerprint(), labelled_digest, sklearn.__version__, np.__version__.split(".")[0])
    return hashlib.sha256(":".join(parts).encode()).hexdigest()[:32]


class _Stored:
    lock = threading.Lock()
    key: tuple | None = None
    value: SignalModels | None = None


def stored_models() -> SignalModels | None:
    """The stored models if they were learned with today's segmenter, labels and code; cached per process."""
    # The payloads (a megabyte of vectors) are read only when they changed: this runs for every new review.
    rows = {
        row.kind: row
        for row in LearnedModel.objects.filter(
            kind__in=[LearnedModel.COMPLAINTS, LearnedModel.WORD_VECTORS]
        ).defer("payload")
    }
    complaint_row = rows.get(LearnedModel.COMPLAINTS)
    if complaint_row is None or complaint_row.fingerprint != _base_fingerprint():
        return None
    vector_row = rows.get(LearnedModel.WORD_VECTORS)
    key = (
        complaint_row.pk,
        complaint_row.trained_at,
        vector_row.pk if vector_row else None,
        vector_row.trained_at if vector_row else None,
    )
    with _Stored.lock:
        if _Stored.key != key:
            model = ComplaintModel.from_json(json.loads(bytes(complaint_row.payload).decode("utf-8")))
            vectors = None
            if vector_row is not None and vector_row.fingerprint == complaint_row.fingerprint:
                with np.load(io.BytesIO(bytes(vector_row.payload)), allow_pickle=False) as arrays:
                    vectors = WordVectors.from_arrays(dict(arrays))
            _Stored.value = SignalModels(
                complaints=model,
                vectors=vectors,
                kind=_kind(model),
                fingerprint=_model_fingerprint(bytes(complaint_row.payload)),
                reviews=complaint_row.reviews,
            )
            _Stored.key = key
        return _Stored.value


def _model_fingerprint(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()[:16]


def needs_training(models: SignalModels | None, corpus_size: int) -> bool:
    """No usable stored model, or the corpus has grown or shrunk enough since it was learned."""
    if models is None:
        return True
    growth = abs(corpus_size - models.reviews) / max(models.reviews, 1)
    return growth > settings.SIGNAL_RETRAIN_GROWTH


def train_and_store(
    reviews: Sequence[Sequence[Clause]], ratings: Sequence[int | None], *, corpus_size: int | None = None
) -> SignalModels:
    """Learn the complaint model and word vectors from the corpus (or a sample of it: corpus_size is then the
    whole corpus's size, which needs_training compares against) and store them, replacing the old ones.

    With too few rated reviews (and no labelled ones) the rating rule stands in (stored as well)."""
    size = len(reviews) if corpus_size is None else corpus_size
    labelled, _digest = labelled_training()
    # The word vectors are learned on a second thread meanwhile: most of either model's time is spent in
    # numpy, scipy and liblinear, which let go of the GIL, so a run's serial step takes a third less time.
    with ThreadPoolExecutor(max_workers=1) as pool:
        learning_vectors = pool.submit(_vectors, reviews, labelled)
        try:
            model = complaints.train(zip(reviews, ratings, strict=True), labelled)
        except ValueError as error:
            # Stored like a learned model: every chunk of a run must decide with the same one, and the next
            # runs keep it until the corpus has grown enough to learn from.
            logger.warning("complaints fall back to the rating rule: %s", error)
            model = RATING_RULE
        vectors = learning_vectors.result()
    payload = json.dumps(model.as_json(), ensure_ascii=False, sort_keys=True).encode("utf-8")
    fingerprint = _base_fingerprint()
    LearnedModel.objects.update_or_create(
        kind=LearnedModel.COMPLAINTS,
        defaults={"fingerprint": fingerprint, "reviews": size, "payload": payload},
    )
    if vectors is not None:
        buffer = io.BytesIO()
        # Read as Any: numpy's stubs would otherwise match an array to savez's allow_pickle flag.
        arrays: dict[str, Any] = vectors.as_arrays()
        np.savez_compressed(buffer, **arrays)
        LearnedModel.objects.update_or_create(
            kind=LearnedModel.WORD_VECTORS,
            defaults={"fingerprint": fingerprint, "reviews": size, "payload": buffer.getvalue()},
        )
    else:
        LearnedModel.objects.filter(kind=LearnedModel.WORD_VECTORS).delete()
    return SignalModels(model, vectors, _kind(model), _model_fingerprint(payload), size)


def _kind(model: ComplaintModel) -> str:
    return "learned" if model.weights else "rating-rule"


def _vectors(reviews: Sequence[Sequence[Clause]], labelled: Sequence[LabelledClause]) -> WordVectors | None:
    """Word vectors of the corpus; the labelled reviews' clauses join it, which matters on a young site."""
    documents = [[token for clause in review for token in clause.tokens] for review in reviews]
    documents.extend(list(example.tokens) for example in labelled)
    try:
        return embeddings.train(documents)
    except ValueError as error:
        logger.info("no word vectors for this corpus: %s", error)
        return None
