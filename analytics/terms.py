"""Token ids: the tokens of many documents (clauses, reviews) as integer arrays, and sparse matrices of
them. Imports no Django.

A run reads millions of tokens: each is looked up once, in C (a map over a dict), and what is built from
them — word counts, word pairs, co-occurrences — is then computed on integers, not on strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import chain, repeat

import numpy as np
from scipy import sparse


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
        ids = lookup(flat, vocabulary, total)
    return ids, np.repeat(np.arange(len(docs), dtype=np.int64), lengths)


def lookup(tokens: Iterable[str], vocabulary: Mapping[str, int], count: int) -> np.ndarray:
    """The column of each of `count` tokens in `vocabulary` (-1: not in it), looked up in C."""
    return np.fromiter(map(vocabulary.get, tokens, repeat(-1)), dtype=np.int64, count=count)


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
