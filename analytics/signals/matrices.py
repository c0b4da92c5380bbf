"""Sparse term matrices: token ids, counts, IDF and TF-IDF over documents given as tokens."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain, repeat

import numpy as np
from scipy import sparse
from sklearn.preprocessing import normalize


class Vocabulary(dict[str, int]):
    """term → column; looking up a new term gives it the next column (first-seen order)."""

    def __missing__(self, term: str) -> int:
        column = self[term] = len(self)
        return column


def token_ids(
    docs: Sequence[Sequence[str]], vocabulary: dict[str, int], *, grow: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The column of every token of the documents, in order (-1: not in `vocabulary`; grow=True adds new
    terms instead), and the index of its document. Each token is looked up once, in C (a map over a dict):
    no Python per token. Word pairs are then found on these integers (adjacent entries of one document),
    not built as strings. This is on the path of every run over every clause."""
    lengths = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
    flat = chain.from_iterable(docs)
    total = int(lengths.sum())
    if grow:
        growing = Vocabulary(vocabulary)
        ids = np.fromiter(map(growing.__getitem__, flat), dtype=np.int64, count=total)
        vocabulary.update(growing)
    else:
        ids = np.fromiter(map(vocabulary.get, flat, repeat(-1)), dtype=np.int64, count=total)
    return ids, np.repeat(np.arange(len(docs), dtype=np.int64), lengths)


def adjacent(ids: np.ndarray, owner: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(first, second, document) of each pair of adjacent known tokens within one document."""
    both = (owner[1:] == owner[:-1]) & (ids[1:] >= 0) & (ids[:-1] >= 0)
    return ids[:-1][both], ids[1:][both], owner[1:][both]


def entry_matrix(rows: np.ndarray, columns: np.ndarray, shape: tuple[int, int]) -> sparse.csr_matrix:
    """Counts of (row, column) entries as CSR (entries with column -1 are dropped)."""
    known = columns >= 0
    if not known.all():
        rows, columns = rows[known], columns[known]
    counts = sparse.csr_matrix((np.ones(len(columns)), (rows, columns)), shape=shape)
    counts.sum_duplicates()
    return counts


def count_matrix(docs: Sequence[str], vocabulary: dict[str, int], *, grow: bool) -> sparse.csr_matrix:
    """Term counts as CSR of documents given as their tokens joined by single spaces (as the token cache
    stores them; "" for none). With grow=True unseen terms are added to `vocabulary`; else ignored."""
    ids, owner = token_ids([doc.split(" ") if doc else () for doc in docs], vocabulary, grow=grow)
    return entry_matrix(owner, ids, (len(docs), len(vocabulary)))


def idf_weights(counts: sparse.csr_matrix) -> np.ndarray:
    """Smoothed IDF as in scikit-learn: ln((1 + n) / (1 + df)) + 1."""
    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    idf: np.ndarray = np.log((1.0 + n) / (1.0 + df)) + 1.0
    return idf


def tfidf(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """Sublinear TF × IDF, rows L2-normalised."""
    if 0 in counts.shape:
        return sparse.csr_matrix(counts.shape, dtype=np.float64)
    weighted = counts.tocsr(copy=True)
    weighted.data = (1.0 + np.log(weighted.data)) * idf[weighted.indices]
    return normalize(weighted, copy=False)
