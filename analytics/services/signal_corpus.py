"""A run's corpus: the published reviews with their cached clauses, brought up to date.

    ensure_models()  the stored models, or new ones learned from a seeded sample (before a run's chunks;
                    models_to_learn, segment_stale, learn_models are its steps for a workflow)
    outdated_review_ids(models), update_range(first, last, models)
                    what a run's chunks bring up to date: segment what is stale (noise gate first), decide
                    the clauses `models` has not decided, cache it all
    load_corpus()   every review's id, rating, month and course, and the cached clauses the run needs
    bring_up_to_date(corpus, models)
                    the final step's catch-up on what changed since the chunks ran, and the noise counts

A re-run over an unchanged corpus does none of that work: every row is fresh and the stored models serve.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

import numpy as np
from django.db import IntegrityError, models, transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics import clauses, pipeline
from analytics.complaints import LOW_RATING
from analytics.services.token_cache import fresh_cache, int_columns, store, with_cache
from analytics.services.training import (
    SignalModels,
    decisions_id,
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
TRAINING_SAMPLE = 40_000
_LOAD_CHUNK = 20000
_NO_DATE = np.iinfo(np.int64).min


@dataclass
class Corpus:
    """The published reviews of a run, in primary-key order (one entry per review in each list).

    Of the reviews decided by the run's models, only those with a complaint clause come with their clauses
    ("" for the others: nothing of them is analysed); the others (stale, or decided by other models) come
    with what bring_up_to_date needs to decide them. At a million reviews this is most of a re-run's load."""

    review_ids: list[int] = field(default_factory=list)
    ratings: list[int] = field(default_factory=list)
    months: list[str | None] = field(default_factory=list)  # "YYYY-MM" in the site's zone; None: no date
    course_ids: list[int] = field(default_factory=list)
    packed: list[str] = field(default_factory=list)  # clauses with decisions; "" for noise (see `noise`)
    noise: list[str] = field(default_factory=list)
    decided: list[bool] = field(default_factory=list)  # cached and decided by the run's models
    hashes: dict[int, str] = field(default_factory=dict)  # position → MD5 of the text, where not decided
    stale: list[tuple[int, str]] = field(default_factory=list)  # (position, text) to segment again
    counts: Counter[str] = field(default_factory=Counter)


# What load_corpus reads of every review in one integer, bit by bit.
_DECIDED, _FRESH, _COMPLAINT, _NOISE = 1, 2, 4, 8


def load_corpus(decided_by: str) -> Corpus:
    """The published reviews with their cached clauses. Two queries: four integers of every review (read as
    arrays: token_cache.int_columns), then, joined with the cache, only the reviews the run needs more of:
    the clauses of those with a complaint clause, the noise kind of noise, what is left to decide or to
    segment again. Reading a million reviews as Python rows took longer than extracting the signals.
    `decided_by`: the decisions id (training.decisions_id) of the run's models."""
    published = Review.objects.filter(status=Review.Status.PUBLISHED).order_by("pk")
    numbers = int_columns(
        published.annotate(moment=Coalesce(_EpochSeconds("created_at"), Value(_NO_DATE))).values_list(
            "pk", "rating", "moment", "course_id"
        )
    )
    ids, ratings, moments, courses = numbers.T
    corpus = Corpus(
        review_ids=ids.tolist(),
        ratings=ratings.tolist(),
        months=local_months(moments, timezone.get_current_timezone()),
        course_ids=courses.tolist(),
        packed=[""] * len(ids),
        noise=[""] * len(ids),
        decided=[True] * len(ids),
    )
    segmenter = segmenter_fingerprint()
    # Nothing more is needed of a review decided by these models with neither a complaint clause nor noise.
    state = (
        _bit(Q(tokens__pipeline=decided_by), _DECIDED)
        + _bit(fresh_cache(segmenter), _FRESH)
        + _bit(Q(tokens__complaint=True), _COMPLAINT)
        + _bit(Q(tokens__noise__gt=""), _NOISE)
    )
    needed = (
        with_cache(published.annotate(state=state), segmenter)
        .exclude(state=_DECIDED | _FRESH)
        .values_list("pk", "state", "cached_tokens", "cached_noise", "text_hash", "stale_text")
    )
    rows = list(needed.iterator(chunk_size=_LOAD_CHUNK))
    positions = np.searchsorted(ids, np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows)))
    for position, (_pk, flags, cached, noise, text_hash, stale_text) in zip(
        positions.tolist(), rows, strict=True
    ):
        if stale_text is not None:
            corpus.stale.append((position, stale_text))
        else:
            corpus.packed[position], corpus.noise[position] = cached, noise
        if flags & (_DECIDED | _FRESH) != _DECIDED | _FRESH:
            corpus.decided[position] = False
            corpus.hashes[position] = text_hash
    return corpus


