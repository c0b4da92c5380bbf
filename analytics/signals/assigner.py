"""The incremental assigner: a run's compact JSON model, and one new review placed with it."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import cast

import numpy as np

from analytics.embeddings import WordVectors
from analytics.signals.guided import SCOPED_PREFERENCE, phrase_ids
from analytics.signals.results import Assigner, DiscoveredAssigner, Focus, GuidedAssigner, SignalGroup
from analytics.signals.spec import PUNCTUATION, Parameters, SignalSpec, in_scope


def assigner_payload(
    groups: Sequence[SignalGroup],
    guided: Sequence[SignalSpec],
    centroids: np.ndarray,
    vocabulary: Mapping[str, int],
    idf: np.ndarray,
    params: Parameters,
    focus: Focus,
) -> Assigner:
    """A compact JSON model that assigns one new review the way this run would have."""
    terms_by_index = {index: term for term, index in vocabulary.items()}
    spec_by_key = {spec.key: (s, spec) for s, spec in enumerate(guided)}
    guided_out: list[GuidedAssigner] = []
    discovered_out: list[DiscoveredAssigner] = []
    used_terms: set[str] = set()
    for g, group in enumerate(groups):
        if group.discovered:
            discovered_out.append(
                {"group": g, "centroid": group.centroid, "threshold": group.similarity_floor}
            )
            continue
        found = spec_by_key.get(group.key or "")
        if found is None:
            continue
        s, spec = found
        if group.centroid:
            # Where its seeds' clauses lie: a new clause in other words joins it as it would a discovery.
            discovered_out.append(
                {
                    "group": g,
                    "centroid": group.centroid,
                    "threshold": group.similarity_floor,
                    "scope": sorted(spec.scope),
                }
            )
        keep = np.argsort(-centroids[s], kind="stable")[:200]
        centroid = {
            str(terms_by_index[i]): round(float(centroids[s][i]), 5) for i in keep if centroids[s][i] > 0
        }
        phrases = [[str(terms_by_index[i]) for i in ids] for ids in phrase_ids(spec, vocabulary)]
        learned = {
            str(term): round(params.learned_weight * float(weight), 5)
            for term, weight in spec.learned.items()
            if term in vocabulary
        }
        guided_out.append(
            {
                "group": g,
                "phrases": phrases,
                "learned": learned,
                "scope": sorted(spec.scope),
                "centroid": centroid,
            }
        )
        used_terms.update(term for phrase in phrases for term in phrase)
        used_terms.update(learned, centroid)
    n = len(idf)
    return {
        "version": 2,
        "idf": {
            term: round(float(idf[vocabulary[term]]), 5) for term in sorted(used_terms) if term in vocabulary
        },
        "default_idf": round(float(math.log((1.0 + n) / 2.0) + 1.0), 5) if n else 1.0,
        "threshold": params.assign_threshold,
        "refine_weight": params.refine_weight,
        "guided": guided_out,
        "discovered": discovered_out,
        "focus": focus,
        "evidence_bar": round(params.evidence_bar, 5),
    }


def assign_one(
    assigner: Assigner | Mapping[str, object],
    complaint_clauses: Sequence[Sequence[str]],
    *,
    course_title: str = "",
    course_tags: Iterable[str] = (),
    vectors: WordVectors | None = None,
    evidence: Sequence[float] | None = None,
) -> tuple[int, float] | None:
    """(group index, score) for one review's complaint clauses under a run's assigner, or None.

    course_title, course_tags: the review's course (its tags' names and slugs), for scoped signals;
    evidence: each clause's complaint log-odds (ComplaintModel.log_odds), which decides whether it may join a
    group by meaning as it would in the run (None: it may)."""
    if not assigner or assigner.get("version") != 2 or not complaint_clauses:
        return None
    payload = cast(Assigner, assigner)
    tags = list(course_tags)
    idf = payload["idf"]
    default_idf = payload["default_idf"]
    best: tuple[int, float] | None = None
    best_rank: float | None = None
    for clause in complaint_clauses:
        counts = Counter(token for token in clause if token not in PUNCTUATION)
        if not counts:
            continue
        vector = {
            term: (1.0 + math.log(count)) * idf.get(term, default_idf) for term, count in counts.items()
        }
        norm = math.sqrt(sum(value * value for value in vector.values()))
        vector = {term: value / norm for term, value in vector.items()}
        for signal in payload["guided"]:
            if not in_scope(signal["scope"], title=course_title, tags=tags):
                continue
            activated: set[str] = set()
            for phrase in signal["phrases"]:
                if all(term in vector for term in phrase):
                    activated.update(phrase)
            seed = sum(vector[term] for term in activated)
            if activated:
                seed += sum(
                    vector[t] * w for t, w in signal["learned"].items() if t in vector and t not in activated
                )
            near = sum(value * signal["centroid"].get(term, 0.0) for term, value in vector.items())
            refine = payload["refine_weight"]
            score = (1 - refine) * seed + refine * near
            if score < payload["threshold"]:
                continue
            # As in the run, a scoped signal wins over a course-wide one; the score stays the match's own.
            rank = score + (SCOPED_PREFERENCE if signal["scope"] else 0.0)
            if best_rank is None or rank > best_rank:
                best, best_rank = (signal["group"], 1.0 + score), rank
    bar = payload.get("evidence_bar")
    if evidence is not None and bar is not None:
        complaint_clauses = [
            clause for clause, odds in zip(complaint_clauses, evidence, strict=True) if odds >= bar
        ]
    if best is not None or vectors is None or not payload["discovered"] or not complaint_clauses:
        return best
    focus = payload.get("focus") or {"weights": {}, "common": []}
    weight, common = vectors.focus_arrays(focus["weights"], focus["common"])
    embedded, known = vectors.embed(complaint_clauses, weight=weight, common=common)
    if not known.any():
        return None
    centres = np.asarray([signal["centroid"] for signal in payload["discovered"]], dtype=np.float32)
    similarity = embedded[known] @ centres.T
    for index, discovered in enumerate(payload["discovered"]):
        if not in_scope(discovered.get("scope", ()), title=course_title, tags=tags):
            continue
        score = float(similarity[:, index].max())
        if score >= discovered["threshold"] and (best is None or score > best[1]):
            best = (discovered["group"], score)
    return best
