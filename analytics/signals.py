"""Failure-signal extraction over complaint clauses: guided assignment, discovery, keywords, report.

Pure maths on plain lists (no Django), so it is tested and benchmarked alone. The unit is the complaint
clause (analytics.clauses, decided by analytics.complaints): "讲得好，但是声音太小" is about the sound, not
about the teaching. The pipeline:

1. Guided assignment: each defined signal's seed phrases (and terms learned from confirmed members) score
   the complaint clauses of the courses the signal is scoped to; a clause takes a signal only when one of its
   seed phrases occurs in it and its share of the clause's TF-IDF mass reaches the threshold. A seeded
   signal therefore never collects text that does not say what it means.
2. Discovery: the complaint clauses left over are placed by word vectors learned from the platform's own
   reviews (analytics.embeddings) and grouped by k-means (fixed seed) into more groups than wanted; a
   clause far from its group's centre stays unassigned, a group whose members do not agree (low
   coherence) is dropped whole, groups that say the same thing are merged, and no group may hold more than
   `max_share` of the assigned complaints: what fits nowhere stays unassigned, there is no catch-all.
3. A review belongs to the signal of its best complaint clause. Each signal gets c-TF-IDF keywords (words
   and two-word phrases a person reads as the theme; no single characters, numbers or one-off words) and
   representative quotes with the complaint clause to highlight.
4. A new cluster whose keywords match an earlier candidate or a dismissed signal keeps its identity, so a
   recurring complaint keeps one key across runs.
5. The report gives shares overall, per course, per instructor, per month (undated reviews are counted,
   not placed), and the rating lift.

Everything is deterministic for a given input order and parameters (fixed random states).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import TypedDict

import numpy as np
from scipy import sparse
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.preprocessing import normalize

from analytics import clauses as clause_format
from analytics.embeddings import WordVectors

ProgressCallback = Callable[[int, str], None]

# Word weights at or above this (words rare among the complaints) are 1 for the incremental assigner.
FOCUS_KEPT_BELOW = 0.98
KMEANS_SEEDING_SAMPLE = 3000
# Added to a scoped signal's score where it matches, so it wins over a course-wide one (scores are ≤ 1).
SCOPED_PREFERENCE = 1.0

# Tokens that are punctuation: never features of a signal.
_PUNCTUATION = frozenset(",.;:!?()[]{}\"'`~@#$%^&*-_=+|\\/<>，。；：！？、…—“”‘’《》【】（）「」『』·")


@dataclass(frozen=True)
class SignalSpec:
    """A signal definition as the pipeline sees it.

    guided: assign complaint clauses by its terms (seeded and confirmed signals). A non-guided spec is an
    earlier discovered candidate (or a dismissed signal): it only lends its identity to a new cluster whose
    keywords overlap it.
    terms: seed phrases, each already segmented into content tokens (("没有", "超时"), ("gopath",)).
    learned: vocabulary learned from confirmed members (term → weight 0..1).
    courses: the courses whose reviews it may take (None: every course); scope: the course tags that
    define them (lowercase), which the incremental assigner checks for courses created after the run.
    """

    key: str
    terms: Sequence[Sequence[str]] = ()
    learned: Mapping[str, float] = field(default_factory=dict)
    guided: bool = True
    courses: frozenset[Hashable] | None = None
    scope: tuple[str, ...] = ()


@dataclass(frozen=True)
class Parameters:
    seed: int = 0
    # Guided assignment: minimum share of a clause's TF-IDF mass on a signal's terms.
    assign_threshold: float = 0.2
    refine_weight: float = 0.5
    learned_weight: float = 0.5
    # Discovery: k-means into `discovery_clusters` groups; a group's core is its members at least
    # `member_similarity` to its centre, kept when they agree (mean similarity ≥ `min_coherence`); cores at
    # least `merge_similarity` alike merge; the largest `max_clusters` cores then take every clause at least
    # `join_similarity` to them. Word weights come from the complaints themselves (`focus_smoothing`).
    discovery_clusters: int = 48
    discovery_sample: int = 10000
    focus_smoothing: float = 0.01
    member_similarity: float = 0.4
    min_coherence: float = 0.5
    merge_similarity: float = 0.75
    join_similarity: float = 0.35
    min_cluster_size: int = 3
    min_cluster_share: float = 0.004
    max_clusters: int = 24
    max_share: float = 0.35
    keyword_count: int = 10
    quote_count: int = 5
    candidate_match_overlap: float = 0.3

    @classmethod
    def from_mapping(cls, values: Mapping[str, object] | None) -> Parameters:
        """Parameters from a run's JSON; unknown keys or wrong types raise ValueError."""
        values = dict(values or {})
        known = {name: type(getattr(cls(), name)) for name in cls.__dataclass_fields__}
        kwargs: dict[str, object] = {}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"unknown parameter {name!r}")
            expected = known[name]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number")
            if expected is int and not float(value).is_integer():
                raise ValueError(f"{name} must be a whole number")
            if value < 0:
                raise ValueError(f"{name} must not be negative")
            # Upper bounds keep a run from being queued that the worker cannot do: numpy seeds are 32-bit,
            # the float parameters are shares and similarities, and no count here needs millions.
            if expected is int and value > (2**32 - 1 if name == "seed" else 1_000_000):
                raise ValueError(f"{name} is too large")
            if expected is float and not value <= 1:
                raise ValueError(f"{name} must be between 0 and 1")
            kwargs[name] = expected(value)
        return cls(**kwargs)

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def in_scope(scope: Iterable[str], *, title: str, tags: Iterable[str]) -> bool:
    """Whether a course belongs to a signal's scope: one of its tags (name or slug) is a scope tag, or its
    title names one ("Go 高并发实战" for "go": imported courses carry no tags). Latin scope words match
    whole words only ("Gopher" is not "go"). An empty scope holds every course."""
    wanted = [tag.strip().lower() for tag in scope if tag.strip()]
    if not wanted:
        return True
    own = {tag.strip().lower() for tag in tags}
    lowered = title.lower()
    for tag in wanted:
        if tag in own:
            return True
        if tag.isascii():
            if re.search(rf"(?<![a-z0-9]){re.escape(tag)}(?![a-z0-9])", lowered):
                return True
        elif tag in lowered:
            return True
    return False


