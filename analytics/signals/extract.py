"""The pipeline end to end: complaint clauses in, assigned and discovered signals out."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from itertools import compress

import numpy as np

from analytics.embeddings import WordVectors
from analytics.signals.assigner import assigner_payload
from analytics.signals.corpus import complaint_clauses
from analytics.signals.describe import describe, keyword_terms, match_known, merge_alike
from analytics.signals.discovery import Anchor, discover
from analytics.signals.guided import guided_assignment, scope_table
from analytics.signals.matrices import idf_weights, tfidf
from analytics.signals.results import ExtractionResult, RunCounts, SignalGroup
from analytics.signals.spec import Parameters, SignalSpec
from analytics.terms import entry_matrix, token_ids

ProgressCallback = Callable[[int, str], None]
# A clause's complaint evidence (log-odds from its words alone), for many clauses at once.
Evidence = Callable[[Sequence[Sequence[str]]], np.ndarray]
# Seed-matched clauses that place a defined signal for discovery: enough for a stable centre.
ANCHOR_SAMPLE = 1000


def _report(progress: ProgressCallback | None, percent: int, step: str) -> None:
    if progress is not None:
        progress(percent, step)


def extract(
    packed: Sequence[str],
    courses: Sequence[Hashable],
    specs: Sequence[SignalSpec],
    *,
    vectors: WordVectors | None,
    evidence: Evidence | None = None,
    parameters: Parameters | None = None,
    keyword_stopwords: frozenset[str] = frozenset(),
    progress: ProgressCallback | None = None,
) -> ExtractionResult:
    """Assign and discover signals among the complaint clauses of the reviews.

    packed: each review's clauses with their complaint decisions (analytics.clauses.pack), "" for a review
    kept out of analysis (noise); courses: each review's course (for scoped seeds); vectors: word vectors of
    the corpus (None: discovery is skipped); evidence: the complaint model's log-odds of clauses (None: every
    complaint clause may join a discovery). Results refer to reviews by their position in these lists.
    keyword_stopwords: words never shown as a keyword (they still count for assignment).
    """
    params = parameters or Parameters()
    n = len(packed)
    if len(courses) != n:
        raise ValueError("packed and courses must describe the same reviews")
    found, complaint = complaint_clauses(packed)
    m = len(found)
    counts: RunCounts = {
        "reviews": n,
        "complaints": int(complaint.sum()),
        "complaint_clauses": int((~found.whole).sum()),
    }

    vocabulary: dict[str, int] = {}
    ids, owner = token_ids(found.tokens, vocabulary, grow=True)
    term_counts = entry_matrix(owner, ids, (m, len(vocabulary)))
    idf = idf_weights(term_counts) if m else np.zeros(0)
    matrix = tfidf(term_counts, idf)

    _report(progress, 45, "assigning complaints to defined signals")
    guided = [spec for spec in specs if spec.guided]
    clause_courses = [courses[r] for r in found.review.tolist()]
    primary, scores, guided_centroids = guided_assignment(matrix, vocabulary, guided, clause_courses, params)
    # A review's clauses together only stand in when none of its clauses matched a signal alone.
    matched = np.zeros(n, dtype=bool)
    matched[found.review[(primary >= 0) & ~found.whole]] = True
    primary[found.whole & matched[found.review]] = -1

    _report(progress, 60, "discovering new signals")
    leftover = np.flatnonzero((primary < 0) & ~found.whole)
    leftover_tokens = [found.tokens[i] for i in leftover.tolist()]
    if evidence is not None and leftover_tokens:
        strong = evidence(leftover_tokens) >= params.evidence_bar
        leftover = leftover[strong]
        leftover_tokens = list(compress(leftover_tokens, strong))
    # Each defined signal is placed by what its seeds took, so a leftover clause that says the same in
    # other words joins it (within its scope) instead of starting a new theme.
    allowed = scope_table(guided, [clause_courses[i] for i in leftover.tolist()])
    anchors = [
        Anchor(
            [found.tokens[i] for i in _spread(np.flatnonzero((primary == s) & ~found.whole)).tolist()],
            None if spec.courses is None else allowed[:, s],
        )
        for s, spec in enumerate(guided)
    ]
    discovered_rows, discovered_scores, centroids, floors, focus, anchored = discover(
        leftover_tokens, vectors, params, anchors
    )
    clause_signal = np.full(m, -1, dtype=np.int64)
    clause_score = np.zeros(m)
    guided_groups = len(guided)
    clause_signal[primary >= 0] = primary[primary >= 0]
    # Guided matches rank above discovered ones when a review has both: a seed phrase is explicit evidence.
    clause_score[primary >= 0] = 1.0 + scores[primary >= 0]
    for s, place in enumerate(anchored):
        if place is not None:
            clause_signal[leftover[place.rows]] = s
            clause_score[leftover[place.rows]] = place.scores
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
            clauses={int(r): found.text(review_clause[r]) for r in picked},
        )
        if is_discovered:
            group.centroid = [round(float(x), 5) for x in centroids[s - guided_groups]]
            group.similarity_floor = floors[s - guided_groups]
        elif (place := anchored[s]) is not None:
            group.centroid = [round(float(x), 5) for x in place.centre]
            group.similarity_floor = place.floor
        groups.append(group)
    terms = keyword_terms(found, keyword_stopwords, ids, owner, vocabulary)
    describe(groups, found, review_clause, matrix, terms, params, quotes=False)
    # Groups that name the same thing first are one theme; a group nobody could name is no theme at all.
    groups = [group for group in merge_alike(groups) if group.keywords or not group.discovered]
    groups = match_known(groups, specs, params)
    describe(groups, found, review_clause, matrix, terms, params)
    # A signal's members' reviews are disjoint by construction; order: guided first, then by size.
    groups.sort(key=lambda group: (group.discovered, -len(group.members)))
    assigned = {member for group in groups for member in group.members}
    unassigned = sorted(int(r) for r in np.flatnonzero(complaint) if int(r) not in assigned)
    counts["assigned"] = len(assigned)
    counts["unassigned"] = len(unassigned)
    counts["signals"] = len(groups)
    counts["discovered"] = sum(group.discovered for group in groups)
    assigner = assigner_payload(groups, guided, guided_centroids, vocabulary, idf, params, focus)
    return ExtractionResult(
        complaint=complaint, groups=groups, unassigned=unassigned, assigner=assigner, counts=counts
    )


def _spread(items: np.ndarray, count: int = ANCHOR_SAMPLE) -> np.ndarray:
    """At most about `count` of the items, evenly spread over them."""
    return items[:: max(1, len(items) // count)]


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
    chosen = np.flatnonzero(clause_signal >= 0)
    if not len(chosen):
        return review_signal, review_clause
    # One key per (review, signal); in arrays, not a loop per clause (a run has 100k+ complaint clauses).
    width = int(clause_signal.max()) + 1
    keys, first, inverse = np.unique(
        owners[chosen] * width + clause_signal[chosen], return_index=True, return_inverse=True
    )
    score = clause_score[chosen]
    support = np.bincount(inverse, weights=score, minlength=len(keys))
    # The best clause of each key: highest score, the earlier clause on a tie.
    by_score = np.lexsort((chosen, -score, inverse))
    leads = by_score[np.r_[True, inverse[by_score][1:] != inverse[by_score][:-1]]]
    best_clause = np.empty(len(keys), dtype=np.int64)
    best_clause[inverse[leads]] = chosen[leads]
    # Each review's key with the most support, the one whose first clause comes first on a tie.
    key_review, key_signal = keys // width, keys % width
    by_support = np.lexsort((chosen[first], -support, key_review))
    picked = by_support[np.r_[True, key_review[by_support][1:] != key_review[by_support][:-1]]]
    review_signal[key_review[picked]] = key_signal[picked]
    review_clause[key_review[picked]] = best_clause[picked]
    return review_signal, review_clause
