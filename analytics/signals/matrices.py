"""Sparse term matrices: counts, IDF and TF-IDF over documents (token ids: analytics.terms)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.preprocessing import normalize

from analytics.terms import entry_matrix, token_ids


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
