"""What a run produces: the signals it found, its counts, and the assigner a new review is placed with
(stored as JSON, so its parts are TypedDicts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypedDict

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
    group: int
    centroid: list[float]
    threshold: float


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
    centroid: list[float] = field(default_factory=list)  # discovered: unit vector in the word-vector space
    similarity_floor: float = 0.0  # a new clause this similar to the centroid joins (discovered signals)


@dataclass
class ExtractionResult:
    complaint: np.ndarray  # bool per review: has a complaint clause
    groups: list[SignalGroup]
    unassigned: list[int]  # complaining reviews in no signal
    assigner: Assigner
    counts: RunCounts
