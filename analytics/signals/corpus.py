"""The complaint clauses of a corpus, flattened from each review's packed clauses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

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
    """The complaint clauses of reviews given packed (analytics.clauses), punctuation dropped, each review's
    followed by all of them together when it has several; and whether each review has one."""
    owners: list[int] = []
    tokens: list[tuple[str, ...]] = []
    whole: list[bool] = []
    complaint = np.zeros(len(packed), dtype=bool)
    no_punctuation = PUNCTUATION.isdisjoint
    for index, review in enumerate(packed):
        if clause_format.COMPLAINT_MARK not in review:  # most reviews
            continue
        parts = []
        for found in clause_format.complaint_tokens(review):
            content = tuple(found if no_punctuation(found) else (t for t in found if t not in PUNCTUATION))
            if content:
                parts.append(content)
        if not parts:
            continue
        complaint[index] = True
        owners.extend([index] * len(parts))
        tokens.extend(parts)
        whole.extend([False] * len(parts))
        if len(parts) > 1:
            owners.append(index)
            tokens.append(tuple(chain.from_iterable(parts)))
            whole.append(True)
    return (
        ComplaintClauses(np.asarray(owners, dtype=np.int64), tokens, np.asarray(whole, dtype=bool)),
        complaint,
    )