def _bit(condition: Q, value: int) -> Case:
    return Case(When(condition, then=Value(value)), default=Value(0), output_field=IntegerField())


@dataclass(frozen=True)
class Update:
    """What bringing reviews up to date took: how many were segmented, decided, and whether the models were
    learned again."""

    segmented: int = 0
    decided: int = 0
    trained: bool = False


def ensure_models(progress: Callable[[int, str], None] | None = None) -> tuple[SignalModels, Update]:
    """The models a run decides with: the stored ones, or, when none is usable or the corpus has grown or
    shrunk enough since (needs_training), new ones learned from a seeded sample of the published reviews
    (models_to_learn). The sample's stale reviews are segmented and cached on the way (decisions pending;
    a workflow has its chunks do that first: segment_stale), so the chunks only decide them. A run
    calls this once, before its chunks: every chunk decides with the same models."""
    learning = models_to_learn()
    if learning is None:
        models = stored_models()
        assert models is not None
        return models, Update()
    return learn_models(learning.sample, len(learning.published), progress=progress)


@dataclass(frozen=True)
class Learning:
    """New models are to learn from `sample` (ids of published reviews, training_sample); `published`: the
    ids of every published review, in order."""

    sample: list[int]
    published: list[int]


def models_to_learn() -> Learning | None:
    """None when the stored models serve; else the reviews new models are to learn from."""
    published = Review.objects.filter(status=Review.Status.PUBLISHED)
    models = stored_models()
    if models is not None and not needs_training(models, published.count()):
        return None
    ids, ratings = int_columns(published.order_by("pk").values_list("pk", "rating")).T
    return Learning(ids[training_sample(ratings)].tolist(), ids.tolist())


def segment_stale(keys: range | Sequence[int]) -> int:
    """Segment and cache (decisions pending) those of the published reviews with primary keys `keys` (a
    range or a list) whose cache is stale; how many. A workflow's chunks do it to the models' sample before
    they are learned, and to the other reviews meanwhile. Idempotent: what is fresh is skipped."""
    rows = list(
        with_cache(Review.objects.filter(status=Review.Status.PUBLISHED), segmenter_fingerprint(), keys=keys)
        .filter(stale_text__isnull=False)
        .values_list("pk", "rating", "text_hash", "stale_text")
    )
    _segment_and_store(rows, made_by=segmenter_fingerprint())
    return len(rows)


def learn_models(
    sample: Sequence[int], corpus_size: int, *, progress: Callable[[int, str], None] | None = None
) -> tuple[SignalModels, Update]:
    """Learn the models from the reviews `sample` (segmenting those still stale) and store them."""
    published = Review.objects.filter(status=Review.Status.PUBLISHED)
    segmenter_part = segmenter_fingerprint()
    packed: list[str] = []
    ratings: list[int] = []
    stale: list[tuple[int, int, str, str]] = []  # segmented a batch at a time
    positions: list[int] = []
    segmented = 0

    def segment_batch() -> None:
        nonlocal segmented
        fresh = _segment_and_store(stale, made_by=segmenter_part).values()
        for position, review in zip(positions, fresh, strict=True):
            packed[position] = review
        segmented += len(stale)
        stale.clear()
        positions.clear()
        if progress is not None:
            progress(2, _("Learning the platform's language"))

    # One query: after a workflow's learning chunks every review of the sample is fresh in the cache.
    rows = (
        with_cache(published, segmenter_part, keys=sample)
        .order_by("pk")
        .values_list("pk", "rating", "text_hash", "cached_tokens", "stale_text")
    )
    for pk, rating, text_hash, cached, text in rows.iterator(chunk_size=BATCH):
        if text is not None:
            stale.append((pk, rating, text_hash, text))
            positions.append(len(packed))
        packed.append(cached or "")
        ratings.append(rating)
        if len(stale) == BATCH:
            segment_batch()
    if stale:
        segment_batch()
    reviews = [clauses.unpack(review) for review in packed]
    models = train_and_store(reviews, ratings, corpus_size=corpus_size)
    return models, Update(segmented=segmented, trained=True)


