"""What a run produces: the signals it found, its counts, and the assigner a new review is placed with
(stored as JSON, so its parts are TypedDicts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NotRequired, TypedDict

import numpy as np


class RunCounts(TypedDict, total=False):
    reviews: int
    complaints: int  # reviews with at least one complaint clause
    complaint_clauses: int
    assigned: int
    unassigned: int
    signals: int
    discovered: int


class GuidedAssigner(TypedDict):
    group: int
    phrases: list[list[str]]
    learned: dict[str, float]
    centroid: dict[str, float]
    scope: list[str]  # course tags (lowercase); empty: every course


class DiscoveredAssigner(TypedDict):
    """A group placed by word vectors: a discovered one, or a defined one by where its seeds' clauses lie."""

    group: int
    centroid: list[float]
    threshold: float
    scope: NotRequired[list[str]]  # a defined signal's course tags; absent or empty: every course


class Focus(TypedDict):
    """How discovery weighed words: the weight of each word frequent among the complaints (others weigh 1)
    and the complaints' common direction, removed from every clause vector."""

    weights: dict[str, float]
    common: list[float]


class Assigner(TypedDict):
    version: int
    idf: dict[str, float]
    default_idf: float
    threshold: float
    refine_weight: float
    guided: list[GuidedAssigner]
    discovered: list[DiscoveredAssigner]
    focus: Focus
    # The complaint evidence (log-odds) a clause needs to join a group by meaning; absent: any clause.
    evidence_bar: NotRequired[float]


@dataclass
class SignalGroup:
    """One signal found by a run: a guided signal or a discovered cluster."""

    key: str | None  # the definition's key; None for a new discovery
    members: list[int]  # review indices
    scores: list[float]
    discovered: bool
    keywords: list[tuple[str, float]] = field(default_factory=list)
    representatives: list[int] = field(default_factory=list)
    # review index → the complaint clause (content tokens joined by spaces) that put it here, for quotes
    clauses: dict[int, str] = field(default_factory=dict)
    # Where the group lies in the word-vector space (a unit vector; a defined signal's from its seed-matched
    # clauses), and the similarity to it a new clause needs to join.
    centroid: list[float] = field(default_factory=list)
    similarity_floor: float = 0.0


@dataclass
class ExtractionResult:
    complaint: np.ndarray  # bool per review: has a complaint clause
    groups: list[SignalGroup]
    unassigned: list[int]  # complaining reviews in no signal
    assigner: Assigner
    counts: RunCounts
