"""What a run is asked to do: the signal definitions, the run's parameters, and how seed terms and
course scopes are read."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Tokens that are punctuation: never features of a signal.
PUNCTUATION = frozenset(",.;:!?()[]{}\"'`~@#$%^&*-_=+|\\/<>，。；：！？、…—“”‘’《》【】（）「」『』·")


@dataclass(frozen=True)
class SignalSpec:
    """A signal definition as the pipeline sees it.

    guided: assign complaint clauses by its terms (seeded and confirmed signals). A non-guided spec is an
    earlier discovered candidate (or a dismissed signal): it only lends its identity to a new cluster whose
    keywords overlap it.
    terms: seed phrases, each already segmented into content tokens (("没有", "超时"), ("gopath",)).
    learned: vocabulary learned from confirmed members (term → weight 0..1).
    courses: the courses whose reviews it may take (None: every course); scope: the course tags that
    define them (lowercase), which the incremental assigner checks for courses created after the run.
    """

    key: str
    terms: Sequence[Sequence[str]] = ()
    learned: Mapping[str, float] = field(default_factory=dict)
    guided: bool = True
    courses: frozenset[Hashable] | None = None
    scope: tuple[str, ...] = ()


@dataclass(frozen=True)
class Parameters:
    seed: int = 0
    # Guided assignment: minimum share of a clause's TF-IDF mass on a signal's terms.
    assign_threshold: float = 0.2
    refine_weight: float = 0.5
    learned_weight: float = 0.5
    # Discovery: k-means into `discovery_clusters` groups; a group's core is its members at least
    # `member_similarity` to its centre, kept when they agree (mean similarity ≥ `min_coherence`); cores at
    # least `merge_similarity` alike merge; the largest `max_clusters` cores then take every clause at least
    # `join_similarity` to them. Word weights come from the complaints themselves (`focus_smoothing`).
    discovery_clusters: int = 48
    discovery_sample: int = 10000
    focus_smoothing: float = 0.01
    member_similarity: float = 0.4
    min_coherence: float = 0.5
    merge_similarity: float = 0.75
    join_similarity: float = 0.35
    # Discovery takes only the complaint clauses whose words alone make a complaint at least this likely
    # (the complaint model's evidence, rating aside): a new theme has no seed phrase to vouch for it, and
    # a low-star review's weak clauses (praise, chatter, filler) gathered into candidates of their own.
    discovery_evidence: float = 0.73
    min_cluster_size: int = 3
    min_cluster_share: float = 0.004
    max_clusters: int = 24
    max_share: float = 0.35
    keyword_count: int = 10
    quote_count: int = 5
    candidate_match_overlap: float = 0.3

    @property
    def evidence_bar(self) -> float:
        """The log-odds a clause's words must reach to join a discovery (discovery_evidence as log-odds)."""
        p = min(max(self.discovery_evidence, 1e-6), 1 - 1e-6)
        return math.log(p / (1 - p))

    @classmethod
    def from_mapping(cls, values: Mapping[str, object] | None) -> Parameters:
        """Parameters from a run's JSON; unknown keys or wrong types raise ValueError."""
        values = dict(values or {})
        known = {name: type(getattr(cls(), name)) for name in cls.__dataclass_fields__}
        # Each value is checked against its field's type above: mypy cannot follow that per name.
        kwargs: dict[str, Any] = {}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"unknown parameter {name!r}")
            expected = known[name]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number")
            if expected is int and not float(value).is_integer():
                raise ValueError(f"{name} must be a whole number")
            if value < 0:
                raise ValueError(f"{name} must not be negative")
            # Upper bounds keep a run from being queued that the worker cannot do: numpy seeds are 32-bit,
            # the float parameters are shares and similarities, and no count here needs millions.
            if expected is int and value > (2**32 - 1 if name == "seed" else 1_000_000):
                raise ValueError(f"{name} is too large")
            if expected is float and not value <= 1:
                raise ValueError(f"{name} must be between 0 and 1")
            kwargs[name] = expected(value)
        return cls(**kwargs)

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def in_scope(scope: Iterable[str], *, title: str, tags: Iterable[str]) -> bool:
    """Whether a course belongs to a signal's scope: one of its tags (name or slug) is a scope tag, or its
    title names one ("Go 高并发实战" for "go": imported courses carry no tags). Latin scope words match
    whole words only ("Gopher" is not "go"). An empty scope holds every course."""
    wanted = [tag.strip().lower() for tag in scope if tag.strip()]
    if not wanted:
        return True
    own = {tag.strip().lower() for tag in tags}
    lowered = title.lower()
    for tag in wanted:
        if tag in own:
            return True
        if tag.isascii():
            if re.search(rf"(?<![a-z0-9]){re.escape(tag)}(?![a-z0-9])", lowered):
                return True
        elif tag in lowered:
            return True
    return False


def seed_phrases(terms: Iterable[str], tokenize: Callable[[str], list[str]]) -> tuple[tuple[str, ...], ...]:
    """Seed terms as phrases of content tokens, segmented like the reviews.

    A term that keeps no word of two or more characters after stopwords are removed ("没做过" → "没")
    would match almost any complaint, so it is dropped.
    """
    phrases: dict[tuple[str, ...], None] = {}
    for term in terms:
        tokens = tuple(dict.fromkeys(token for token in tokenize(term) if token not in PUNCTUATION))
        if any(len(token) >= 2 for token in tokens):
            phrases[tokens] = None
    return tuple(phrases)
