"""Heuristics that send a suspicious new review to the moderation queue instead of the public rating.

Pure functions on plain data (no Django): reviews.services gathers the recent reviews and calls `screen()`.

Rules (thresholds in `Rules`):
- near_duplicate: the text is nearly the same as another recent review, by any account (Jaccard similarity of
  character shingles after normalisation ≥ `duplicate_similarity`). Short texts ("好课，推荐") are left alone:
  many honest learners write them.
- new_account_burst: a new account (younger than `new_account_days`) reviews a course of an instructor who got
  at least `burst_min_reviews` reviews from new accounts (this one included) within `burst_window_minutes`.
- review_spree: the author wrote at least `spree_min_courses` reviews (this one included) within
  `spree_window_minutes`.
- suspected_spam: the noise gate (reviews/noise.py) finds a contact number, a link to another site or
  keyboard mash in the text.
- personal_data: the text holds someone's phone number, QQ / WeChat id, e-mail address or ID card number
  (reviews/pii.py). Held so the author can take it out; if published anyway, others see it masked.
- resubmitted_after_moderation (reviews.services): the author deleted a held or hidden review of the same
  course and wrote a new one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from reviews import noise, pii

NEAR_DUPLICATE = "near_duplicate"
NEW_ACCOUNT_BURST = "new_account_burst"
REVIEW_SPREE = "review_spree"
SUSPECTED_SPAM = "suspected_spam"
PERSONAL_DATA = "personal_data"
# Noise that a moderator should see; content-free text ("好好好") is only kept out of the analysis.
_SPAM_KINDS = frozenset((noise.CONTACT, noise.LINK, noise.MASH))
# Set by reviews.services, not by screen(): the author deleted a held or hidden review of this course before.
RESUBMITTED = "resubmitted_after_moderation"

_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


@dataclass(frozen=True)
class Rules:
    duplicate_similarity: float = 0.7
    duplicate_min_chars: int = 20
    shingle_size: int = 3
    lookback_days: int = 30
    new_account_days: int = 7
    burst_window_minutes: int = 60
    burst_min_reviews: int = 3
    spree_window_minutes: int = 10
    spree_min_courses: int = 3


@dataclass(frozen=True)
class RecentReview:
    """Another review the new one is compared with."""

    id: int
    author_id: int | None
    text: str
    created_at: datetime
    instructor_ids: frozenset[int] = frozenset()
    author_joined_at: datetime | None = None


@dataclass(frozen=True)
class Candidate:
    """The review being screened."""

    author_id: int
    author_joined_at: datetime
    text: str
    instructor_ids: frozenset[int]
    now: datetime


@dataclass(frozen=True)
class Finding:
    rule: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    findings: tuple[Finding, ...] = ()

    @property
    def suspicious(self) -> bool:
        return bool(self.findings)

    @property
    def rules(self) -> list[str]:
        return [finding.rule for finding in self.findings]


def normalise(text: str) -> str:
    """NFKC (full-width → half-width), lower case, no whitespace or punctuation: what a copy keeps."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).lower())


def shingles(text: str, size: int = 3) -> frozenset[str]:
    compact = normalise(text)
    if len(compact) <= size:
        return frozenset([compact]) if compact else frozenset()
    return frozenset(compact[i : i + size] for i in range(len(compact) - size + 1))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard similarity of two shingle sets (0 for two empty sets)."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def most_similar(
    text: str, others: Iterable[RecentReview], rules: Rules = Rules()
) -> tuple[RecentReview | None, float]:
    """The recent review whose text is closest to `text`, and the similarity."""
    mine = shingles(text, rules.shingle_size)
    best, best_score = None, 0.0
    for other in others:
        score = similarity(mine, shingles(other.text, rules.shingle_size))
        if score > best_score:
            best, best_score = other, score
    return best, best_score


def _is_new(joined_at: datetime | None, now: datetime, rules: Rules) -> bool:
    return joined_at is not None and now - joined_at < timedelta(days=rules.new_account_days)


def screen(candidate: Candidate, recent: Sequence[RecentReview], rules: Rules = Rules()) -> Verdict:
    """Check a new review against the recent reviews (every account, every status, not the review itself)."""
    findings: list[Finding] = []
    now = candidate.now

    spam = noise.screen(candidate.text)
    if spam is not None and spam.kind in _SPAM_KINDS:
        evidence = pii.mask(spam.evidence[:80])
        findings.append(Finding(SUSPECTED_SPAM, {"kind": spam.kind, "evidence": evidence}))

    personal = pii.find(candidate.text)
    if personal:
        # The finding is stored in the moderation log: it keeps the masked form, never the number itself.
        masked = pii.mask(candidate.text)
        findings.append(
            Finding(
                PERSONAL_DATA,
                {
                    "kinds": [kind for kind in pii.KINDS if any(m.kind == kind for m in personal)],
                    "evidence": [masked[m.start : m.end] for m in personal][:5],
                },
            )
        )

    if len(normalise(candidate.text)) >= rules.duplicate_min_chars:
        window = now - timedelta(days=rules.lookback_days)
        match, score = most_similar(candidate.text, (r for r in recent if r.created_at >= window), rules)
        if match is not None and score >= rules.duplicate_similarity:
            findings.append(
                Finding(
                    NEAR_DUPLICATE,
                    {
                        "review_id": match.id,
                        "similarity": round(score, 3),
                        "same_author": match.author_id == candidate.author_id,
                    },
                )
            )

    if _is_new(candidate.author_joined_at, now, rules) and candidate.instructor_ids:
        since = now - timedelta(minutes=rules.burst_window_minutes)
        burst = [
            r
            for r in recent
            if r.created_at >= since
            and r.instructor_ids & candidate.instructor_ids
            and _is_new(r.author_joined_at, r.created_at, rules)
        ]
        if len(burst) + 1 >= rules.burst_min_reviews:
            findings.append(
                Finding(
                    NEW_ACCOUNT_BURST,
                    {
                        "reviews": len(burst) + 1,
                        "minutes": rules.burst_window_minutes,
                        "review_ids": sorted(r.id for r in burst),
                    },
                )
            )

    since = now - timedelta(minutes=rules.spree_window_minutes)
    own = [r for r in recent if r.author_id == candidate.author_id and r.created_at >= since]
    if len(own) + 1 >= rules.spree_min_courses:
        findings.append(
            Finding(
                REVIEW_SPREE,
                {
                    "reviews": len(own) + 1,
                    "minutes": rules.spree_window_minutes,
                    "review_ids": sorted(r.id for r in own),
                },
            )
        )

    return Verdict(tuple(findings))
