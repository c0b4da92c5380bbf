"""Failure-signal extraction over complaint clauses: guided assignment, discovery, keywords, report.

Pure maths on plain lists (no Django), so it is tested and benchmarked alone. The unit is the complaint
clause (analytics.clauses, decided by analytics.complaints): "讲得好，但是声音太小" is about the sound, not
about the teaching. The pipeline:

1. Guided assignment: each defined signal's seed phrases (and terms learned from confirmed members) score
   the complaint clauses of the courses the signal is scoped to; a clause takes a signal only when one of its
   seed phrases occurs in it and its share of the clause's TF-IDF mass reaches the threshold.
2. Discovery: the complaint clauses left over are placed by word vectors learned from the platform's own
   reviews (analytics.embeddings) and grouped by k-means (fixed seed) into more groups than wanted; a
   clause far from its group's centre stays unassigned, a group whose members do not agree (low
   coherence) is dropped whole, groups that say the same thing are merged, and no group may hold more than
   `max_share` of the assigned complaints: what fits nowhere stays unassigned, there is no catch-all. Each
   defined signal is a core too, placed where the clauses its seeds took lie (within its scope): a clause
   saying the same in other words joins it, and a group alike it is that signal, not a new theme. A
   defined signal thus takes what its seeds say, or what lies as close to it as a group's members to theirs.
   Only clauses whose own words make a complaint likely enough (`discovery_evidence`, from the complaint
   model, the rating aside) take part: a new theme has no seed phrase to vouch for it.
3. A review belongs to the signal of its best complaint clause. Each signal gets c-TF-IDF keywords (words
   and two-word phrases a person reads as the theme; no single characters, numbers or one-off words) and
   representative quotes with the complaint clause to highlight.
4. A new cluster whose keywords match an earlier candidate or a dismissed signal keeps its identity, so a
   recurring complaint keeps one key across runs.
5. The report gives shares overall, per course, per instructor, per month (undated reviews are counted,
   not placed), and the rating lift.

Everything is deterministic for a given input order and parameters (fixed random states).

The package, by concern: spec (definitions and parameters), corpus (the complaint clauses), matrices
(TF-IDF), guided, discovery, describe (keywords, quotes, identity), assigner (one new review), report,
results (what a run produces) and extract (the pipeline end to end).
"""

from analytics.signals.assigner import assign_one
from analytics.signals.describe import keyword_overlap
from analytics.signals.extract import ProgressCallback, extract
from analytics.signals.matrices import count_matrix, idf_weights, tfidf
from analytics.signals.report import Report, SignalSummary, summarise
from analytics.signals.results import (
    Assigner,
    DiscoveredAssigner,
    ExtractionResult,
    Focus,
    GuidedAssigner,
    RunCounts,
    SignalGroup,
)
from analytics.signals.spec import Parameters, SignalSpec, in_scope, seed_phrases

__all__ = [
    "Assigner",
    "DiscoveredAssigner",
    "ExtractionResult",
    "Focus",
    "GuidedAssigner",
    "Parameters",
    "ProgressCallback",
    "Report",
    "RunCounts",
    "SignalGroup",
    "SignalSpec",
    "SignalSummary",
    "assign_one",
    "count_matrix",
    "extract",
    "idf_weights",
    "in_scope",
    "keyword_overlap",
    "seed_phrases",
    "summarise",
    "tfidf",
]
