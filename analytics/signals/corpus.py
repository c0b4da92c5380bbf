"""The complaint clauses of a corpus, flattened from each review's packed clauses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analytics import clauses as clause_format
from analytics.signals.spec import PUNCTUATION


@dataclass
class ComplaintClauses:
    """The complaint clauses of a corpus, flattened: one entry per clause."""

    review: np.ndarray  # review index of each clause
    tokens: list[tuple[str, ...]]
    # A review's complaint clauses together, for the defined signals only: a learner may spread what a seed
    # phrase says over two clauses ("没有超时，也没有重试"); such units never enter discovery.
    whole: np.ndarray

    def __len__(self) -> int:
        return len(self.tokens)

    def text(self, clause: int) -> str:
        """The clause's content tokens joined by spaces (as a signal's members show them)."""
        return " ".join(self.tokens[clause])


def complaint_clauses(packed: Sequence[str]) -> tuple[ComplaintClauses, np.ndarray]:
    owners: list[int] = []
    tokens: list[tuple[str, ...]] = []
    whole: list[bool] = []
    complaint = np.zeros(len(packed), dtype=bool)
    # Most reviews have no complaint clause: only the others are read, as one batch.
    picked = [index for index, review in enumerate(packed) if clause_format.COMPLAINT_MARK in review]
    batch = clause_format.read([packed[index] for index in picked])
    words = batch.tokens
    starts = batch.markers.tolist()
    # A review starts with a marker: a clause ends where the next one starts.
    ends = [*starts[1:], len(words)] if starts else []
    reviews = batch.clause_reviews.tolist()
    no_punctuation = PUNCTUATION.isdisjoint
    current, parts = -1, list[tuple[str, ...]]()
    for start, end, review in zip(starts, ends, reviews, strict=True):
        if review != current:
            _add(picked[current] if current >= 0 else -1, parts, owners, tokens, whole, complaint)
            current, parts = review, []
        if words[start][0] != clause_format.COMPLAINT_MARK or end == start + 1:
            continue
        found = words[start + 1 : end]
        content = tuple(found) if no_punctuation(found) else tuple(t for t in found if t not in PUNCTUATION)
        if content:
            parts.append(content)
    _add(picked[current] if current >= 0 else -1, parts, owners, tokens, whole, complaint)
    return (
        ComplaintClauses(np.asarray(owners, dtype=np.int64), tokens, np.asarray(whole, dtype=bool)),
        complaint,
    )


def _add(
    index: int,
    parts: list[tuple[str, ...]],
    owners: list[int],
    tokens: list[tuple[str, ...]],
    whole: list[bool],
    complaint: np.ndarray,
) -> None:
    """A review's complaint clauses, and all of them together when it has several."""
    if not parts:
        return
    complaint[index] = True
    owners.extend([index] * len(parts))
    tokens.extend(parts)
    whole.extend([False] * len(parts))
    if len(parts) > 1:
        owners.append(index)
        tokens.append(tuple(token for content in parts for token in content))
        whole.append(True)
