"""A run's corpus: the published reviews with their cached clauses, brought up to date.

    load_corpus()   one query of plain rows: ids, ratings, months, courses, cached clauses and what made them
    bring_up_to_date(corpus, progress)
                    segments what is stale (noise gate first), learns the models again when needed, decides
                    the complaint clauses the current model has not decided, and caches all of it

A re-run over an unchanged corpus does none of that work: every row is fresh and the stored models serve.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

import numpy as np
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics import clauses, pipeline
from analytics.clauses import Clause
from analytics.services.token_cache import md5, store, with_cache
from analytics.services.training import (
    SignalModels,
    needs_training,
    segmenter_fingerprint,
    stored_models,
    train_and_store,
)
from analytics.text import get_segmenter
from reviews.models import Review

# Reviews segmented (and cached) per step: one progress update and one short transaction each.
BATCH = 5000
# The models learn from at most this many reviews (a seeded sample of a larger corpus): what they learn, a
# platform's language, is there many times over, and memory and time stay bounded as the corpus grows.
TRAINING_SAMPLE = 200_000
_LOAD_CHUNK = 20000
_NO_DATE = np.iinfo(np.int64).min


@dataclass
class Corpus:
    """The published reviews of a run, in primary-key order (one entry per review in each list)."""

    review_ids: list[int] = field(default_factory=list)
    ratings: list[int] = field(default_factory=list)
    months: list[str | None] = field(default_factory=list)  # "YYYY-MM" in the site's zone; None: no date
    course_ids: list[int] = field(default_factory=list)
    packed: list[str] = field(default_factory=list)  # clauses with decisions; "" for noise (see `noise`)
    noise: list[str] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)  # MD5 of the text, as cached
    made_by: list[str] = field(default_factory=list)  # the cache row's pipeline ("" when stale)
    stale: list[tuple[int, str]] = field(default_factory=list)  # (position, text) to segment again
    counts: Counter[str] = field(default_factory=Counter)


def load_corpus() -> Corpus:
    """The published reviews with their cached clauses, in one query of plain rows (no model instances, no
    datetime objects: creation times come as seconds since 1970, computed by the database)."""
    corpus = Corpus()
    moments = array("q")
    rows = (
        with_cache(Review.objects.filter(status=Review.Status.PUBLISHED), segmenter_fingerprint())
        .annotate(moment=_EpochSeconds("created_at"))
        .order_by("pk")
        .values_list(
            "pk",
            "rating",
            "moment",
            "course_id",
            "tokens__tokens",
            "tokens__noise",
            "tokens__text_hash",
            "tokens__pipeline",
            "stale_text",
        )
    )
    for review_id, rating, moment, course_id, cached, noise, text_hash, made_by, stale_text in rows.iterator(
        chunk_size=_LOAD_CHUNK
    ):
        if stale_text is None:
            corpus.packed.append(cached)
            corpus.noise.append(noise)
            corpus.hashes.append(text_hash)
            corpus.made_by.append(made_by)
        else:
            corpus.stale.append((len(corpus.packed), stale_text))
            corpus.packed.append("")
            corpus.noise.append("")
            corpus.hashes.append(md5(stale_text))
            corpus.made_by.append("")
        corpus.review_ids.append(review_id)
        corpus.ratings.append(rating)
        moments.append(_NO_DATE if moment is None else moment)
        corpus.course_ids.append(course_id)
    corpus.months = local_months(np.frombuffer(moments, dtype=np.int64), timezone.get_current_timezone())
    return corpus


def bring_up_to_date(corpus: Corpus, progress: Callable[[int, str], None]) -> SignalModels:
    """Segment the stale reviews, learn the models again if needed, decide what is undecided, cache it all.
    Fills corpus.packed / corpus.noise for every review and corpus.counts; returns the models used."""
    segmenter = get_segmenter()
    segmenter_part = segmenter_fingerprint()
    fresh: dict[int, list[Clause]] = {}
    stale = corpus.stale
    for start in range(0, len(stale), BATCH):
        batch = stale[start : start + BATCH]
        prepared = pipeline.prepare([text for _position, text in batch], segmenter)
        for (position, _text), item in zip(batch, prepared, strict=True):
            fresh[position] = item.clauses
            corpus.noise[position] = item.noise
        progress(8 + int(20 * (start + len(batch)) / len(stale)), _("Segmenting review text"))
    corpus.counts["segmented"] = len(stale)
    corpus.stale = []

    models = stored_models()
    if needs_training(models, len(corpus.packed)):
        progress(30, _("Learning the platform's language"))
        sample = training_sample(len(corpus.packed))
        models = train_and_store(
            [fresh[p] if p in fresh else clauses.unpack(corpus.packed[p]) for p in sample],
            [corpus.ratings[p] for p in sample],
            corpus_size=len(corpus.packed),
        )
        corpus.counts["trained"] = 1
    assert models is not None
    pipeline_id = segmenter_part + models.fingerprint[:16]

    progress(38, _("Finding the complaints in each review"))
    undecided = [
        position
        for position in range(len(corpus.packed))
        if position in fresh or corpus.made_by[position] != pipeline_id
    ]
    for start in range(0, len(undecided), BATCH):
        positions = undecided[start : start + BATCH]
        reviews = [fresh.pop(p) if p in fresh else clauses.unpack(corpus.packed[p]) for p in positions]
        decided = pipeline.decide(reviews, [corpus.ratings[p] for p in positions], models.complaints)
        rows = []
        for position, review in zip(positions, decided, strict=True):
            packed = clauses.pack(review)
            corpus.packed[position] = packed
            corpus.made_by[position] = pipeline_id
            rows.append(
                (
                    corpus.review_ids[position],
                    corpus.hashes[position],
                    corpus.ratings[position],
                    packed,
                    any(clause.complaint for clause in review),
                    corpus.noise[position],
                )
            )
        with transaction.atomic():
            store(rows, pipeline=pipeline_id)
    corpus.counts["decided"] = len(undecided)
    for position, noise in enumerate(corpus.noise):
        if noise:
            corpus.counts[f"noise_{noise}"] += 1
        elif corpus.ratings[position] <= 2 and clauses.COMPLAINT_MARK not in corpus.packed[position]:
            # A low rating whose text raises no complaint: mis-starred praise, counted and left alone.
            corpus.counts["rating_mismatch"] += 1
    return models


def training_sample(size: int) -> list[int]:
    """Positions of the reviews the models learn from: all of them, or a seeded sample in corpus order."""
    limit = TRAINING_SAMPLE
    if size <= limit:
        return list(range(size))
    return sorted(np.random.default_rng(0).choice(size, limit, replace=False).tolist())


def stale_review_ids() -> list[int]:
    """The published reviews whose cached clauses are stale (or missing), in primary-key order."""
    return list(
        with_cache(Review.objects.filter(status=Review.Status.PUBLISHED), segmenter_fingerprint())
        .filter(stale_text__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def segment_stale(first: int, last: int) -> int:
    """Segment the stale published reviews with a primary key in [first, last] and cache their clauses,
    decisions pending (the row's pipeline is the segmenter's part only, so the next corpus load sees them
    fresh and undecided). Idempotent: what an earlier call cached is fresh now and skipped. Returns how
    many reviews it segmented."""
    segmenter = get_segmenter()
    segmenter_part = segmenter_fingerprint()
    rows = list(
        with_cache(
            Review.objects.filter(status=Review.Status.PUBLISHED, pk__range=(first, last)), segmenter_part
        )
        .filter(stale_text__isnull=False)
        .order_by("pk")
        .values_list("pk", "rating", "stale_text")
    )
    prepared = pipeline.prepare([text for _pk, _rating, text in rows], segmenter)
    with transaction.atomic():
        store(
            (
                (review_id, md5(text), rating, clauses.pack(item.clauses), False, item.noise)
                for (review_id, rating, text), item in zip(rows, prepared, strict=True)
            ),
            pipeline=segmenter_part,
        )
    return len(rows)


class _EpochSeconds(models.Func):
    """A datetime as whole seconds since 1970 (UTC), computed by the database: loading 100k datetime
    objects (and converting each to the site's zone) cost more than the rest of a re-run's load."""

    output_field = models.BigIntegerField()

    def as_postgresql(self, compiler, connection, **extra_context):
        template = "FLOOR(EXTRACT(EPOCH FROM %(expressions)s))::bigint"
        return self.as_sql(compiler, connection, template=template, **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        # strftime's '%s' reaches SQLite through two %-formattings (the template's, then the parameters').
        template = "CAST(strftime('%%%%s', %(expressions)s) AS INTEGER)"
        return self.as_sql(compiler, connection, template=template, **extra_context)


def local_months(moments: np.ndarray, zone: tzinfo) -> list[str | None]:
    """The month ("YYYY-MM") in `zone` of each moment (seconds since 1970; _NO_DATE → None): one search
    among the instants the zone's months begin (daylight saving included), not one conversion per review."""
    dated = moments != _NO_DATE
    if not dated.any():
        return [None] * len(moments)
    first = datetime.fromtimestamp(int(moments[dated].min()), zone)
    last = datetime.fromtimestamp(int(moments[dated].max()), zone)
    starts, labels = [], []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        starts.append(datetime(year, month, 1, tzinfo=zone).timestamp())
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    positions = np.searchsorted(np.asarray(starts), moments, side="right") - 1
    return [
        labels[position] if ok else None
        for position, ok in zip(positions.tolist(), dated.tolist(), strict=True)
    ]