def outdated_review_ids(models: SignalModels) -> list[int]:
    """The published reviews whose cached clauses are stale (or missing) or were not decided by `models`,
    in primary-key order: the reviews a run's chunks bring up to date."""
    return int_columns(_outdated(models).values_list("pk"))[:, 0].tolist()


def update_range(first: int, last: int, models: SignalModels) -> Update:
    """Bring the published reviews with a primary key in [first, last] up to date: segment the stale ones
    (noise gate first), decide every clause not decided by `models`, cache the result. Idempotent: what an
    earlier call cached is fresh and decided now, and skipped."""
    outdated = _outdated(models, keys=range(first, last + 1)).values_list(
        "pk", "rating", "text_hash", "cached_tokens", "cached_noise", "stale_text"
    )
    rows = list(outdated)
    try:
        _decide_and_store(rows, models)
    except IntegrityError:
        # A review had no cache row when read and has one now (written ahead by segment_stale as this
        # chunk ran): read the range again, that row included.
        rows = list(outdated.all())
        _decide_and_store(rows, models)
    return Update(segmented=sum(row[-1] is not None for row in rows), decided=len(rows))


def _outdated(signal_models: SignalModels, *, keys: range | None = None) -> models.QuerySet:
    """The published reviews (of those with primary keys `keys`) whose cached clauses are stale (or
    missing) or were not decided by `signal_models`, in primary-key order, annotated with their cache
    (token_cache.with_cache)."""
    published = Review.objects.filter(status=Review.Status.PUBLISHED)
    # A review without a cache row has a stale text: a NULL cached_pipeline never needs the second test.
    return (
        with_cache(published, segmenter_fingerprint(), keys=keys)
        .filter(Q(stale_text__isnull=False) | ~Q(cached_pipeline=decisions_id(signal_models)))
        .order_by("pk")
    )


def bring_up_to_date(corpus: Corpus, models: SignalModels) -> Update:
    """The final step's catch-up: segment and decide what turned stale or undecided since the chunks ran
    (a review edited meanwhile; everything, when the run had no chunks), in batches; fills corpus.packed /
    corpus.noise for every review and the noise and mismatch counts."""
    stale = dict(corpus.stale)
    corpus.stale = []
    outdated = [position for position, decided in enumerate(corpus.decided) if not decided]
    for start in range(0, len(outdated), BATCH):
        positions = outdated[start : start + BATCH]
        rows = [
            (
                corpus.review_ids[p],
                corpus.ratings[p],
                corpus.hashes[p],
                corpus.packed[p],
                corpus.noise[p],
                stale.get(p),
            )
            for p in positions
        ]
        for p, (packed, noise) in zip(positions, _decide_and_store(rows, models), strict=True):
            corpus.packed[p], corpus.noise[p], corpus.decided[p] = packed, noise, True
    for position, noise in enumerate(corpus.noise):
        if noise:
            corpus.counts[f"noise_{noise}"] += 1
        elif corpus.ratings[position] <= 2 and not clauses.has_complaint(corpus.packed[position]):
            # A low rating whose text raises no complaint: mis-starred praise, counted and left alone.
            corpus.counts["rating_mismatch"] += 1
    return Update(segmented=len(stale), decided=len(outdated))


