"""Discovery: coherent groups among the complaint clauses no defined signal took."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.preprocessing import normalize

from analytics.blocks import row_blocks
from analytics.embeddings import WordVectors
from analytics.signals.results import Focus
from analytics.signals.spec import Parameters

# Word weights at or above this (words rare among the complaints) are 1 for the incremental assigner.
FOCUS_KEPT_BELOW = 0.98
KMEANS_SEEDING_SAMPLE = 3000


class Anchor(NamedTuple):
    """A defined signal as discovery sees it: the complaint clauses its seeds took (a sample), and which of
    the clauses given to discovery it may take (None: all; a scoped signal only its courses')."""

    clauses: Sequence[Sequence[str]]
    allowed: np.ndarray | None = None


class Anchored(NamedTuple):
    """The clauses (positions in the clauses given) an anchor took, their similarity to its centre, the
    centre (a unit vector) and the similarity a new clause needs to join it."""

    rows: np.ndarray
    scores: np.ndarray
    centre: np.ndarray
    floor: float


class Discovery(NamedTuple):
    """Per group: its rows (positions in the clauses given), their similarity to its centre, the centre (a
    unit vector) and the similarity a new clause needs to join it; how words were weighed; and per anchor
    what it took (None: too few of its clauses have known words to place it)."""

    rows: list[np.ndarray]
    scores: list[np.ndarray]
    centres: list[np.ndarray]
    floors: list[float]
    focus: Focus
    anchored: list[Anchored | None]


def discover(
    clauses: Sequence[Sequence[str]],
    vectors: WordVectors | None,
    params: Parameters,
    anchors: Sequence[Anchor] = (),
) -> Discovery:
    """Coherent groups among the leftover complaint clauses. Rows in no group are unassigned.

    anchors: the defined signals. Each is placed where its seed-matched clauses lie; a leftover clause near
    one (in other words than its seeds: "讲得不够细" beside "听不懂") joins it rather than a new group,
    and a new group alike one is not a new theme."""
    empty = Discovery([], [], [], [], {"weights": {}, "common": []}, [None] * len(anchors))
    if vectors is None or not clauses:
        return empty
    weight, common = vectors.focused(clauses, smoothing=params.focus_smoothing)
    focus: Focus = {
        "weights": {
            vectors.words[i]: round(float(weight[i]), 4)
            for i in np.flatnonzero(weight < FOCUS_KEPT_BELOW).tolist()
        },
        "common": [round(float(x), 6) for x in common],
    }
    # What is stored is what a new review will be weighed with: use exactly that here too.
    weight, common = vectors.focus_arrays(focus["weights"], focus["common"])
    embedded, known = vectors.embed(clauses, weight=weight, common=common)
    rows = np.flatnonzero(known)
    min_size = max(params.min_cluster_size, math.ceil(params.min_cluster_share * len(clauses)), 2)
    if len(rows) < 2 * min_size:
        return empty
    placed = [_place(anchor.clauses, vectors, weight, common, min_size) for anchor in anchors]
    live = [(a, centre) for a, centre in enumerate(placed) if centre is not None]
    points = _compact(embedded, rows)
    kept = _cores(points, params, min_size)
    group_centres = [normalize(points[members].mean(axis=0, keepdims=True))[0] for members in kept]
    if live and kept:
        # A group as alike a defined signal as two groups that merge is that signal, not a new theme.
        alike = np.vstack(group_centres) @ np.vstack([centre for _a, centre in live]).T
        close = alike.max(axis=1) >= params.merge_similarity
        kept = [members for members, drop in zip(kept, close, strict=True) if not drop]
        group_centres = [centre for centre, drop in zip(group_centres, close, strict=True) if not drop]
    if not kept and not live:
        return empty
    # The coherent cores name the themes; every clause then joins the nearest core's theme (or defined
    # signal) when it is close enough to it, so a theme holds its plainly worded members too, not only its
    # most typical ones.
    cores = np.vstack(group_centres + [centre for _a, centre in live]).astype(points.dtype)
    barred = [
        (len(kept) + j, allowed)
        for j, (a, _place) in enumerate(live)
        if (allowed := anchors[a].allowed) is not None
    ]
    nearest = np.empty(len(points), dtype=np.int64)
    best = np.empty(len(points), dtype=points.dtype)
    for block in row_blocks(len(points)):
        nearness = points[block] @ cores.T
        for column, allowed in barred:
            nearness[~allowed[rows[block]], column] = -np.inf
        nearest[block] = nearness.argmax(axis=1)
        best[block] = nearness[np.arange(len(nearness)), nearest[block]]
    joins = best >= params.join_similarity
    anchored: list[Anchored | None] = [None] * len(anchors)
    for j, (a, centre) in enumerate(live):
        members = np.flatnonzero(joins & (nearest == len(kept) + j))
        anchored[a] = Anchored(rows[members], best[members], centre, _floor(best[members], params))
    kept = [np.flatnonzero(joins & (nearest == g)) for g in range(len(kept))]
    kept = _cap_share(
        [members for members in kept if len(members) >= min_size], points, params.max_share, min_size
    )

    out_rows: list[np.ndarray] = []
    out_scores: list[np.ndarray] = []
    out_centres: list[np.ndarray] = []
    floors: list[float] = []
    for members in kept:
        centre = normalize(points[members].mean(axis=0, keepdims=True))[0]
        scores = points[members] @ centre
        out_rows.append(rows[members])
        out_scores.append(scores)
        out_centres.append(centre)
        floors.append(_floor(scores, params))
    return Discovery(out_rows, out_scores, out_centres, floors, focus, anchored)


def _floor(scores: np.ndarray, params: Parameters) -> float:
    """The similarity a new clause needs to join a group: what nearly all of its members reach, never below
    join_similarity (a defined signal that took no clause here: join_similarity, as in the run)."""
    if not len(scores):
        return params.join_similarity
    return round(max(params.join_similarity, float(np.quantile(scores, 0.05))), 5)


def _place(
    clauses: Sequence[Sequence[str]],
    vectors: WordVectors,
    weight: np.ndarray,
    common: np.ndarray,
    min_size: int,
) -> np.ndarray | None:
    """A defined signal's centre (a unit vector) from its seed-matched clauses, as a group's from its members;
    None when too few of them have known words to say where it lies."""
    if len(clauses) < min_size:
        return None
    embedded, known = vectors.embed(clauses, weight=weight, common=common)
    if int(known.sum()) < min_size:
        return None
    centre: np.ndarray = normalize(embedded[known].mean(axis=0, keepdims=True))[0]
    return centre


def _cores(points: np.ndarray, params: Parameters, min_size: int) -> list[np.ndarray]:
    """k-means groups of the points, each kept as its core (members near its centre) when they agree."""
    # About sqrt(n / 2) groups (the usual rule of thumb), at most discovery_clusters: a small site does not
    # get one group per repeated sentence.
    k = min(params.discovery_clusters, len(points) // min_size, max(2, round(math.sqrt(len(points) / 2))))
    if k < 2:
        return []
    fit_on = points
    if len(points) > params.discovery_sample:
        chosen = np.sort(
            np.random.default_rng(params.seed).choice(len(points), params.discovery_sample, replace=False)
        )
        fit_on = points[chosen]
    # k-means++ seeding is quadratic-ish in the points it reads: seed from a small sample, then fit.
    seeding = fit_on[:: max(1, len(fit_on) // KMEANS_SEEDING_SAMPLE)]
    centres_init, _indices = kmeans_plusplus(seeding, n_clusters=k, random_state=params.seed)
    kmeans = KMeans(n_clusters=k, init=centres_init, n_init=1, random_state=params.seed).fit(fit_on)
    label = kmeans.predict(points)
    centres = normalize(kmeans.cluster_centers_)
    similarity = np.empty(len(points), dtype=points.dtype)
    for block in row_blocks(len(points)):
        similarity[block] = np.einsum("ij,ij->i", points[block], centres[label[block]])

    # Keep each group's members close to its centre; drop groups whose members do not agree.
    kept: list[np.ndarray] = []
    for g in range(k):
        members = np.flatnonzero((label == g) & (similarity >= params.member_similarity))
        if len(members) < min_size:
            continue
        centre = normalize(points[members].mean(axis=0, keepdims=True))[0]
        if float((points[members] @ centre).mean()) < params.min_coherence:
            continue
        kept.append(members)
    kept = _merge_similar(kept, points, params.merge_similarity)
    kept.sort(key=lambda members: (-len(members), int(members[0])))
    return kept[: params.max_clusters]


def _compact(embedded: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """embedded[rows] (`rows` ascending), gathered into the start of `embedded` itself rather than a new array
    of every clause's vector (each row moves to an earlier or the same place: a block reads its rows before
    writing, and later blocks read only rows after it)."""
    for block in row_blocks(len(rows)):
        embedded[block] = embedded[rows[block]]
    return embedded[: len(rows)]


def _merge_similar(groups: list[np.ndarray], points: np.ndarray, threshold: float) -> list[np.ndarray]:
    """Merge groups whose centres are at least `threshold` similar (greedy, most similar pair first)."""
    groups = [g for g in groups if len(g)]
    while len(groups) > 1:
        centres = normalize(np.vstack([points[g].mean(axis=0) for g in groups]))
        similarity = centres @ centres.T
        np.fill_diagonal(similarity, -1.0)
        a, b = np.unravel_index(int(similarity.argmax()), similarity.shape)
        if similarity[a, b] < threshold:
            break
        merged = np.union1d(groups[a], groups[b])
        groups = [g for i, g in enumerate(groups) if i not in (a, b)] + [merged]
    return groups


def _cap_share(
    groups: list[np.ndarray], points: np.ndarray, max_share: float, min_size: int
) -> list[np.ndarray]:
    """No group holds more than max_share of the assigned clauses: the largest keeps only its members
    closest to its centre (the rest stay unassigned) until it fits. A broad group is the catch-all the
    report must not have."""
    for _ in range(len(groups) * 4):
        total = sum(len(g) for g in groups)
        if not groups or total == 0:
            break
        largest = max(range(len(groups)), key=lambda i: len(groups[i]))
        others = total - len(groups[largest])
        allowed = int(max_share * others / (1 - max_share)) if others else len(groups[largest])
        if len(groups[largest]) <= max(allowed, min_size) or len(groups) == 1:
            break
        members = groups[largest]
        centre = normalize(points[members].mean(axis=0, keepdims=True))[0]
        order = np.argsort(-(points[members] @ centre), kind="stable")
        groups[largest] = np.sort(members[order[: max(allowed, min_size)]])
    return groups
