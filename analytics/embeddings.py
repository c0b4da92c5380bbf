"""Word vectors learned from the platform's own reviews, and clause vectors built from them.
Imports no Django.

Complaints are short ("卡得一屁", "声音太小了", "字幕对不上"): two complaints about the same thing often share
no word, so clustering their word counts finds little. Word vectors learned from the deployment's own corpus
put "卡", "加载", "刷新" or "回复", "答疑", "讨论区" close together, and a clause becomes the weighted mean of
its words' vectors.

The vectors are the classic count-based ones: positive pointwise mutual information of words that occur
within a few words of each other, reduced by a truncated SVD (Levy & Goldberg showed this matches
word2vec's skip-gram on small corpora). It is deterministic for a seed, takes a few seconds on 100k reviews
with scikit-learn, and needs nothing downloaded. A clause vector is the smooth-inverse-frequency weighted
mean of its word vectors with the corpus's common direction removed (Arora et al.), so frequent words
("老师", "课程") weigh little and a clause is placed by the words that say what it is about.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, repeat

import numpy as np
from scipy import sparse
from sklearn.decomposition import TruncatedSVD

from analytics.blocks import row_blocks
from analytics.terms import entry_matrix, token_ids

WINDOW = 4
MIN_COUNT = 5
DIMENSIONS = 100
MIN_DIMENSIONS = 8
COMMON_SAMPLE = 5000
SIF_A = 1e-3
# Context distribution smoothing (Levy, Goldberg & Dagan 2015): rare contexts get less inflated PMI.
CONTEXT_POWER = 0.75


@dataclass
class WordVectors:
    words: list[str]
    vectors: np.ndarray  # float32, one unit row per word
    frequency: np.ndarray  # share of documents that use each word
    common: np.ndarray  # the corpus's first principal direction of clause vectors (removed from each)

    def __post_init__(self) -> None:
        self.index = {word: i for i, word in enumerate(self.words)}
        self.weight = (SIF_A / (SIF_A + self.frequency)).astype(np.float32)

    def __len__(self) -> int:
        return len(self.words)

    def embed(
        self,
        clauses: Sequence[Sequence[str]],
        *,
        weight: np.ndarray | None = None,
        common: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Unit vectors of the clauses (rows), and whether each had a known word (else its row is zero).

        weight (per word) and common (a unit direction to remove) default to the corpus's own."""
        weight = self.weight if weight is None else weight
        common = self.common if common is None else common
        rows, cols = self._entries(clauses)
        mix = sparse.csr_matrix(
            (weight[cols], (rows, cols)), shape=(len(clauses), len(self.words)), dtype=np.float32
        )
        out = np.asarray(mix @ self.vectors, dtype=np.float32)
        known = np.asarray(mix.getnnz(axis=1) > 0)
        for block in row_blocks(len(out)):
            part = out[block]
            if len(common):
                part -= np.outer(part @ common, common)
            norms = np.linalg.norm(part, axis=1)
            found = known[block] & (norms > 1e-9)
            part[found] /= norms[found, None]
            part[~found] = 0.0
            known[block] = found
        return out, known

    def focused(self, clauses: Sequence[Sequence[str]], *, smoothing: float) -> tuple[np.ndarray, np.ndarray]:
        """Word weights and common direction for a subset of texts (e.g. the complaints): words frequent
        *within* the subset ("太", "没有", "垃圾" among complaints) say how, not what, and weigh little."""
        rows, cols = self._entries(clauses)
        present = sparse.csr_matrix(
            (np.ones(len(cols), dtype=np.float32), (rows, cols)), shape=(len(clauses), len(self.words))
        )
        present.sum_duplicates()  # each word once per clause
        frequency = np.bincount(present.indices, minlength=len(self.words)) / max(len(clauses), 1)
        weight = (smoothing / (smoothing + frequency)).astype(np.float32)
        # The common direction from an even sample: a full SVD of 100k clause vectors costs seconds.
        step = max(1, len(clauses) // COMMON_SAMPLE)
        embedded, known = self.embed(clauses[::step], weight=weight, common=np.zeros(0, dtype=np.float32))
        common = np.zeros(0, dtype=np.float32)
        if known.sum() > 2:
            _, _, components = np.linalg.svd(embedded[known], full_matrices=False)
            common = components[0].astype(np.float32)
        return weight, common

    def _entries(self, clauses: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """(clause, word column) of every known token of the clauses, found in C (a run reads millions)."""
        lengths = np.fromiter(map(len, clauses), dtype=np.int64, count=len(clauses))
        tokens = chain.from_iterable(clauses)
        cols = np.fromiter(map(self.index.get, tokens, repeat(-1)), dtype=np.int64, count=int(lengths.sum()))
        rows = np.repeat(np.arange(len(clauses), dtype=np.int64), lengths)
        known = cols >= 0
        return rows[known], cols[known]

    def focus_arrays(
        self, weights: Mapping[str, float], common: Sequence[float]
    ) -> tuple[np.ndarray, np.ndarray]:
        """The word-weight array and common direction of a stored focus (words not listed weigh 1)."""
        weight = np.ones(len(self.words), dtype=np.float32)
        for word, value in weights.items():
            column = self.index.get(word)
            if column is not None:
                weight[column] = value
        return weight, np.asarray(common, dtype=np.float32)

    def as_arrays(self) -> dict[str, np.ndarray]:
        return {
            "words": np.asarray(self.words, dtype=np.str_),
            "vectors": self.vectors.astype(np.float16),
            "frequency": self.frequency.astype(np.float32),
            "common": self.common.astype(np.float32),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> WordVectors:
        return cls(
            words=[str(word) for word in arrays["words"].tolist()],
            vectors=arrays["vectors"].astype(np.float32),
            frequency=arrays["frequency"].astype(np.float32),
            common=arrays["common"].astype(np.float32),
        )


def train(
    documents: Iterable[Sequence[str]],
    *,
    dimensions: int = DIMENSIONS,
    window: int = WINDOW,
    min_count: int = MIN_COUNT,
    seed: int = 0,
) -> WordVectors:
    """Learn word vectors from documents (each a sequence of content tokens; clause markers already removed).

    Raises ValueError when the corpus is too small to learn anything (fewer words than dimensions).
    """
    docs = [list(doc) for doc in documents]
    seen: dict[str, int] = {}
    first_ids, owner = token_ids(docs, seen, grow=True)
    document_count = np.bincount(entry_matrix(owner, first_ids, (len(docs), len(seen))).indices)
    names = list(seen)
    words = sorted(names[i] for i in np.flatnonzero(document_count >= min_count).tolist())
    # A small corpus (a new site, the demo) gets fewer dimensions rather than none.
    dimensions = min(dimensions, len(words) // 4)
    if dimensions < MIN_DIMENSIONS:
        raise ValueError(f"too few distinct words ({len(words)}) to learn word vectors")
    # Every word id of the corpus in one array, with its document: the pairs within `window` words of each
    # other in the same document, found by shifting the array (no Python loop per word).
    kept = np.fromiter(
        map(seen.__getitem__, words), dtype=np.int64, count=len(words)
    )  # first-seen id of each
    column = np.full(len(seen), -1, dtype=np.int64)
    column[kept] = np.arange(len(words))
    ids = column[first_ids]
    known = ids >= 0
    ids, owner = ids[known], owner[known]
    left_parts, right_parts = [], []
    for shift in range(1, window + 1):
        same = owner[shift:] == owner[:-shift]
        left_parts.append(ids[shift:][same])
        right_parts.append(ids[:-shift][same])
    left = np.concatenate(left_parts) if left_parts else np.zeros(0, dtype=np.int64)
    right = np.concatenate(right_parts) if right_parts else np.zeros(0, dtype=np.int64)
    size = len(words)
    pairs = sparse.coo_matrix(
        (np.ones(len(left), dtype=np.float32), (left, right)), shape=(size, size)
    ).tocsr()
    pairs = (pairs + pairs.T).tocoo()
    total = pairs.sum()
    word_totals = np.asarray(pairs.sum(axis=1)).ravel()
    context = word_totals**CONTEXT_POWER
    context /= context.sum()
    pmi = np.log(pairs.data / total / (word_totals[pairs.row] / total) / context[pairs.col])
    positive = pmi > 0
    ppmi = sparse.csr_matrix((pmi[positive], (pairs.row[positive], pairs.col[positive])), shape=(size, size))
    svd = TruncatedSVD(dimensions, algorithm="randomized", n_iter=5, random_state=seed)
    reduced = svd.fit_transform(ppmi)
    # Weighting by the square root of the singular values (not their full value) gives better similarities.
    reduced /= np.sqrt(np.maximum(svd.singular_values_, 1e-9))[None, :]
    reduced /= np.maximum(np.linalg.norm(reduced, axis=1, keepdims=True), 1e-9)
    frequency = document_count[kept].astype(np.float64) / max(len(docs), 1)
    vectors = WordVectors(
        words=words,
        # Stored as float16 (half the size): keep exactly what a stored copy will read back, so a run with
        # freshly learned vectors and the next run with stored ones give the same result.
        vectors=reduced.astype(np.float16).astype(np.float32),
        frequency=frequency.astype(np.float32),
        common=np.zeros(0, dtype=np.float32),
    )
    # The common direction of the corpus's documents (a seeded sample of them).
    rng = np.random.default_rng(seed)
    sample = [
        docs[i] for i in sorted(rng.choice(len(docs), min(len(docs), COMMON_SAMPLE), replace=False).tolist())
    ]
    embedded, known = vectors.embed(sample)
    if known.sum() > 2:
        _, _, components = np.linalg.svd(embedded[known], full_matrices=False)
        vectors.common = components[0].astype(np.float32)
    return vectors
