"""The per-review steps of a signal run, on plain lists (no Django): noise gate, segmentation, clauses and
complaint decisions, in the packed form the token cache keeps (analytics.clauses).

    prepare(texts)                   → noise kind or clauses (no decisions yet) per review
    prepare_batch(texts)             → the same as one clauses.Batch (what a run's chunks use)
    decide(reviews, ratings, model)  → the same clauses with each one's complaint decision
    decide_packed(packed, ratings, model), decide_batch(batch, ratings, model)
                                     → the same on the cached form, or on a batch
    train_models(reviews, ratings)   → the complaint model and the word vectors of a corpus

A review's clauses are a list of analytics.clauses.Clause; clauses.pack() gives the cached form.

Services run these over chunks of reviews and cache the result; benches run them directly.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, repeat

import numpy as np

from analytics import clauses, complaints, embeddings
from analytics.clauses import Clause
from analytics.complaints import ComplaintModel, LabelledClause
from analytics.embeddings import WordVectors
from analytics.text import Segmenter
from reviews import noise

# Kept out of analysis after segmentation: nothing but stopwords and punctuation ("很好很好！", "嗯嗯").
NO_CONTENT = "no_content"


@dataclass(frozen=True)
class Prepared:
    clauses: list[Clause]  # without decisions; empty when the review is noise
    noise: str  # "" or a reviews.noise kind or NO_CONTENT


@dataclass(frozen=True)
class PreparedBatch:
    """prepare() of many reviews as one clauses.Batch (clauses without decisions; a noise review has none)."""

    batch: clauses.Batch
    noise: list[str]  # per review: "" or a reviews.noise kind or NO_CONTENT


def prepare(texts: Sequence[str], segmenter: Segmenter) -> list[Prepared]:
    """Noise gate, then segmentation into clauses of content words, for many reviews."""
    kinds, words = _gate_and_cut(texts, segmenter)
    out = []
    for kind, review_words in zip(kinds, words, strict=True):
        review = [] if kind else clauses.split(review_words, segmenter.keep, segmenter.filler)
        out.append(Prepared(review, kind or ("" if review else NO_CONTENT)))
    return out


def prepare_batch(texts: Sequence[str], segmenter: Segmenter) -> PreparedBatch:
    """prepare() as one batch: what a run's chunks cache, cut without a Clause object per clause."""
    kinds, words = _gate_and_cut(texts, segmenter)
    batch = clauses.split_many(words, segmenter.keep, segmenter.filler)
    found = np.diff(batch.bounds).tolist()
    return PreparedBatch(
        batch, [kind or ("" if count else NO_CONTENT) for kind, count in zip(kinds, found, strict=True)]
    )


def _gate_and_cut(texts: Sequence[str], segmenter: Segmenter) -> tuple[list[str], list[list[str]]]:
    """Each text's noise kind ("" when it passes the gate) and its words (none for noise)."""
    # Both steps start with NFKC; done once here, it costs little the second time (the input is normal).
    texts = [unicodedata.normalize("NFKC", text) for text in texts]
    kinds = [verdict.kind if verdict is not None else "" for verdict in map(noise.screen, texts)]
    clean = [i for i, kind in enumerate(kinds) if not kind]
    words: list[list[str]] = [[] for _text in texts]
    for i, review_words in zip(clean, segmenter.words_many([texts[i] for i in clean]), strict=True):
        words[i] = review_words
    return kinds, words


def decide(
    reviews: Sequence[Sequence[Clause]], ratings: Sequence[int | None], model: ComplaintModel
) -> list[list[Clause]]:
    """The reviews' clauses with each one's complaint decision (earlier decisions are replaced)."""
    flat = list(chain.from_iterable(reviews))
    decisions = iter(
        _decide(
            model,
            [clause.tokens for clause in flat],
            [clause.contrast for clause in flat],
            _per_clause(ratings, map(len, reviews)),
        )
    )
    # tuple.__new__ builds the same Clause without the named tuple's Python-level constructor (a third of
    # the time here, for every clause of a run).
    make = tuple.__new__
    return [
        [make(Clause, (tokens, contrast, next(decisions))) for tokens, contrast, _old in review]
        for review in reviews
    ]


