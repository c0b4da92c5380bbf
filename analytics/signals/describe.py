"""Each signal's keywords and quotes, and the identity a new cluster takes from an earlier one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from analytics.signals.corpus import ComplaintClauses
from analytics.signals.results import SignalGroup
from analytics.signals.spec import Parameters, SignalSpec
from analytics.terms import adjacent

# A clause this long found twice word for word is one text posted twice, not two learners agreeing.
COPIED_CLAUSE_TOKENS = 8


def _phrase(a: str, b: str) -> str:
    """Two adjacent words as a reader writes them: Chinese joined, with a space next to Latin."""
    return f"{a} {b}" if a[-1:].isascii() or b[:1].isascii() else a + b


def _displayable(term: str, stopwords: frozenset[str]) -> bool:
    """A keyword a person reads as a theme: two or more characters, no digits, not a generic word."""
    return len(term) >= 2 and not any(char.isdigit() for char in term) and term not in stopwords


@dataclass(frozen=True)
class KeywordTerms:
    """The displayable terms (words and two-word phrases) of every complaint clause, flat: entry i says
    clause `clause[i]` holds term `column[i]` (each term once per clause). Computed once per run."""

    names: list[str]
    clause: np.ndarray
    column: np.ndarray


def keyword_terms(
    found: ComplaintClauses,
    stopwords: frozenset[str],
    ids: np.ndarray,
    owner: np.ndarray,
    vocabulary: dict[str, int],
) -> KeywordTerms:
    """The displayable terms of every complaint clause. ids, owner: the column of every token of the
    clauses in order and its clause (terms.token_ids of found.tokens, which grew `vocabulary` from
    empty); the two-word phrases are found on those integers, so no Python runs per clause or per word (a
    run has hundreds of thousands of complaint clauses)."""
    names: list[str] = []
    term_ids: dict[str, int] = {}

    def term_id(term: str) -> int:
        if not _displayable(term, stopwords):
            return -1
        if term not in term_ids:
            term_ids[term] = len(names)
            names.append(term)
        return term_ids[term]

    words = list(vocabulary)  # by column
    word_terms = np.fromiter(map(term_id, words), dtype=np.int64, count=len(words))
    # A phrase of two real words ("声音 太小"); single characters glue into nonsense ("助教找").
    phrasable = np.fromiter((len(word) >= 2 and word not in stopwords for word in words), dtype=bool)
    first, second, pair_owner = adjacent(ids, owner)
    both = phrasable[first] & phrasable[second] if len(words) else np.zeros(0, dtype=bool)
    first, second, pair_owner = first[both], second[both], pair_owner[both]
    pairs, seen_at, pair_of = np.unique(first * len(words) + second, return_index=True, return_inverse=True)
    pair_terms = np.full(len(pairs), -1, dtype=np.int64)
    for pair in np.argsort(seen_at, kind="stable").tolist():  # first-seen order, as the words
        a, b = divmod(int(pairs[pair]), len(words))
        pair_terms[pair] = term_id(_phrase(words[a], words[b]))
    clauses = np.concatenate([owner, pair_owner])
    columns = np.concatenate([word_terms[ids], pair_terms[pair_of]])
    known = columns >= 0
    # Each term once per clause (a phrase may also be a word of the dictionary).
    present = sparse.csr_matrix(
        (np.ones(int(known.sum())), (clauses[known], columns[known])), shape=(len(found), len(names))
    )
    present.sum_duplicates()
    return KeywordTerms(names, _row_of_entries(present), present.indices.astype(np.int64))


def _row_of_entries(matrix: sparse.csr_matrix) -> np.ndarray:
    """The row of each stored entry of a CSR matrix."""
    return np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))


def describe(
    groups: Sequence[SignalGroup],
    found: ComplaintClauses,
    review_clause: np.ndarray,
    matrix: sparse.csr_matrix,
    terms: KeywordTerms,
    params: Parameters,
    *,
    quotes: bool = True,
) -> None:
    """Each group's c-TF-IDF keywords (words and two-word phrases) against the other groups and the
    unassigned complaints, and (with `quotes`) its representative quotes."""
    if not groups:
        return
    m = len(found)
    clause_group = np.full(m, len(groups), dtype=np.int64)  # last class: unassigned complaint clauses
    for g, group in enumerate(groups):
        # A text pasted under several courses is one voice: a group counts a long clause it holds twice
        # once, so the words of one rant posted twice (an address, a name) never become its keywords. Short
        # ones ("不够 详细") are different learners saying the same.
        seen: set[tuple[str, ...]] = set()
        for r in group.members:
            clause = int(review_clause[r])
            tokens = found.tokens[clause]
            if len(tokens) < COPIED_CLAUSE_TOKENS:
                clause_group[clause] = g
                continue
            clause_group[clause] = -1 if tokens in seen else g
            seen.add(tokens)
    names = terms.names
    if not names:
        return
    owner = clause_group[terms.clause]
    # A review's clauses together, unassigned: counted clause by clause already.
    counted = ~(found.whole[terms.clause] & (owner == len(groups))) & (owner >= 0)
    # clauses of each group (and of the unassigned complaints) holding each term
    table = np.zeros((len(groups) + 1, len(names)))
    np.add.at(table, (owner[counted], terms.column[counted]), 1)
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
    members: Sequence[int], similarity: np.ndarray, found: ComplaintClauses, rows: np.ndarray, count: int
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
    weights: np.ndarray = tf * idf
    return weights


def keyword_overlap(keywords: Sequence[tuple[str, float]], terms: Iterable[str]) -> float:
    """Share of a cluster's keyword weight that falls on `terms`."""
    term_set = set(terms)
    total = sum(weight for _term, weight in keywords)
    if total <= 0:
        return 0.0
    return sum(weight for term, weight in keywords if term in term_set) / total


def merge_alike(groups: list[SignalGroup]) -> list[SignalGroup]:
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


def match_known(
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