def seed_phrases(terms: Iterable[str], tokenize: Callable[[str], list[str]]) -> tuple[tuple[str, ...], ...]:
    """Seed terms as phrases of content tokens, segmented like the reviews.

    A term that keeps no word of two or more characters after stopwords are removed ("没做过" → "没")
    would match almost any complaint, so it is dropped.
    """
    phrases: dict[tuple[str, ...], None] = {}
    for term in terms:
        tokens = tuple(dict.fromkeys(token for token in tokenize(term) if token not in _PUNCTUATION))
        if any(len(token) >= 2 for token in tokens):
            phrases[tokens] = None
    return tuple(phrases)


# --- sparse term matrices -----------------------------------------------------------------------


class _Vocabulary(dict):
    """term → column; looking up a new term gives it the next column (first-seen order)."""

    def __missing__(self, term: Hashable) -> int:
        column = self[term] = len(self)
        return column


def count_matrix(docs: Sequence[str], vocabulary: dict[Hashable, int], *, grow: bool) -> sparse.csr_matrix:
    """Term counts as CSR of documents given as their tokens joined by single spaces (as the token cache
    stores them; "" for none). With grow=True unseen terms are added to `vocabulary`; else ignored.

    The documents are joined and split once and each token is looked up once, in C (split, map over a
    dict): no list per document, no Python per token. This is on the path of every run over every review.
    """
    present = np.fromiter(map(bool, docs), dtype=bool, count=len(docs))
    flat = " ".join(filter(None, docs)).split(" ") if present.any() else []
    if grow:
        growing = _Vocabulary(vocabulary)
        indices = np.fromiter(map(growing.__getitem__, flat), dtype=np.int32, count=len(flat))
        vocabulary.update(growing)
    else:
        indices = np.fromiter(map(vocabulary.get, flat, repeat(-1)), dtype=np.int32, count=len(flat))
    lengths = np.fromiter(map(str.count, docs, repeat(" ")), dtype=np.int32, count=len(docs)) + present
    rows = np.repeat(np.arange(len(docs), dtype=np.int32), lengths)
    known = indices >= 0
    if not known.all():
        indices, rows = indices[known], rows[known]
    counts = sparse.coo_matrix(
        (np.ones(len(indices)), (rows, indices)), shape=(len(docs), len(vocabulary))
    ).tocsr()
    counts.sum_duplicates()
    return counts


def idf_weights(counts: sparse.csr_matrix) -> np.ndarray:
    """Smoothed IDF as in scikit-learn: ln((1 + n) / (1 + df)) + 1."""
    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    return np.log((1.0 + n) / (1.0 + df)) + 1.0