def decide_packed(packed: Sequence[str], ratings: Sequence[int | None], model: ComplaintModel) -> list[str]:
    """decide() on the cached form (analytics.clauses.pack): each review's packed clauses with each one's
    decision, read and written back as one batch (what a run's chunks do to every review)."""
    return decide_batch(clauses.read(packed), ratings, model)


def decide_batch(batch: clauses.Batch, ratings: Sequence[int | None], model: ComplaintModel) -> list[str]:
    """decide() of a batch of reviews' clauses (`ratings`: each review's): their packed form, decided."""
    n = len(batch.markers)
    markers = [batch.tokens[position] for position in batch.markers.tolist()]
    contrast = [marker[-1] == clauses.CONTRAST_CLAUSE for marker in markers]
    per_review = np.diff(np.searchsorted(batch.markers, batch.bounds)).tolist()
    groups = list(zip(_per_clause(ratings, per_review), contrast, strict=True))
    evidence = model.log_odds_flat(batch.tokens, batch.clause, n)
    lengths = np.bincount(batch.clause, minlength=n)[:n] - 1  # the marker is no word of its clause
    decided = complaints.decide_scored(evidence, _priors(model, groups), lengths)
    return clauses.write(batch, decided.tolist())


def _per_clause(ratings: Sequence[int | None], counts: Iterable[int]) -> list[int | None]:
    """Each review's rating once per clause of it (`counts`: each review's clauses), flat as the clauses."""
    return list(chain.from_iterable(map(repeat, ratings, counts)))


def _decide(
    model: ComplaintModel,
    tokens: Sequence[Sequence[str]],
    contrast: Sequence[bool],
    ratings: Sequence[int | None],
) -> list[bool]:
    """The decision of each clause (its tokens, whether a contrast word opened it), given the rating of its
    review."""
    decided: list[bool] = model.decide_many(
        tokens, _priors(model, list(zip(ratings, contrast, strict=True)))
    ).tolist()
    return decided


def _priors(model: ComplaintModel, groups: Sequence[tuple[int | None, bool]]) -> np.ndarray:
    """The prior of each clause's (rating, contrast) group, each of the few groups looked up once."""
    prior = {group: model.prior(*group) for group in set(groups)}
    return np.fromiter(map(prior.__getitem__, groups), dtype=np.float64, count=len(groups))


def labelled_clauses(
    texts: Iterable[str], complaint: Iterable[bool], segmenter: Segmenter
) -> list[LabelledClause]:
    """Hand-labelled reviews as training clauses: a praise review's clauses are praise; of a complaint
    review only the clauses a contrast word opened are sure to be the complaint when it has any."""
    texts = list(texts)
    out: list[LabelledClause] = []
    for review_words, is_complaint in zip(segmenter.words_many(texts), complaint, strict=True):
        review = clauses.split(review_words, segmenter.keep, segmenter.filler)
        if not is_complaint:
            out.extend(LabelledClause(clause.tokens, False) for clause in review)
            continue
        contrasted = [clause for clause in review if clause.contrast]
        out.extend(LabelledClause(clause.tokens, True) for clause in (contrasted or review))
    return out


def train_models(
    reviews: Sequence[Sequence[Clause]],
    ratings: Sequence[int | None],
    labelled: Sequence[LabelledClause] = (),
    *,
    seed: int = 0,
) -> tuple[ComplaintModel, WordVectors | None]:
    """Learn the complaint model and the word vectors from a corpus (its clauses, decided or not).

    The word vectors are None when the corpus is too small to learn them (discovery is then skipped).
    Raises ValueError when there are too few rated reviews to learn complaints from.
    """
    model = complaints.train(zip(reviews, ratings, strict=True), labelled, seed=seed)
    try:
        vectors = embeddings.train(
            ([token for clause in review for token in clause.tokens] for review in reviews), seed=seed
        )
    except ValueError:
        vectors = None
    return model, vectors
