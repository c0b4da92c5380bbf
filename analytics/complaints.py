"""Complaint clauses: which clauses of a review report a problem. Imports no Django.

A clause is a complaint by what it says. The model is a logistic regression over the clause's content words
and word pairs, trained per deployment on weak labels from the platform's own stars — clauses of 1–2★
reviews against clauses of 5★ reviews that no contrast word opened — plus the project's hand-labelled
reviews. It learns the platform's own language ("念ppt", "卡", "不回复") without anyone writing it down.

The stars stay evidence, not a rule: the model gives a likelihood ratio for the clause, and the review's
rating (and whether a contrast word opened the clause) gives a prior, estimated from the corpus by a few
rounds of expectation–maximisation. So "老师讲的很好" with one star is not a complaint (a rating–text
mismatch), and "但是声音太小" in a five-star review is.

Predicting needs no scikit-learn: the fitted model is a plain term → weight table, so a run scores a
hundred thousand clauses with dictionary lookups and the table is stored as JSON between runs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from analytics.clauses import Clause
from analytics.terms import Vocabulary, adjacent, entry_matrix, lookup, token_ids

# Weak labels: clauses of reviews rated at or below this are complaint examples, of 5★ reviews praise.
LOW_RATING = 2
HIGH_RATING = 5
# Examples per class: praise is plentiful (≈ 85 % of reviews), and on a large or unhappy platform the
# complaints are too; a seeded sample is enough and keeps training time and memory bounded.
MAX_EXAMPLES_PER_CLASS = 40_000
MIN_EXAMPLES_PER_CLASS = 20
MIN_TERM_COUNT = 3
# The clause's own words must lean to a complaint (log-odds above this) whatever the rating says: a 1★
# review's "课程内容丰富" is praise the learner mis-starred, not a complaint the prior should invent. With a
# margin: 1★ reviews teach the model that every word in them leans a little to a complaint. On the real
# sample (bench/signal_quality_real.py) 0 → 0.5 took low-star praise in signals from 36 % to 11 %.
MIN_EVIDENCE = 0.5


# Joins the two words of a pair feature; no token contains it (the segmenter keeps only words).
PAIR = "\x1f"


def features(tokens: Sequence[str]) -> list[str]:
    """Words and adjacent word pairs ("不 清楚" is not "清楚")."""
    return [*tokens, *(f"{a}{PAIR}{b}" for a, b in zip(tokens, tokens[1:], strict=False))]


def _presence(rows: np.ndarray, columns: np.ndarray, shape: tuple[int, int]) -> sparse.csr_matrix:
    """1 where a clause (row) has a feature (column, -1: none), however often."""
    matrix = entry_matrix(rows, columns, shape)
    matrix.data[:] = 1.0
    return matrix


def _weight_sums(rows: np.ndarray, columns: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    """Per row (clause) of n, the sum of the weights of its distinct columns (features; -1: none): the
    product of _presence() and the weights. A few clauses (one new review) skip the sparse matrix, whose
    set-up cost more than the rest of deciding them; the sums are added in the same order either way, so
    they are the same to the last bit."""
    if len(columns) > _SMALL_BATCH or not len(weights):
        product: np.ndarray = _presence(rows, columns, (n, len(weights))) @ weights
        return product
    known = columns >= 0
    keys = np.unique(rows[known] * len(weights) + columns[known])
    return np.bincount(keys // len(weights), weights=weights[keys % len(weights)], minlength=n)


# Tokens up to which _weight_sums sorts instead of building a sparse matrix (sorting grows as n log n).
_SMALL_BATCH = 2000


@dataclass(frozen=True)
class LabelledClause:
    tokens: Sequence[str]
    complaint: bool


@dataclass(frozen=True)
class _WeightTable:
    """A model's weights as arrays: each word's own weight by word id, and each word pair's by its key
    (first id × number of words + second id), sorted for a binary search."""

    size: int
    words: dict[str, int]
    word_weights: np.ndarray
    pair_keys: np.ndarray
    pair_weights: np.ndarray

    @classmethod
    def of(cls, weights: Mapping[str, float]) -> _WeightTable:
        words = Vocabulary()
        pairs: dict[tuple[int, int], float] = {}
        singles: dict[int, float] = {}
        for term, weight in weights.items():
            if PAIR in term:
                a, b = term.split(PAIR)
                pairs[(words[a], words[b])] = weight
            else:
                singles[words[term]] = weight
        width = len(words)
        word_weights = np.zeros(width)
        word_weights[np.fromiter(singles, dtype=np.int64, count=len(singles))] = np.fromiter(
            singles.values(), dtype=np.float64, count=len(singles)
        )
        keys = np.fromiter((a * width + b for a, b in pairs), dtype=np.int64, count=len(pairs))
        order = np.argsort(keys)
        pair_weights = np.fromiter(pairs.values(), dtype=np.float64, count=len(pairs))[order]
        return cls(len(weights), dict(words), word_weights, keys[order], pair_weights)


@dataclass
class ComplaintModel:
    """term → weight, an intercept, and the prior of a complaint clause per (rating, contrast)."""

    weights: dict[str, float]
    intercept: float
    priors: dict[str, float] = field(default_factory=dict)  # "<rating>:<0|1>" → P(complaint)
    examples: int = 0

    def log_odds(self, tokens: Sequence[str]) -> float:
        """The clause's evidence alone (balanced classes: a neutral clause scores about 0)."""
        weights = self.weights
        return self.intercept + sum(weights.get(term, 0.0) for term in set(features(tokens)))

    def log_odds_many(self, clauses: Sequence[Sequence[str]]) -> np.ndarray:
        """log_odds() of many clauses, by two sparse products (words, word pairs)."""
        ids, owner = token_ids(clauses, self._table().words, grow=False)
        return self._log_odds(ids, owner, len(clauses))

    def log_odds_flat(self, tokens: Sequence[str], clause: np.ndarray, n: int) -> np.ndarray:
        """log_odds() of n clauses given as one token list and the clause of each token (a clause's tokens
        adjacent and in order; tokens that are no word of the model, such as clause markers, count for
        nothing and join no pair)."""
        return self._log_odds(lookup(tokens, self._table().words, len(tokens)), clause, n)

    def _log_odds(self, ids: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
        if not n:
            return np.zeros(0)
        table = self._table()
        width = len(table.words)
        odds: np.ndarray = self.intercept + _weight_sums(owner, ids, table.word_weights, n)
        first, second, pair_owner = adjacent(ids, owner)
        if len(table.pair_keys) and len(first):
            keys = first * width + second
            position = np.minimum(np.searchsorted(table.pair_keys, keys), len(table.pair_keys) - 1)
            hit = table.pair_keys[position] == keys
            odds += _weight_sums(pair_owner[hit], position[hit], table.pair_weights, n)
        return odds

    def _table(self) -> _WeightTable:
        """The weights as arrays, built once per model (a run scores in batches)."""
        table = self.__dict__.get("_arrays")
        if table is None or table.size != len(self.weights):
            table = self.__dict__["_arrays"] = _WeightTable.of(self.weights)
        return table

    def decide_many(
        self, clauses: Sequence[Sequence[str]], priors: Sequence[float] | np.ndarray
    ) -> np.ndarray:
        """Which clauses are complaints, each with its prior (prior() of its rating and contrast): the
        posterior above one half, and the clause's own words leaning to a complaint (MIN_EVIDENCE)."""
        lengths = np.fromiter(map(len, clauses), dtype=np.int64, count=len(clauses))
        return decide_scored(self.log_odds_many(clauses), priors, lengths)

    def prior(self, rating: int | None, contrast: bool) -> float:
        return self.priors.get(_prior_key(rating, contrast), 0.5)

    def as_json(self) -> dict[str, object]:
        return {
            "weights": self.weights,
            "intercept": self.intercept,
            "priors": self.priors,
            "examples": self.examples,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> ComplaintModel:
        weights = data["weights"]
        priors = data.get("priors", {})
        if not isinstance(weights, dict) or not isinstance(priors, dict):
            raise ValueError("not a complaint model")
        return cls(
            weights={str(k): float(v) for k, v in weights.items()},
            intercept=float(data["intercept"]),  # type: ignore[arg-type]
            priors={str(k): float(v) for k, v in priors.items()},
            examples=int(data.get("examples", 0)),  # type: ignore[call-overload]
        )


def decide_scored(
    evidence: np.ndarray, priors: Sequence[float] | np.ndarray, lengths: np.ndarray
) -> np.ndarray:
    """ComplaintModel.decide_many() given each clause's evidence (log-odds) and number of tokens."""
    prior = np.clip(np.asarray(priors, dtype=np.float64), 1e-3, 1 - 1e-3)
    score = evidence + np.log(prior / (1 - prior))
    decided: np.ndarray = (score > 0) & (evidence > MIN_EVIDENCE) & (lengths > 0)
    return decided


def _prior_key(rating: int | None, contrast: bool) -> str:
    return f"{rating if rating is not None else '-'}:{int(contrast)}"


def train(
    reviews: Iterable[tuple[Sequence[Clause], int | None]],
    labelled: Iterable[LabelledClause] = (),
    *,
    seed: int = 0,
    c: float = 1.0,
) -> ComplaintModel:
    """Fit the model on a corpus of (clauses, rating) — rating None for reviews without one — and labelled
    clauses; then estimate the priors on the same corpus. Raises ValueError with too few examples."""
    corpus = [(list(clauses), rating) for clauses, rating in reviews]
    labelled = list(labelled)
    model = _fit(corpus, labelled, seed=seed, c=c)
    # The priors must come from clauses the model did not learn from: scored in-sample, every 1★ clause looks
    # like a complaint, and mis-starred praise would be taken as one. So a second model learns from half of
    # the reviews and estimates the priors on the other half.
    rng = np.random.default_rng(seed)
    held_out = rng.random(len(corpus)) < 0.5
    half = _fit(
        [review for review, out in zip(corpus, held_out, strict=True) if not out], labelled, seed=seed, c=c
    )
    model.priors = estimate_priors(
        half, [review for review, out in zip(corpus, held_out, strict=True) if out]
    )
    return model


def _fit(
    corpus: Sequence[tuple[Sequence[Clause], int | None]],
    labelled: Sequence[LabelledClause],
    *,
    seed: int,
    c: float,
) -> ComplaintModel:
    complaint_docs: list[Sequence[str]] = []
    praise_docs: list[Sequence[str]] = []
    for clauses, rating in corpus:
        if rating is None:
            continue
        if rating <= LOW_RATING:
            complaint_docs.extend(clause.tokens for clause in clauses)
        elif rating >= HIGH_RATING:
            praise_docs.extend(clause.tokens for clause in clauses if not clause.contrast)
    rng = np.random.default_rng(seed)
    complaint_docs, praise_docs = (_sample(docs, rng) for docs in (complaint_docs, praise_docs))
    docs = complaint_docs + praise_docs + [example.tokens for example in labelled]
    labels = np.asarray(
        [1] * len(complaint_docs) + [0] * len(praise_docs) + [int(example.complaint) for example in labelled]
    )
    if min(int((labels == 0).sum()), int((labels == 1).sum())) < MIN_EXAMPLES_PER_CLASS:
        raise ValueError("too few rated reviews to learn complaints from")
    words: dict[str, int] = {}
    ids, owner = token_ids(docs, words, grow=True)
    first, second, pair_owner = adjacent(ids, owner)
    pair_keys, pair_columns = np.unique(first * len(words) + second, return_inverse=True)
    shape = (len(docs), len(words) + len(pair_keys))
    matrix = _presence(
        np.concatenate([owner, pair_owner]), np.concatenate([ids, len(words) + pair_columns]), shape
    )
    document_frequency = np.bincount(matrix.indices, minlength=matrix.shape[1])
    columns = np.flatnonzero(document_frequency >= MIN_TERM_COUNT)
    matrix = matrix[:, columns]
    fitted = LogisticRegression(C=c, class_weight="balanced", solver="liblinear", random_state=seed)
    fitted.fit(matrix, labels)
    names = list(words)
    coef = fitted.coef_[0]
    weights = {}
    for i, column in enumerate(columns.tolist()):
        if abs(coef[i]) > 1e-4:
            if column < len(names):
                name = names[column]
            else:
                a, b = divmod(int(pair_keys[column - len(names)]), len(names))
                name = f"{names[a]}{PAIR}{names[b]}"
            weights[name] = round(float(coef[i]), 5)
    return ComplaintModel(weights=weights, intercept=float(fitted.intercept_[0]), examples=len(docs))


def _sample(docs: list[Sequence[str]], rng: np.random.Generator) -> list[Sequence[str]]:
    if len(docs) <= MAX_EXAMPLES_PER_CLASS:
        return docs
    chosen = rng.choice(len(docs), MAX_EXAMPLES_PER_CLASS, replace=False)
    return [docs[i] for i in sorted(chosen.tolist())]


def estimate_priors(
    model: ComplaintModel, corpus: Sequence[tuple[Sequence[Clause], int | None]], *, rounds: int = 8
) -> dict[str, float]:
    """P(complaint clause | rating, contrast), by expectation–maximisation over the corpus's clauses: start
    from 0.5, score every clause with the prior of its group, set each group's prior to its mean score."""
    keys: list[str] = []
    docs: list[Sequence[str]] = []
    for clauses, rating in corpus:
        for clause in clauses:
            if clause.tokens:
                keys.append(_prior_key(rating, clause.contrast))
                docs.append(clause.tokens)
    evidence = np.clip(model.log_odds_many(docs), -30, 30)
    key_array = np.asarray(keys)
    priors: dict[str, float] = {}
    for key in sorted(set(keys)):
        scores = evidence[key_array == key]
        prior = 0.5
        for _ in range(rounds):
            logit = scores + math.log(prior / (1 - prior))
            prior = float(np.clip((1 / (1 + np.exp(-logit))).mean(), 0.01, 0.99))
        priors[key] = round(prior, 4)
    return priors