def _segment_and_store(rows: list[tuple[int, int, str, str]], *, made_by: str) -> dict[int, str]:
    """Segment reviews (id, rating, MD5 of the text, text) and cache them under `made_by`, decisions
    pending; their packed clauses."""
    prepared = pipeline.prepare_batch([text for *_row, text in rows], get_segmenter())
    packed = clauses.write(prepared.batch)
    with transaction.atomic():
        store(
            (
                (pk, text_hash, rating, *_cache_fields(review, noise))
                for (pk, rating, text_hash, _text), review, noise in zip(
                    rows, packed, prepared.noise, strict=True
                )
            ),
            pipeline=made_by,
        )
    return {pk: review for (pk, *_row), review in zip(rows, packed, strict=True)}


def _cache_fields(packed: str, noise: str) -> tuple[str, bool, str]:
    """A cache row's packed clauses, whether one is a complaint, and its noise kind."""
    return packed, clauses.has_complaint(packed), noise


# A review to bring up to date: (id, rating, MD5 of its text, cached clauses (None: it has no cache row),
# cached noise kind, its text when the cache is stale (it is segmented again) or None (the cached clauses
# are decided again)).
_Row = tuple[int, int, str, str | None, str | None, str | None]


def _decide_and_store(rows: Sequence[_Row], models: SignalModels) -> list[tuple[str, str]]:
    """Bring reviews up to date with `models` and cache them: segment those with a stale cache (noise gate
    first), decide every review's clauses; each review's (packed clauses, decided; noise kind). Each kind is
    done as one batch: a chunk's thousands of reviews, never a Python object per clause."""
    out: list[tuple[str, str]] = [("", "")] * len(rows)
    model = models.complaints
    stale = [i for i, row in enumerate(rows) if row[5] is not None]
    if stale:
        segmented = pipeline.prepare_batch([rows[i][5] or "" for i in stale], get_segmenter())
        decided = pipeline.decide_batch(segmented.batch, [rows[i][1] for i in stale], model)
        for i, packed, noise in zip(stale, decided, segmented.noise, strict=True):
            out[i] = (packed, noise)
    cached = [i for i, row in enumerate(rows) if row[5] is None]
    if cached:
        packed_reviews = [rows[i][3] or "" for i in cached]
        decided = pipeline.decide_packed(packed_reviews, [rows[i][1] for i in cached], model)
        for i, packed in zip(cached, decided, strict=True):
            out[i] = (packed, rows[i][4] or "")
    made_by = decisions_id(models)
    with transaction.atomic():
        for new in (True, False):  # reviews without a cache row are inserted; the others', replaced
            store(
                (
                    (pk, text_hash, rating, *_cache_fields(packed, noise))
                    for (pk, rating, text_hash, cached, *_rest), (packed, noise) in zip(
                        rows, out, strict=True
                    )
                    if (cached is None) == new
                ),
                pipeline=made_by,
                new=new,
            )
    return out


def training_sample(ratings: Sequence[int | None] | np.ndarray) -> list[int]:
    """Positions of the reviews the models learn from (`ratings`: every review's, in corpus order): all of
    them, or a seeded sample in corpus order. The sample keeps the low-rated reviews, up to half of it: they
    are the complaint examples the model learns from, a small minority on most platforms (2 % of the real
    reviews), which a plain sample would thin out with the rest."""
    size, limit = len(ratings), TRAINING_SAMPLE
    if size <= limit:
        return list(range(size))
    rng = np.random.default_rng(0)
    rated = (
        ratings.astype(np.int64)
        if isinstance(ratings, np.ndarray)
        else np.array([-1 if rating is None else rating for rating in ratings], dtype=np.int64)
    )
    is_low = (rated >= 0) & (rated <= LOW_RATING)
    low, others = np.flatnonzero(is_low), np.flatnonzero(~is_low)
    keep = min(len(low), max(limit // 2, limit - len(others)))  # more only when the others run out
    if keep < len(low):
        low = rng.choice(low, keep, replace=False)
    others = rng.choice(others, limit - keep, replace=False)
    return sorted(np.concatenate([low, others]).tolist())


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
