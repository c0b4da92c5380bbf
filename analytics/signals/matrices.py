"""Sparse term matrices: counts, IDF and TF-IDF over documents given as space-joined tokens."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat

import numpy as np
from scipy import sparse
from sklearn.preprocessing import normalize


class _Vocabulary(dict[str, int]):
    """term → column; looking up a new term gives it the next column (first-seen order)."""

    def __missing__(self, term: str) -> int:
        column = self[term] = len(self)
        return column


def count_matrix(docs: Sequence[str], vocabulary: dict[str, int], *, grow: bool) -> sparse.csr_matrix:
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
    idf: np.ndarray = np.log((1.0 + n) / (1.0 + df)) + 1.0
    return idf


def tfidf(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """Sublinear TF × IDF, rows L2-normalised."""
    if 0 in counts.shape:
        return sparse.csr_matrix(counts.shape, dtype=np.float64)
    weighted = counts.tocsr(copy=True)
    weighted.data = (1.0 + np.log(weighted.data)) * idf[weighted.indices]
    return normalize(weighted, copy=False)
