"""Guided assignment: complaint clauses take a defined signal by its seed phrases and learned terms."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
from scipy import sparse

from analytics.blocks import row_blocks
from analytics.signals.spec import Parameters, SignalSpec

# Added to a scoped signal's score where it matches, so it wins over a course-wide one (scores are ≤ 1).
SCOPED_PREFERENCE = 1.0


def phrase_ids(spec: SignalSpec, vocabulary: Mapping[str, int]) -> list[list[int]]:
    """The spec's seed phrases as vocabulary ids; a phrase with a word no complaint uses can never match."""
    phrases = []
    for phrase in spec.terms:
        ids = [vocabulary.get(token) for token in dict.fromkeys(phrase)]
        if ids and all(i is not None for i in ids):
            phrases.append([int(i) for i in ids if i is not None])
    return phrases


def _seed_scores(
    columns: sparse.csc_matrix, vocabulary: Mapping[str, int], spec: SignalSpec, params: Parameters
) -> np.ndarray:
    """Share of each clause's TF-IDF mass on the spec's terms; 0 where none of its seed phrases occurs.

    A seed phrase of several words ("没有 超时", "照着 PPT 念") counts only where all its words occur; its
    words then count once each. Learned terms add their weight × learned_weight, but only to clauses a
    seed phrase already matched: they sharpen the signal, they never widen it.
    """
    n = columns.shape[0]
    phrases = phrase_ids(spec, vocabulary)
    phrase_terms = list(dict.fromkeys(i for ids in phrases for i in ids))
    learned = [
        (vocabulary[term], float(weight))
        for term, weight in spec.learned.items()
        if term in vocabulary and vocabulary[term] not in phrase_terms
    ]
    scores = np.zeros(n)
    if not phrase_terms:
        return scores
    # On the sparse columns: a phrase's clauses are the intersection of its words' clauses (columns' row
    # indices are sorted), and each of its words then counts once in those clauses.
    starts, indices, data = columns.indptr, columns.indices, columns.data
    active: dict[int, list[np.ndarray]] = {}
    for ids in phrases:
        found = indices[starts[ids[0]] : starts[ids[0] + 1]]
        for i in ids[1:]:
            found = np.intersect1d(found, indices[starts[i] : starts[i + 1]], assume_unique=True)
        for i in ids:
            active.setdefault(i, []).append(found)
    matched = np.zeros(n, dtype=bool)
    for term, found_lists in active.items():
        rows = np.unique(np.concatenate(found_lists))
        term_rows = indices[starts[term] : starts[term + 1]]
        scores[rows] += data[starts[term] + np.searchsorted(term_rows, rows)]
        matched[rows] = True
    for term, weight in learned:
        span = slice(starts[term], starts[term + 1])
        rows = indices[span]
        scores[rows] += params.learned_weight * weight * data[span] * matched[rows]
    return scores


def guided_assignment(
    matrix: sparse.csr_matrix,
    vocabulary: Mapping[str, int],
    specs: Sequence[SignalSpec],
    clause_courses: Sequence[Hashable],
    params: Parameters,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Primary signal index per complaint clause (-1: none), its score, and each signal's centroid.

    The seeds pick a first set of clauses; the centroid of what they picked then refines the score once
    (learning the signal's other words from its own clauses), within the signal's scope only.
    """
    rows = matrix.shape[0]
    if not specs or rows == 0:
        return np.full(rows, -1), np.zeros(rows), np.zeros((len(specs), matrix.shape[1]))
    columns = matrix.tocsc()
    columns.sort_indices()
    table = np.empty((rows, len(specs)))
    in_scope = scope_table(specs, clause_courses)
    for s, spec in enumerate(specs):
        np.multiply(_seed_scores(columns, vocabulary, spec, params), in_scope[:, s], out=table[:, s])
    scoped = np.array([spec.courses is not None for spec in specs])
    first = _pick(table, params.assign_threshold, scoped)
    centroids = np.zeros((len(specs), matrix.shape[1]))
    for s in range(len(specs)):
        members = np.flatnonzero(first == s)
        if len(members):
            centroid = np.asarray(matrix[members].mean(axis=0)).ravel()
            centroids[s] = centroid / (np.linalg.norm(centroid) or 1.0)
    primary = np.empty(rows, dtype=np.int64)
    best = np.empty(rows)
    for block in row_blocks(rows):
        similarity = np.asarray(matrix[block] @ centroids.T) * in_scope[block]
        combined = (1 - params.refine_weight) * table[block] + params.refine_weight * similarity
        primary[block] = _pick(combined, params.assign_threshold, scoped)
        best[block] = combined[np.arange(len(combined)), np.maximum(primary[block], 0)]
    return primary, np.where(primary >= 0, best, 0.0), centroids


def scope_table(specs: Sequence[SignalSpec], clause_courses: Sequence[Hashable]) -> np.ndarray:
    """Whether each clause's course is in each spec's scope: decided once per distinct course, not per
    clause (a run has a few hundred courses and a few hundred thousand clauses)."""
    in_scope = np.ones((len(clause_courses), len(specs)), dtype=bool)
    scoped = [s for s, spec in enumerate(specs) if spec.courses is not None]
    if not scoped:
        return in_scope
    distinct = {course: i for i, course in enumerate(dict.fromkeys(clause_courses))}
    codes = np.fromiter(map(distinct.__getitem__, clause_courses), dtype=np.int64, count=len(clause_courses))
    for s in scoped:
        allowed = specs[s].courses or frozenset()
        in_scope[:, s] = np.fromiter((course in allowed for course in distinct), dtype=bool)[codes]
    return in_scope


def _pick(scores: np.ndarray, threshold: float, scoped: np.ndarray | None = None) -> np.ndarray:
    """Each row's best column at or above the threshold (-1: none). A scoped signal (e.g. the Go ones) is
    more specific than a course-wide one: where both reach the threshold, the scoped one is picked."""
    best = np.empty(len(scores), dtype=np.int64)
    top = np.empty(len(scores))
    for block in row_blocks(len(scores)):
        part = scores[block]
        if scoped is not None and scoped.any():
            part = part + np.where((part >= threshold) & scoped[None, :], SCOPED_PREFERENCE, 0.0)
        best[block] = part.argmax(axis=1)
        top[block] = part[np.arange(len(part)), best[block]]
    return np.where(top >= threshold, best, -1)