def tfidf(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """Sublinear TF × IDF, rows L2-normalised."""
    if 0 in counts.shape:
        return sparse.csr_matrix(counts.shape, dtype=np.float64)
    weighted = counts.tocsr(copy=True)
    weighted.data = (1.0 + np.log(weighted.data)) * idf[weighted.indices]
    return normalize(weighted, copy=False)


# --- contracts -------------------------------------------------------------------------------------------


class RunCounts(TypedDict, total=False):
    reviews: int
    complaints: int  # reviews with at least one complaint clause
    complaint_clauses: int
    assigned: int
    unassigned: int
    signals: int
    discovered: int


class GuidedAssigner(TypedDict):
    group: int
    phrases: list[list[str]]
    learned: dict[str, float]
    centroid: dict[str, float]
    scope: list[str]  # course tags (lowercase); empty: every course


class DiscoveredAssigner(TypedDict):
    group: int
    centroid: list[float]
    threshold: float


class Focus(TypedDict):
    """How discovery weighed words: the weight of each word frequent among the complaints (others weigh 1)
    and the complaints' common direction, removed from every clause vector."""

    weights: dict[str, float]
    common: list[float]


class Assigner(TypedDict):
    version: int
    idf: dict[str, float]
    default_idf: float
    threshold: float
    refine_weight: float
    guided: list[GuidedAssigner]
    discovered: list[DiscoveredAssigner]
    focus: Focus


@dataclass
class SignalGroup:
    """One signal found by a run: a guided signal or a discovered cluster."""

    key: str | None  # the definition's key; None for a new discovery
    members: list[int]  # review indices
    scores: list[float]
    discovered: bool
    keywords: list[tuple[str, float]] = field(default_factory=list)
    representatives: list[int] = field(default_factory=list)
    # review index → the complaint clause (content tokens joined by spaces) that put it here, for quotes
    clauses: dict[int, str] = field(default_factory=dict)
    centroid: list[float] = field(default_factory=list)  # discovered: unit vector in the word-vector space
    similarity_floor: float = 0.0  # a new clause this similar to the centroid joins (discovered signals)


@dataclass
class ExtractionResult:
    complaint: np.ndarray  # bool per review: has a complaint clause
    groups: list[SignalGroup]
    unassigned: list[int]  # complaining reviews in no signal
    assigner: Assigner
    counts: RunCounts


@dataclass
class _Clauses:
    """The complaint clauses of a corpus, flattened: one entry per clause."""

    review: np.ndarray  # review index of each clause
    docs: list[str]  # content tokens joined by spaces
    tokens: list[tuple[str, ...]]
    # A review's complaint clauses together, for the defined signals only: a learner may spread what a seed
    # phrase says over two clauses ("没有超时，也没有重试"); such units never enter discovery.
    whole: np.ndarray


def _complaint_clauses(packed: Sequence[str]) -> tuple[_Clauses, np.ndarray]:
    owners: list[int] = []
    docs: list[str] = []
    tokens: list[tuple[str, ...]] = []
    whole: list[bool] = []
    complaint = np.zeros(len(packed), dtype=bool)
    for index, review in enumerate(packed):
        if clause_format.COMPLAINT_MARK not in review:
            continue
        parts = []
        for clause in clause_format.unpack(review):
            if clause.complaint:
                content = tuple(token for token in clause.tokens if token not in _PUNCTUATION)
                if content:
                    parts.append(content)
        for content in parts:
            owners.append(index)
            docs.append(" ".join(content))
            tokens.append(content)
            whole.append(False)
            complaint[index] = True
        if len(parts) > 1:
            joined = tuple(token for content in parts for token in content)
            owners.append(index)
            docs.append(" ".join(joined))
            tokens.append(joined)
            whole.append(True)
    return (
        _Clauses(np.asarray(owners, dtype=np.int64), docs, tokens, np.asarray(whole, dtype=bool)),
        complaint,
    )


def _report(progress: ProgressCallback | None, percent: int, step: str) -> None:
    if progress is not None:
        progress(percent, step)


def extract(
    packed: Sequence[str],
    courses: Sequence[Hashable],
    specs: Sequence[SignalSpec],
    *,
    vectors: WordVectors | None,
    parameters: Parameters | None = None,
    keyword_stopwords: frozenset[str] = frozenset(),
    progress: ProgressCallback | None = None,
) -> ExtractionResult:
    """Assign and discover signals among the complaint clauses of the reviews.

    packed: each review's clauses with their complaint decisions (analytics.clauses.pack), "" for a review
    kept out of analysis (noise); courses: each review's course (for scoped seeds); vectors: word vectors of
    the corpus (None: discovery is skipped). Results refer to reviews by their position in these lists.
    keyword_stopwords: words never shown as a keyword (they still count for assignment).
    """
    params = parameters or Parameters()
    n = len(packed)
    if len(courses) != n:
        raise ValueError("packed and courses must describe the same reviews")
    found, complaint = _complaint_clauses(packed)
    m = len(found.docs)
    counts: RunCounts = {
        "reviews": n,
        "complaints": int(complaint.sum()),
        "complaint_clauses": int((~found.whole).sum()),
    }

    vocabulary: dict[Hashable, int] = {}
    term_counts = count_matrix(found.docs, vocabulary, grow=True)
    idf = idf_weights(term_counts) if m else np.zeros(0)
    matrix = tfidf(term_counts, idf)

    _report(progress, 45, "assigning complaints to defined signals")
    guided = [spec for spec in specs if spec.guided]
    clause_courses = [courses[r] for r in found.review.tolist()]
    primary, scores, guided_centroids = _guided_assignment(matrix, vocabulary, guided, clause_courses, params)
    # A review's clauses together only stand in when none of its clauses matched a signal alone.
    matched = np.zeros(n, dtype=bool)
    matched[found.review[(primary >= 0) & ~found.whole]] = True
    primary[found.whole & matched[found.review]] = -1

    _report(progress, 60, "discovering new signals")
    leftover = np.flatnonzero((primary < 0) & ~found.whole)
    discovered_rows, discovered_scores, centroids, floors, focus = _discover(
        [found.tokens[i] for i in leftover.tolist()], vectors, params
    )
    clause_signal = np.full(m, -1, dtype=np.int64)
    clause_score = np.zeros(m)
    guided_groups = len(guided)
    clause_signal[primary >= 0] = primary[primary >= 0]
    # Guided matches rank above discovered ones when a review has both: a seed phrase is explicit evidence.
    clause_score[primary >= 0] = 1.0 + scores[primary >= 0]
    for g, (rows, similarity) in enumerate(zip(discovered_rows, discovered_scores, strict=True)):
        clause_signal[leftover[rows]] = guided_groups + g
        clause_score[leftover[rows]] = similarity

    _report(progress, 75, "describing signals")
    review_signal, review_clause = _best_clause_per_review(found.review, clause_signal, clause_score, n)
    groups: list[SignalGroup] = []
    for s in range(guided_groups + len(discovered_rows)):
        picked = np.flatnonzero(review_signal == s)
        is_discovered = s >= guided_groups
        # A theme is what several learners say: clauses of one long review do not make a signal.
        if not len(picked) or (is_discovered and len(picked) < params.min_cluster_size):
            continue
        group = SignalGroup(
            key=None if is_discovered else guided[s].key,
            members=picked.tolist(),
            scores=[round(float(clause_score[review_clause[r]]), 5) for r in picked],
            discovered=is_discovered,
            clauses={int(r): found.docs[review_clause[r]] for r in picked},
        )
        if is_discovered:
            group.centroid = [round(float(x), 5) for x in centroids[s - guided_groups]]
            group.similarity_floor = floors[s - guided_groups]
        groups.append(group)
    _describe(
        groups, found, review_clause, term_counts, matrix, vocabulary, keyword_stopwords, params, quotes=False
    )
    # Groups that name the same thing first are one theme; a group nobody could name is no theme at all.
    groups = [group for group in _merge_alike(groups) if group.keywords or not group.discovered]
    groups = _match_known(groups, specs, params)
    _describe(groups, found, review_clause, term_counts, matrix, vocabulary, keyword_stopwords, params)
    # A signal's members' reviews are disjoint by construction; order: guided first, then by size.
    groups.sort(key=lambda group: (group.discovered, -len(group.members)))
    assigned = {member for group in groups for member in group.members}
    unassigned = sorted(int(r) for r in np.flatnonzero(complaint) if int(r) not in assigned)
    counts["assigned"] = len(assigned)
    counts["unassigned"] = len(unassigned)
    counts["signals"] = len(groups)
    counts["discovered"] = sum(group.discovered for group in groups)
    assigner = _assigner_payload(groups, guided, guided_centroids, vocabulary, idf, params, focus)
    return ExtractionResult(
        complaint=complaint, groups=groups, unassigned=unassigned, assigner=assigner, counts=counts
    )


def _best_clause_per_review(
    owners: np.ndarray, clause_signal: np.ndarray, clause_score: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each review's signal (-1: none) and the clause that shows it.

    A review whose clauses point to several signals belongs to the one its clauses support most (the
    sum of their scores: "没有超时，context 没用过，出错只打印日志" is about timeouts, not about toy
    printing); the signal's best-scoring clause in the review is the one quoted.
    """
    review_signal = np.full(n, -1, dtype=np.int64)
    review_clause = np.full(n, -1, dtype=np.int64)
    support: dict[tuple[int, int], float] = {}
    best_clause: dict[tuple[int, int], int] = {}
    for clause in np.flatnonzero(clause_signal >= 0).tolist():
        key = (int(owners[clause]), int(clause_signal[clause]))
        support[key] = support.get(key, 0.0) + float(clause_score[clause])
        if key not in best_clause or clause_score[clause] > clause_score[best_clause[key]]:
            best_clause[key] = clause
    best = np.full(n, -np.inf)
    for (review, signal), total in support.items():
        if total > best[review]:
            best[review] = total
            review_signal[review] = signal
            review_clause[review] = best_clause[(review, signal)]
    return review_signal, review_clause


# --- guided assignment ---------------------------------------------------------------------------------


def _phrase_ids(spec: SignalSpec, vocabulary: Mapping[Hashable, int]) -> list[list[int]]:
    """The spec's seed phrases as vocabulary ids; a phrase with a word no complaint uses can never match."""
    phrases = []
    for phrase in spec.terms:
        ids = [vocabulary.get(token) for token in dict.fromkeys(phrase)]
        if ids and all(i is not None for i in ids):
            phrases.append([int(i) for i in ids if i is not None])
    return phrases


def _seed_scores(
    columns: sparse.csc_matrix, vocabulary: Mapping[Hashable, int], spec: SignalSpec, params: Parameters
) -> np.ndarray:
    """Share of each clause's TF-IDF mass on the spec's terms; 0 where none of its seed phrases occurs.

    A seed phrase of several words ("没有 超时", "照着 PPT 念") counts only where all its words occur; its
    words then count once each. Learned terms add their weight × learned_weight, but only to clauses a
    seed phrase already matched: they sharpen the signal, they never widen it.
    """
    n = columns.shape[0]
    phrases = _phrase_ids(spec, vocabulary)
    phrase_terms = list(dict.fromkeys(i for ids in phrases for i in ids))
    learned = [
        (vocabulary[term], float(weight))
        for term, weight in spec.learned.items()
        if term in vocabulary and vocabulary[term] not in phrase_terms
    ]
    terms = phrase_terms + [i for i, _weight in learned]
    if not phrase_terms:
        return np.zeros(n)
    values = columns[:, terms].toarray()
    where = {term: position for position, term in enumerate(terms)}
    activated = np.zeros((n, len(phrase_terms)), dtype=bool)
    for ids in phrases:
        positions = [where[i] for i in ids]
        activated[:, positions] |= (values[:, positions] > 0).all(axis=1)[:, None]
    scores = (values[:, : len(phrase_terms)] * activated).sum(axis=1)
    matched = activated.any(axis=1)
    for position, (_i, weight) in enumerate(learned, start=len(phrase_terms)):
        scores += params.learned_weight * weight * values[:, position] * matched
    return scores


def _guided_assignment(
    matrix: sparse.csr_matrix,
    vocabulary: Mapping[Hashable, int],
    specs: Sequence[SignalSpec],
    clause_courses: Sequence[Hashable],
    params: Parameters,
) -> tuple[np.ndarray, np.ndarray]:
    """Primary signal index per complaint clause (-1: none), its score, and each signal's centroid.

    The seeds pick a first set of clauses; the centroid of what they picked then refines the score once
    (learning the signal's other words from its own clauses), within the signal's scope only.
    """
    rows = matrix.shape[0]
    if not specs or rows == 0:
        return np.full(rows, -1), np.zeros(rows), np.zeros((len(specs), matrix.shape[1]))
    columns = matrix.tocsc()
    table = np.zeros((rows, len(specs)))
    in_scope = np.ones((rows, len(specs)), dtype=bool)
    for s, spec in enumerate(specs):
        if spec.courses is not None:
            in_scope[:, s] = np.fromiter(
                (course in spec.courses for course in clause_courses), dtype=bool, count=rows
            )
        table[:, s] = _seed_scores(columns, vocabulary, spec, params) * in_scope[:, s]
    scoped = np.array([spec.courses is not None for spec in specs])
    first = _pick(table, params.assign_threshold, scoped)
    centroids = np.zeros((len(specs), matrix.shape[1]))
    for s in range(len(specs)):
        members = np.flatnonzero(first == s)
        if len(members):
            centroid = np.asarray(matrix[members].mean(axis=0)).ravel()
            centroids[s] = centroid / (np.linalg.norm(centroid) or 1.0)
    similarity = np.asarray(matrix @ centroids.T) * in_scope
    combined = (1 - params.refine_weight) * table + params.refine_weight * similarity
    primary = _pick(combined, params.assign_threshold, scoped)
    best = combined[np.arange(rows), np.maximum(primary, 0)]
    return primary, np.where(primary >= 0, best, 0.0), centroids


def _pick(scores: np.ndarray, threshold: float, scoped: np.ndarray | None = None) -> np.ndarray:
    """Each row's best column at or above the threshold (-1: none). A scoped signal (e.g. the Go ones) is
    more specific than a course-wide one: where both reach the threshold, the scoped one is picked."""
    if scoped is not None and scoped.any():
        scores = scores + np.where((scores >= threshold) & scoped[None, :], SCOPED_PREFERENCE, 0.0)
    best = scores.argmax(axis=1)
    top = scores[np.arange(scores.shape[0]), best]
    return np.where(top >= threshold, best, -1)


# --- discovery -----------------------------------------------------------------------------------------


def _discover(
    clauses: Sequence[Sequence[str]], vectors: WordVectors | None, params: Parameters
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], list[float], Focus]:
    """Coherent groups among the leftover complaint clauses.

    Returns, per group: its rows (positions in `clauses`), their similarity to its centre, the centre (a
    unit vector) and the similarity a new clause needs to join it. Rows in no group are unassigned.
    """
    no_focus: Focus = {"weights": {}, "common": []}
    empty = ([], [], [], [], no_focus)
    if vectors is None or not clauses:
        return empty
    weight, common = vectors.focused(clauses, smoothing=params.focus_smoothing)
    focus: Focus = {
        "weights": {
            vectors.words[i]: round(float(weight[i]), 4)
            for i in np.flatnonzero(weight < FOCUS_KEPT_BELOW).tolist()
        },
        "common": [round(float(x), 6) for x in common],
    }
    # What is stored is what a new review will be weighed with: use exactly that here too.
    weight, common = vectors.focus_arrays(focus["weights"], focus["common"])
    embedded, known = vectors.embed(clauses, weight=weight, common=common)
    rows = np.flatnonzero(known)
    min_size = max(params.min_cluster_size, math.ceil(params.min_cluster_share * len(clauses)), 2)
    if len(rows) < 2 * min_size:
        return empty
    points = embedded[rows]
    # About sqrt(n / 2) groups (the usual rule of thumb), at most discovery_clusters: a small site does not
    # get one group per repeated sentence.
    k = min(params.discovery_clusters, len(rows) // min_size, max(2, round(math.sqrt(len(rows) / 2))))
    if k < 2:
        return empty
    fit_on = points
    if len(points) > params.discovery_sample:
        chosen = np.sort(
            np.random.default_rng(params.seed).choice(len(points), params.discovery_sample, replace=False)
        )
        fit_on = points[chosen]
    # k-means++ seeding is quadratic-ish in the points it reads: seed from a small sample, then fit.
    seeding = fit_on[:: max(1, len(fit_on) // KMEANS_SEEDING_SAMPLE)]
    centres_init, _indices = kmeans_plusplus(seeding, n_clusters=k, random_state=params.seed)
    kmeans = KMeans(n_clusters=k, init=centres_init, n_init=1, random_state=params.seed).fit(fit_on)
    label = kmeans.predict(points)
    centres = normalize(kmeans.cluster_centers_)
    similarity = np.einsum("ij,ij->i", points, centres[label])

    # Keep each group's members close to its centre; drop groups whose members do not agree.
    kept: list[np.ndarray] = []
    for g in range(k):
        members = np.flatnonzero((label == g) & (similarity >= params.member_similarity))
        if len(members) < min_size:
            continue
        centre = normalize(points[members].mean(axis=0, keepdims=True))[0]
        if float((points[members] @ centre).mean()) < params.min_coherence:
            continue
        kept.append(members)
    kept = _merge_similar(kept, points, params.merge_similarity)
    kept.sort(key=lambda members: (-len(members), int(members[0])))
    kept = kept[: params.max_clusters]
    if not kept:
        return empty
    # The coherent cores name the themes; every clause then joins the nearest core's theme when it is close
    # enough to it, so a theme holds its plainly worded members too, not only its most typical ones.
    cores = normalize(np.vstack([points[members].mean(axis=0) for members in kept]))
    nearness = points @ cores.T
    nearest = nearness.argmax(axis=1)
    best = nearness[np.arange(len(points)), nearest]
    kept = [np.flatnonzero((nearest == g) & (best >= params.join_similarity)) for g in range(len(cores))]
    kept = _cap_share(
        [members for members in kept if len(members) >= min_size], points, params.max_share, min_size
    )

    out_rows, out_scores, out_centres, floors = [], [], [], []
    for members in kept:
        centre = normalize(points[members].mean(axis=0, keepdims=True))[0]
        scores = points[members] @ centre
        out_rows.append(rows[members])
        out_scores.append(scores)
        out_centres.append(centre)
        floors.append(round(max(params.join_similarity, float(np.quantile(scores, 0.05))), 5))
    return out_rows, out_scores, out_centres, floors, focus


def _merge_similar(groups: list[np.ndarray], points: np.ndarray, threshold: float) -> list[np.ndarray]:
    """Merge groups whose centres are at least `threshold` similar (greedy, most similar pair first)."""
    groups = [g for g in groups if len(g)]
    while len(groups) > 1:
        centres = normalize(np.vstack([points[g].mean(axis=0) for g in groups]))
        similarity = centres @ centres.T
        np.fill_diagonal(similarity, -1.0)
        a, b = np.unravel_index(int(similarity.argmax()), similarity.shape)
        if similarity[a, b] < threshold:
            break
        merged = np.union1d(groups[a], groups[b])
        groups = [g for i, g in enumerate(groups) if i not in (a, b)] + [merged]
    return groups


def _cap_share(
    groups: list[np.ndarray], points: np.ndarray, max_share: float, min_size: int
) -> list[np.ndarray]:
    """No group holds more than max_share of the assigned clauses: the largest keeps only its members
    closest to its centre (the rest stay unassigned) until it fits. A broad group is the catch-all the
    report must not have."""
    for _ in range(len(groups) * 4):
        total = sum(len(g) for g in groups)
        if not groups or total == 0:
            break
        largest = max(range(len(groups)), key=lambda i: len(groups[i]))
        others = total - len(groups[largest])
        allowed = int(max_share * others / (1 - max_share)) if others else len(groups[largest])
        if len(groups[largest]) <= max(allowed, min_size) or len(groups) == 1:
            break
        members = groups[largest]
        centre = normalize(points[members].mean(axis=0, keepdims=True))[0]
        order = np.argsort(-(points[members] @ centre), kind="stable")
        groups[largest] = np.sort(members[order[: max(allowed, min_size)]])
    return groups


# --- keywords and quotes -------------------------------------------------------------------------------


def _phrase(a: str, b: str) -> str:
    """Two adjacent words as a reader writes them: Chinese joined, with a space next to Latin."""
    return f"{a} {b}" if a[-1:].isascii() or b[:1].isascii() else a + b


def _displayable(term: str, stopwords: frozenset[str]) -> bool:
    """A keyword a person reads as a theme: two or more characters, no digits, not a generic word."""
    return len(term) >= 2 and not any(char.isdigit() for char in term) and term not in stopwords


def _describe(
    groups: Sequence[SignalGroup],
    found: _Clauses,
    review_clause: np.ndarray,
    term_counts: sparse.csr_matrix,
    matrix: sparse.csr_matrix,
    vocabulary: Mapping[Hashable, int],
    stopwords: frozenset[str],
    params: Parameters,
    *,
    quotes: bool = True,
) -> None:
    """Each group's c-TF-IDF keywords (words and two-word phrases) against the other groups and the
    unassigned complaints, and (with `quotes`) its representative quotes."""
    if not groups:
        return
    m = len(found.docs)
    clause_group = np.full(m, len(groups), dtype=np.int64)  # last class: unassigned complaint clauses
    for g, group in enumerate(groups):
        clause_group[[int(review_clause[r]) for r in group.members]] = g
    names: list[str] = []
    ids: dict[str, int] = {}
    word_term: dict[str, int] = {}
    pair_term: dict[tuple[str, str], int] = {}

    def term_id(term: str) -> int:
        if not _displayable(term, stopwords):
            return -1
        if term not in ids:
            ids[term] = len(names)
            names.append(term)
        return ids[term]

    owners: list[int] = []
    columns: list[int] = []
    unassigned = len(groups)
    for c, tokens in enumerate(found.tokens):
        g = int(clause_group[c])
        if found.whole[c] and g == unassigned:
            continue  # a review's clauses together: counted clause by clause already
        seen: set[int] = set()
        for word in tokens:
            column = word_term.get(word)
            if column is None:
                column = word_term[word] = term_id(word)
            if column >= 0:
                seen.add(column)
        for pair in zip(tokens, tokens[1:], strict=False):
            column = pair_term.get(pair)
            if column is None:
                a, b = pair
                # A phrase of two real words ("声音 太小"); single characters glue into nonsense ("助教找").
                real = len(a) >= 2 and len(b) >= 2 and a not in stopwords and b not in stopwords
                column = pair_term[pair] = term_id(_phrase(a, b)) if real else -1
            if column >= 0:
                seen.add(column)
        owners.extend([g] * len(seen))
        columns.extend(seen)
    if not names:
        return
    # clauses of each group (and of the unassigned complaints) holding each term
    table = np.zeros((len(groups) + 1, len(names)))
    np.add.at(table, (np.asarray(owners, dtype=np.int64), np.asarray(columns, dtype=np.int64)), 1)
    weights = _ctfidf(table)
    for g, group in enumerate(groups):
        # A keyword must recur: a word from one review (a username, a typo) says nothing about a theme.
        need = 1 if len(group.members) < 4 else min(3, max(2, len(group.members) // 20))
        row = weights[g] * (table[g] >= need)
        order = [int(i) for i in np.argsort(-row, kind="stable")[: params.keyword_count * 5] if row[i] > 0]
        chosen: list[int] = []
        for i in order:
            # A word already inside a chosen phrase (or the other way round) adds nothing.
            if any(names[i] in names[j] or names[j] in names[i] for j in chosen):
                continue
            chosen.append(i)
            if len(chosen) >= params.keyword_count:
                break
        top = row[chosen[0]] if chosen else 0.0
        group.keywords = [(names[i], round(float(row[i] / top), 4)) for i in chosen] if top > 0 else []
        if not quotes:
            continue
        rows = np.asarray([int(review_clause[r]) for r in group.members])
        if group.discovered:
            similarity = np.asarray(group.scores)
        else:
            centroid = np.asarray(matrix[rows].mean(axis=0)).ravel()
            norm = np.linalg.norm(centroid)
            similarity = np.asarray(matrix[rows] @ (centroid / norm)).ravel() if norm else np.zeros(len(rows))
        group.representatives = _representatives(group.members, similarity, found, rows, params.quote_count)


def _representatives(
    members: Sequence[int], similarity: np.ndarray, found: _Clauses, rows: np.ndarray, count: int
) -> list[int]:
    """The members closest to the centre, skipping ones whose clause repeats a quote already chosen."""
    chosen: list[int] = []
    seen: list[set[str]] = []
    for position in np.argsort(-similarity, kind="stable"):
        if len(chosen) >= count:
            break
        words = set(found.tokens[int(rows[position])])
        if any(len(words & other) >= 0.8 * max(len(words), 1) for other in seen):
            continue
        chosen.append(int(position))
        seen.append(words)
    return [members[position] for position in chosen]


def _ctfidf(class_counts: np.ndarray) -> np.ndarray:
    """Class-based TF-IDF (as in BERTopic): frequency in a class × log(1 + mean class size / frequency)."""
    totals = class_counts.sum(axis=1, keepdims=True)
    tf = np.divide(class_counts, totals, out=np.zeros_like(class_counts, dtype=float), where=totals > 0)
    frequency = class_counts.sum(axis=0)
    average = class_counts.sum() / max(1, class_counts.shape[0])
    idf = np.log(
        1 + np.divide(average, frequency, out=np.zeros_like(frequency, dtype=float), where=frequency > 0)
    )
    return tf * idf


def keyword_overlap(keywords: Sequence[tuple[str, float]], terms: Iterable[str]) -> float:
    """Share of a cluster's keyword weight that falls on `terms`."""
    term_set = set(terms)
    total = sum(weight for _term, weight in keywords)
    if total <= 0:
        return 0.0
    return sum(weight for term, weight in keywords if term in term_set) / total


def _merge_alike(groups: list[SignalGroup]) -> list[SignalGroup]:
    """Merge discovered groups whose leading keyword is among the other's first two ("评论 · 回复" and
    "回复 · 批改" are one complaint about answers): k-means cut one theme in two."""
    kept: list[SignalGroup] = []
    for group in sorted(groups, key=lambda group: (not group.discovered, -len(group.members))):
        top = [keyword for keyword, _weight in group.keywords[:2]]
        target = None
        if group.discovered and top:
            for other in kept:
                other_top = [keyword for keyword, _weight in other.keywords[:2]]
                if other.discovered and other_top and (top[0] in other_top or other_top[0] in top):
                    target = other
                    break
        if target is None:
            kept.append(group)
            continue
        size, added = len(target.members), len(group.members)
        if target.centroid and group.centroid:
            mixed = np.asarray(target.centroid) * size + np.asarray(group.centroid) * added
            mixed /= np.linalg.norm(mixed) or 1.0
            target.centroid = [round(float(x), 5) for x in mixed]
        target.similarity_floor = min(target.similarity_floor, group.similarity_floor)
        target.members.extend(group.members)
        target.scores.extend(group.scores)
        target.clauses.update(group.clauses)
    for group in kept:
        order = np.argsort(group.members, kind="stable")
        group.members = [group.members[i] for i in order]
        group.scores = [group.scores[i] for i in order]
    return kept


def _match_known(
    groups: list[SignalGroup], specs: Sequence[SignalSpec], params: Parameters
) -> list[SignalGroup]:
    """Give each new cluster the identity of the earlier candidate (or dismissed signal) whose terms its
    keywords share, so a recurring complaint keeps one key across runs; clusters matching the same one merge.
    Guided signals take clauses only by their seeds, so a cluster never joins one."""
    earlier = [spec for spec in specs if not spec.guided]
    out: list[SignalGroup] = []
    by_key: dict[str, SignalGroup] = {}
    for group in groups:
        if not group.discovered:
            out.append(group)
            continue
        best: tuple[float, SignalSpec] | None = None
        for spec in earlier:
            # Keywords are words or two-word phrases ("助教回复"); the terms are segmented phrases.
            words = {token for phrase in spec.terms for token in phrase} | set(spec.learned)
            words |= {"".join(phrase) for phrase in spec.terms}
            overlap = keyword_overlap(group.keywords, words)
            if overlap >= params.candidate_match_overlap and (best is None or overlap > best[0]):
                best = (overlap, spec)
        if best is None:
            out.append(group)
        elif best[1].key in by_key:
            target = by_key[best[1].key]
            target.members.extend(group.members)
            target.scores.extend(group.scores)
            target.clauses.update(group.clauses)
        else:
            group.key = best[1].key
            by_key[group.key] = group
            out.append(group)
    return out


# --- incremental assignment of one new review ------------------------------------------------------


def _assigner_payload(
    groups: Sequence[SignalGroup],
    guided: Sequence[SignalSpec],
    centroids: np.ndarray,
    vocabulary: Mapping[Hashable, int],
    idf: np.ndarray,
    params: Parameters,
    focus: Focus,
) -> Assigner:
    """A compact JSON model that assigns one new review the way this run would have."""
    terms_by_index = {index: term for term, index in vocabulary.items()}
    spec_by_key = {spec.key: (s, spec) for s, spec in enumerate(guided)}
    guided_out: list[GuidedAssigner] = []
    discovered_out: list[DiscoveredAssigner] = []
    used_terms: set[str] = set()
    for g, group in enumerate(groups):
        if group.discovered:
            discovered_out.append(
                {"group": g, "centroid": group.centroid, "threshold": group.similarity_floor}
            )
            continue
        found = spec_by_key.get(group.key or "")
        if found is None:
            continue
        s, spec = found
        keep = np.argsort(-centroids[s], kind="stable")[:200]
        centroid = {
            str(terms_by_index[i]): round(float(centroids[s][i]), 5) for i in keep if centroids[s][i] > 0
        }
        phrases = [[str(terms_by_index[i]) for i in ids] for ids in _phrase_ids(spec, vocabulary)]
        learned = {
            str(term): round(params.learned_weight * float(weight), 5)
            for term, weight in spec.learned.items()
            if term in vocabulary
        }
        guided_out.append(
            {
                "group": g,
                "phrases": phrases,
                "learned": learned,
                "scope": sorted(spec.scope),
                "centroid": centroid,
            }
        )
        used_terms.update(term for phrase in phrases for term in phrase)
        used_terms.update(learned, centroid)
    n = len(idf)
    return {
        "version": 2,
        "idf": {
            term: round(float(idf[vocabulary[term]]), 5) for term in sorted(used_terms) if term in vocabulary
        },
        "default_idf": round(float(math.log((1.0 + n) / 2.0) + 1.0), 5) if n else 1.0,
        "threshold": params.assign_threshold,
        "refine_weight": params.refine_weight,
        "guided": guided_out,
        "discovered": discovered_out,
        "focus": focus,
    }


def assign_one(
    assigner: Assigner | Mapping[str, object],
    complaint_clauses: Sequence[Sequence[str]],
    *,
    course_title: str = "",
    course_tags: Iterable[str] = (),
    vectors: WordVectors | None = None,
) -> tuple[int, float] | None:
    """(group index, score) for one review's complaint clauses under a run's assigner, or None.

    course_title, course_tags: the review's course (its tags' names and slugs), for scoped signals."""
    if not assigner or assigner.get("version") != 2 or not complaint_clauses:
        return None
    payload: Assigner = assigner  # type: ignore[assignment]
    tags = list(course_tags)
    idf = payload["idf"]
    default_idf = payload["default_idf"]
    best: tuple[int, float] | None = None
    best_rank: float | None = None
    for clause in complaint_clauses:
        counts = Counter(token for token in clause if token not in _PUNCTUATION)
        if not counts:
            continue
        vector = {
            term: (1.0 + math.log(count)) * idf.get(term, default_idf) for term, count in counts.items()
        }
        norm = math.sqrt(sum(value * value for value in vector.values()))
        vector = {term: value / norm for term, value in vector.items()}
        for signal in payload["guided"]:
            if not in_scope(signal["scope"], title=course_title, tags=tags):
                continue
            activated: set[str] = set()
            for phrase in signal["phrases"]:
                if all(term in vector for term in phrase):
                    activated.update(phrase)
            seed = sum(vector[term] for term in activated)
            if activated:
                seed += sum(
                    vector[t] * w for t, w in signal["learned"].items() if t in vector and t not in activated
                )
            near = sum(value * signal["centroid"].get(term, 0.0) for term, value in vector.items())
            refine = payload["refine_weight"]
            score = (1 - refine) * seed + refine * near
            if score < payload["threshold"]:
                continue
            # As in the run, a scoped signal wins over a course-wide one; the score stays the match's own.
            rank = score + (SCOPED_PREFERENCE if signal["scope"] else 0.0)
            if best_rank is None or rank > best_rank:
                best, best_rank = (signal["group"], 1.0 + score), rank
    if best is not None or vectors is None or not payload["discovered"]:
        return best
    focus = payload.get("focus") or {"weights": {}, "common": []}
    weight, common = vectors.focus_arrays(focus["weights"], focus["common"])
    embedded, known = vectors.embed(complaint_clauses, weight=weight, common=common)
    if not known.any():
        return None
    centres = np.asarray([signal["centroid"] for signal in payload["discovered"]], dtype=np.float32)
    similarity = embedded[known] @ centres.T
    for signal_index, signal in enumerate(payload["discovered"]):
        score = float(similarity[:, signal_index].max())
        if score >= signal["threshold"] and (best is None or score > best[1]):
            best = (signal["group"], score)
    return best


# --- report ------------------------------------------------------------------------------------------


def summarise(
    result: ExtractionResult,
    *,
    ratings: Sequence[int],
    months: Sequence[str | None],
    courses: Sequence[Hashable],
    instructors: Mapping[Hashable, Sequence[Hashable]],
) -> dict:
    """Shares overall, per course, per instructor and per month, and each signal's rating lift.

    share: the signal's share of all complaints. lift: mean rating of the reviews without the signal
    minus the mean rating of those with it (how many stars the signal costs). Per course and per
    instructor: the signal's reviews there, that owner's complaints and reviews, and the share. A review
    without a date (month None) counts everywhere but in the trend, which says how many had none.
    """
    n = len(ratings)
    rating_array = np.asarray(ratings, dtype=float)
    complaint = result.complaint
    total_complaints = int(complaint.sum())
    month_list = sorted({month for month in months if month is not None})
    month_index = {month: i for i, month in enumerate(month_list)}
    complaints_by_month = [0] * len(month_list)
    undated_complaints = 0
    complaints_by_course: Counter = Counter()
    reviews_by_course: Counter = Counter(courses)
    for i in np.flatnonzero(complaint):
        month = months[i]
        if month is None:
            undated_complaints += 1
        else:
            complaints_by_month[month_index[month]] += 1
        complaints_by_course[courses[i]] += 1

    def owners_of(course: Hashable) -> Sequence[Hashable]:
        return instructors.get(course, ())

    complaints_by_instructor: Counter = Counter()
    reviews_by_instructor: Counter = Counter()
    for course, count in reviews_by_course.items():
        for owner in owners_of(course):
            reviews_by_instructor[owner] += count
            complaints_by_instructor[owner] += complaints_by_course[course]

    signals = []
    for g, group in enumerate(result.groups):
        members = np.asarray(group.members, dtype=int)
        inside = np.zeros(n, dtype=bool)
        inside[members] = True
        with_mean = float(rating_array[inside].mean()) if inside.any() else None
        without_mean = float(rating_array[~inside].mean()) if (~inside).any() else None
        trend = [0] * len(month_list)
        undated = 0
        by_course: Counter = Counter()
        by_instructor: Counter = Counter()
        for i in members:
            month = months[i]
            if month is None:
                undated += 1
            else:
                trend[month_index[month]] += 1
            by_course[courses[i]] += 1
            for owner in owners_of(courses[i]):
                by_instructor[owner] += 1
        signals.append(
            {
                "group": g,
                "key": group.key,
                "size": len(members),
                "share": round(len(members) / total_complaints, 4) if total_complaints else 0.0,
                "lift": round(without_mean - with_mean, 4)
                if with_mean is not None and without_mean is not None
                else None,
                "mean_rating_with": round(with_mean, 4) if with_mean is not None else None,
                "mean_rating_without": round(without_mean, 4) if without_mean is not None else None,
                "trend": trend,
                "undated": undated,
                "by_course": _breakdown(by_course, complaints_by_course, reviews_by_course),
                "by_instructor": _breakdown(by_instructor, complaints_by_instructor, reviews_by_instructor),
            }
        )
    return {
        "reviews": n,
        "complaints": total_complaints,
        "assigned": int(sum(len(group.members) for group in result.groups)),
        "months": month_list,
        "complaints_by_month": complaints_by_month,
        "undated": sum(1 for month in months if month is None),
        "undated_complaints": undated_complaints,
        "signals": signals,
    }


def _breakdown(counts: Counter, complaints: Counter, reviews: Counter) -> list[dict]:
    rows = [
        {
            "id": owner,
            "count": count,
            "complaints": complaints[owner],
            "reviews": reviews[owner],
            "share": round(count / complaints[owner], 4) if complaints[owner] else 0.0,
        }
        for owner, count in counts.items()
    ]
    rows.sort(key=lambda row: (-row["count"], str(row["id"])))
    return rows
