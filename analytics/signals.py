"""Failure-signal extraction: complaint detection, guided assignment, discovery, keywords, report.

Pure maths on plain lists (no Django), so it is tested and benchmarked alone. The pipeline:

1. Complaints: a rating of 2 or less is always a complaint; otherwise a small logistic regression over
   word uni/bigrams and the rating, trained on the project's own labelled reviews, decides (generic
   Chinese sentiment scores "老师就是照着PPT念，没有任何实战经验" as positive).
2. Guided assignment: complaints are scored against each defined signal in a TF-IDF space — the
   share of a review's TF-IDF mass on the signal's seed (and learned) terms, then refined once against
   the centroid of the reviews the seeds picked. Above a threshold the best signal becomes the primary.
3. Discovery: the complaints left over are projected into an LSA space (TruncatedSVD, fixed seed)
   learned from all reviews plus optional background text, and grouped by average-linkage clustering
   with a cosine-distance cut, so the number of clusters follows from the data instead of a k chosen
   by silhouette (which fails on short reviews); large sets are first condensed into fixed-seed k-means
   micro-clusters. A new cluster whose keywords match a known signal joins it (a guided one whose seeds
   missed these reviews, or an earlier candidate / dismissed signal whose identity it keeps).
4. Each signal gets c-TF-IDF keywords (against all other signals) and representative quotes; the
   report gives shares overall, per course, per instructor, per month, and the rating lift.

Everything is deterministic for a given input order and parameters (fixed random states).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, repeat

import numpy as np
from scipy import sparse
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize

ProgressCallback = Callable[[int, str], None]

# A new review joins a discovered signal when it is at least as close to its centroid as the least
# typical member, and never below this cosine similarity.
_MIN_DISCOVERED_SIMILARITY = 0.1

# Tokens that are punctuation: clause boundaries for the classifier, never features of a signal.
_PUNCTUATION = frozenset(",.;:!?()[]{}\"'`~@#$%^&*-_=+|\\/<>，。；：！？、…—“”‘’《》【】（）「」『』·")


@dataclass(frozen=True)
class SignalSpec:
    """A signal definition as the pipeline sees it.

    guided: assign complaints by its terms (seeded and confirmed signals). A non-guided spec is an
    earlier discovered candidate (or a dismissed signal): it only lends its identity to a new cluster
    whose keywords overlap it.
    terms: seed phrases, each already segmented into content tokens (("没有", "超时"), ("gopath",)).
    learned: vocabulary learned from confirmed members (term → weight 0..1).
    """

    key: str
    terms: Sequence[Sequence[str]] = ()
    learned: Mapping[str, float] = field(default_factory=dict)
    guided: bool = True


@dataclass(frozen=True)
class Parameters:
    seed: int = 0
    # Guided assignment: minimum score for a primary signal, and how the centroid refines it.
    assign_threshold: float = 0.2
    refine_weight: float = 0.5
    learned_weight: float = 0.5
    # Discovery.
    min_cluster_size: int = 3
    min_cluster_share: float = 0.01
    max_clusters: int = 12
    lsa_components: int = 60
    lsa_sample: int = 10000
    merge_distance: float = 0.88
    direct_clustering_limit: int = 2000
    micro_clusters: int = 300
    micro_sample: int = 5000
    kmeans_restarts: int = 1
    keyword_count: int = 12
    quote_count: int = 5
    candidate_match_overlap: float = 0.3
    guided_match_overlap: float = 0.5

    @classmethod
    def from_mapping(cls, values: Mapping[str, object] | None) -> Parameters:
        """Parameters from a run's JSON; unknown keys or wrong types raise ValueError."""
        values = dict(values or {})
        known = {name: type(getattr(cls(), name)) for name in cls.__dataclass_fields__}
        kwargs: dict[str, object] = {}
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
            kwargs[name] = expected(value)
        return cls(**kwargs)

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def seed_phrases(terms: Iterable[str], tokenize: Callable[[str], list[str]]) -> tuple[tuple[str, ...], ...]:
    """Seed terms as phrases of content tokens, segmented like the reviews.

    A term that keeps no word of two or more characters after stopwords are removed ("没做过" → "没")
    would match almost any complaint, so it is dropped.
    """
    phrases: dict[tuple[str, ...], None] = {}
    for term in terms:
        tokens = tuple(dict.fromkeys(token for token in tokenize(term) if token not in _PUNCTUATION))
        if any(len(token) >= 2 for token in tokens):
            phrases[tokens] = None
    return tuple(phrases)


# --- sparse term matrices -----------------------------------------------------------------------


class _Vocabulary(dict):
    """term → column; looking up a new term gives it the next column (first-seen order)."""

    def __missing__(self, term: Hashable) -> int:
        column = self[term] = len(self)
        return column


def count_matrix(docs: Sequence[str], vocabulary: dict[Hashable, int], *, grow: bool) -> sparse.csr_matrix:
    """Term counts as CSR of documents given as their tokens joined by single spaces (as the token cache
    stores them; "" for none). With grow=True unseen terms are added to `vocabulary`; else ignored.

    The documents are joined and split once and each token is looked up once, in C (split, map over a
    dict): no list per document, no Python per token. This is on the path of every run over every review.
    """
    present = np.fromiter(map(bool, docs), dtype=bool, count=len(docs))
    flat = " ".join(filter(None, docs)).split(" ") if present.any() else []
    if grow:
        growing = _Vocabulary(vocabulary)
        indices = np.fromiter(map(growing.__getitem__, flat), dtype=np.int32, count=len(flat))
        vocabulary.update(growing)
    else:
        indices = np.fromiter(map(vocabulary.get, flat, repeat(-1)), dtype=np.int32, count=len(flat))
    lengths = np.fromiter(map(str.count, docs, repeat(" ")), dtype=np.int32, count=len(docs)) + present
    rows = np.repeat(np.arange(len(docs), dtype=np.int32), lengths)
    known = indices >= 0
    if not known.all():
        indices, rows = indices[known], rows[known]
    counts = sparse.coo_matrix(
        (np.ones(len(indices)), (rows, indices)), shape=(len(docs), len(vocabulary))
    ).tocsr()
    counts.sum_duplicates()
    return counts


def idf_weights(counts: sparse.csr_matrix) -> np.ndarray:
    """Smoothed IDF as in scikit-learn: ln((1 + n) / (1 + df)) + 1."""
    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    return np.log((1.0 + n) / (1.0 + df)) + 1.0


def tfidf(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """Sublinear TF × IDF, rows L2-normalised."""
    if 0 in counts.shape:
        return sparse.csr_matrix(counts.shape, dtype=np.float64)
    weighted = counts.tocsr(copy=True)
    weighted.data = (1.0 + np.log(weighted.data)) * idf[weighted.indices]
    return normalize(weighted, copy=False)


# --- complaint detection ------------------------------------------------------------------------


class ComplaintClassifier:
    """Does a review report a problem? Ratings ≤ 2 always do; otherwise a logistic regression decides.

    Features: the review's words (punctuation dropped, stopwords kept: "但", "不"), its word bigrams
    and its rating, TF-IDF weighted; only features seen in at least two training reviews. Features are
    integer codes built with numpy (word id, V + a·V + b for a bigram, V + V² + rating), so scoring
    100k reviews takes a fraction of a second.

    Checked by 5-fold cross-validation on the dev labels (demo/): without the rating feature, or with it
    down-weighted, praise false positives rise or complaint recall drops; what teaches the model that a
    3★ review or one in complaint words ("终于不是 Hello World") can be praise is labelled examples of it.
    """

    always_complaint_at_or_below = 2
    # Bump when the features or the model change: decisions cached by an older version are made again.
    version = "1"

    def __init__(self, *, c: float = 4.0, threshold: float = 0.5) -> None:
        self.c = c
        self.threshold = threshold
        self.word_ids: dict[str, int] = {}
        self.keys = np.zeros(0, dtype=np.int64)  # sorted feature codes → columns
        self.idf: np.ndarray | None = None
        self.model: LogisticRegression | None = None

    def _codes(self, words: Sequence[Sequence[str]], ratings: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """(review index, feature code) of every feature occurrence; unknown words break bigrams."""
        ids = self.word_ids
        flat = np.fromiter(map(ids.get, chain.from_iterable(words), repeat(-1)), dtype=np.int64)
        punctuation = np.fromiter(map(_PUNCTUATION.__contains__, chain.from_iterable(words)), dtype=bool)
        lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        review = np.repeat(np.arange(len(words), dtype=np.int64), lengths)
        flat, review = flat[~punctuation], review[~punctuation]
        size = len(ids) + 1
        known = flat >= 0
        pairs = (review[:-1] == review[1:]) & known[:-1] & known[1:]
        bigrams = size + flat[:-1][pairs] * size + flat[1:][pairs]
        rating_codes = size + size * size + np.asarray(ratings, dtype=np.int64)
        codes = np.concatenate([flat[known], bigrams, rating_codes])
        owners = np.concatenate([review[known], review[:-1][pairs], np.arange(len(words), dtype=np.int64)])
        return owners, codes

    def _matrix(self, owners: np.ndarray, codes: np.ndarray, rows: int) -> sparse.csr_matrix:
        position = np.searchsorted(self.keys, codes)
        position[position >= len(self.keys)] = 0
        hit = self.keys[position] == codes if len(self.keys) else np.zeros(len(codes), dtype=bool)
        counts = sparse.csr_matrix(
            (np.ones(int(hit.sum())), (owners[hit], position[hit])), shape=(rows, len(self.keys))
        )
        counts.sum_duplicates()
        return counts

    def fit(
        self, words: Sequence[Sequence[str]], ratings: Sequence[int], complaint: Sequence[bool]
    ) -> ComplaintClassifier:
        labels = np.asarray(complaint, dtype=bool)
        if len(set(labels.tolist())) < 2:
            raise ValueError("training needs both complaints and praise")
        self.word_ids = {}
        for word in dict.fromkeys(chain.from_iterable(words)):
            if word not in _PUNCTUATION:
                self.word_ids[word] = len(self.word_ids)
        owners, codes = self._codes(words, ratings)
        size = int(codes.max()) + 1 if len(codes) else 1
        distinct = np.unique(owners * size + codes)  # one (review, feature) pair counts once
        feature, frequency = np.unique(distinct % size, return_counts=True)
        self.keys = feature[frequency >= 2]
        counts = self._matrix(owners, codes, len(words))
        self.idf = idf_weights(counts)
        self.model = LogisticRegression(C=self.c, class_weight="balanced", max_iter=2000)
        self.model.fit(tfidf(counts, self.idf), labels)
        return self

    def probabilities(self, words: Sequence[Sequence[str]], ratings: Sequence[int]) -> np.ndarray:
        if self.model is None or self.idf is None:
            raise RuntimeError("the complaint classifier is not trained")
        if not len(words):
            return np.zeros(0)
        owners, codes = self._codes(words, ratings)
        return self.model.predict_proba(tfidf(self._matrix(owners, codes, len(words)), self.idf))[:, 1]

    def is_complaint(self, words: Sequence[Sequence[str]], ratings: Sequence[int]) -> np.ndarray:
        ratings_array = np.asarray(ratings)
        result = ratings_array <= self.always_complaint_at_or_below
        pending = np.flatnonzero(~result)
        if len(pending):
            probabilities = self.probabilities([words[i] for i in pending], [ratings[i] for i in pending])
            result[pending] = probabilities >= self.threshold
        return result


class RatingComplaintRule:
    """Fallback when no labelled reviews are available: a rating of 3 or less is a complaint."""

    def __init__(self, *, at_or_below: int = 3) -> None:
        self.at_or_below = at_or_below

    def is_complaint(self, words: Sequence[Sequence[str]], ratings: Sequence[int]) -> np.ndarray:
        return np.asarray(ratings, dtype=int).reshape(-1) <= self.at_or_below


# --- guided assignment and discovery -------------------------------------------------------------


@dataclass
class SignalGroup:
    """One signal found by a run: a guided signal or a discovered cluster."""

    key: str | None  # the definition's key; None for a new discovery
    members: list[int]  # indices into the documents
    scores: list[float]
    discovered: bool
    keywords: list[tuple[str, float]] = field(default_factory=list)
    representatives: list[int] = field(default_factory=list)
    centroid: dict[str, float] = field(default_factory=dict)
    similarity_floor: float = 0.0  # a new review this similar to the centroid joins (discovered signals)


@dataclass
class ExtractionResult:
    complaint: np.ndarray  # bool per document
    groups: list[SignalGroup]
    unassigned: list[int]  # complaints in no signal
    assigner: dict  # what the incremental assignment of one new review needs (JSON-safe)
    counts: dict[str, int]


def _report(progress: ProgressCallback | None, percent: int, step: str) -> None:
    if progress is not None:
        progress(percent, step)


def _content(tokens: Sequence[str]) -> list[str]:
    return [token for token in tokens if token not in _PUNCTUATION]


def extract(
    tokens: Sequence[str],
    complaint: Sequence[bool],
    specs: Sequence[SignalSpec],
    *,
    parameters: Parameters | None = None,
    keyword_stopwords: frozenset[str] = frozenset(),
    context: Sequence[str] = (),
    progress: ProgressCallback | None = None,
) -> ExtractionResult:
    """Run guided assignment and discovery over the complaints among the reviews.

    tokens: each review's content tokens (text.Segmenter.filter) joined by single spaces;
    complaint: whether each review reports a problem (ComplaintClassifier.is_complaint, decided before
    extraction so a caller can cache it). Results refer to reviews by their position in these lists.
    keyword_stopwords: words never shown as a keyword (they still count for assignment and clustering).
    context: content tokens of background reviews (joined the same way) that only inform the TF-IDF and
    LSA spaces.
    """
    params = parameters or Parameters()
    n = len(tokens)
    if len(complaint) != n:
        raise ValueError("tokens and complaint must describe the same reviews")
    complaint = np.asarray(complaint, dtype=bool).reshape(n)
    complaint_index = np.flatnonzero(complaint)
    counts = {"reviews": n, "complaints": int(len(complaint_index))}

    # One TF-IDF space over every review: IDF and the latent (LSA) space learn from all the text,
    # praise included (it shows which words go together); only complaints are assigned and clustered.
    vocabulary: dict[Hashable, int] = {}
    all_counts = count_matrix(tokens, vocabulary, grow=True)
    if context:
        # Background text (e.g. the labelled reviews shipped with the project) adds co-occurrence
        # evidence to the IDF and the latent space; it is never assigned or clustered.
        context_counts = count_matrix(context, vocabulary, grow=True)
        all_counts.resize((n, len(vocabulary)))
        space_counts = sparse.vstack([all_counts, context_counts]).tocsr()
    else:
        space_counts = all_counts
    idf = idf_weights(space_counts)
    full = tfidf(space_counts, idf)
    term_counts = all_counts[complaint_index]
    matrix = full[complaint_index]
    terms = np.empty(len(vocabulary), dtype=object)
    for term, index in vocabulary.items():
        terms[index] = term

    _report(progress, 45, "assigning complaints to defined signals")
    guided = [spec for spec in specs if spec.guided]
    primary, scores, centroids = _guided_assignment(matrix, vocabulary, guided, params)

    groups: list[SignalGroup] = []
    for s, spec in enumerate(guided):
        rows = np.flatnonzero(primary == s)
        if len(rows):
            groups.append(
                SignalGroup(
                    key=spec.key,
                    members=[int(complaint_index[r]) for r in rows],
                    scores=[float(scores[r]) for r in rows],
                    discovered=False,
                )
            )

    _report(progress, 60, "discovering new signals")
    leftover = np.flatnonzero(primary < 0)
    discovered, noise = _discover(matrix[leftover], _latent_space(full, params), params)
    discovered_groups = []
    for rows, cluster_scores in discovered:
        discovered_groups.append(
            SignalGroup(
                key=None,
                members=[int(complaint_index[leftover[r]]) for r in rows],
                scores=[float(x) for x in cluster_scores],
                discovered=True,
            )
        )

    _report(progress, 75, "describing signals")
    local = {int(doc): row for row, doc in enumerate(complaint_index)}
    background = np.asarray(all_counts[np.flatnonzero(~complaint)].sum(axis=0)).ravel()
    shown = np.array([term not in keyword_stopwords for term in terms], dtype=bool)
    _describe(discovered_groups, term_counts, matrix, terms, shown, local, background, params)
    groups, discovered_groups = _match_known(groups, discovered_groups, specs, params)
    all_groups = groups + discovered_groups
    _describe(all_groups, term_counts, matrix, terms, shown, local, background, params)
    unassigned = sorted(int(complaint_index[leftover[r]]) for r in noise)
    counts["assigned"] = sum(len(g.members) for g in all_groups)
    counts["unassigned"] = len(unassigned)
    counts["signals"] = len(all_groups)
    counts["discovered"] = len(discovered_groups)
    assigner = _assigner_payload(all_groups, guided, centroids, vocabulary, idf, params)
    return ExtractionResult(
        complaint=complaint, groups=all_groups, unassigned=unassigned, assigner=assigner, counts=counts
    )


def _phrase_ids(spec: SignalSpec, vocabulary: Mapping[Hashable, int]) -> list[list[int]]:
    """The spec's seed phrases as vocabulary ids; a phrase with a word no complaint uses can never match."""
    phrases = []
    for phrase in spec.terms:
        ids = [vocabulary.get(token) for token in dict.fromkeys(phrase)]
        if ids and all(i is not None for i in ids):
            phrases.append(ids)
    return phrases


def _seed_scores(
    columns: sparse.csc_matrix, vocabulary: Mapping[Hashable, int], spec: SignalSpec, params: Parameters
) -> np.ndarray:
    """Share of each review's TF-IDF mass on the spec's terms.

    A seed phrase of several words ("没有 超时", "照着 PPT 念") counts only where all its words occur;
    its words then count once each. Learned terms count with their weight × learned_weight.
    """
    n = columns.shape[0]
    phrases = _phrase_ids(spec, vocabulary)
    phrase_terms = list(dict.fromkeys(chain.from_iterable(phrases)))
    learned = [
        (vocabulary[term], float(weight))
        for term, weight in spec.learned.items()
        if term in vocabulary and vocabulary[term] not in phrase_terms
    ]
    terms = phrase_terms + [i for i, _weight in learned]
    if not terms:
        return np.zeros(n)
    # The spec's few term columns, dense and in one slice (reviews × terms): no per-term sparse slicing.
    values = columns[:, terms].toarray()
    where = {term: position for position, term in enumerate(terms)}
    activated = np.zeros((n, len(phrase_terms)), dtype=bool)
    for ids in phrases:
        positions = [where[i] for i in ids]
        activated[:, positions] |= (values[:, positions] > 0).all(axis=1)[:, None]
    scores = np.zeros(n)
    for position in range(len(phrase_terms)):
        scores += values[:, position] * activated[:, position]
    for position, (_i, weight) in enumerate(learned, start=len(phrase_terms)):
        scores += params.learned_weight * weight * values[:, position]
    return scores


def _guided_assignment(
    matrix: sparse.csr_matrix,
    vocabulary: Mapping[Hashable, int],
    specs: Sequence[SignalSpec],
    params: Parameters,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Primary signal index per complaint (-1: none), its score, and each signal's centroid."""
    rows = matrix.shape[0]
    if not specs or rows == 0:
        return np.full(rows, -1), np.zeros(rows), np.zeros((len(specs), matrix.shape[1]))
    columns = matrix.tocsc()
    seed_scores = np.column_stack([_seed_scores(columns, vocabulary, spec, params) for spec in specs])
    first = _pick(seed_scores, params.assign_threshold)
    centroids = np.zeros((len(specs), matrix.shape[1]))
    for s in range(len(specs)):
        members = np.flatnonzero(first == s)
        if len(members):
            centroid = np.asarray(matrix[members].mean(axis=0)).ravel()
            norm = np.linalg.norm(centroid)
            if norm:
                centroids[s] = centroid / norm
    similarity = np.asarray(matrix @ centroids.T)
    combined = (1 - params.refine_weight) * seed_scores + params.refine_weight * similarity
    primary = _pick(combined, params.assign_threshold)
    best = combined[np.arange(rows), np.maximum(primary, 0)]
    return primary, np.where(primary >= 0, best, 0.0), centroids


def _pick(scores: np.ndarray, threshold: float) -> np.ndarray:
    best = scores.argmax(axis=1)
    top = scores[np.arange(scores.shape[0]), best]
    return np.where(top >= threshold, best, -1)


def _latent_space(full: sparse.csr_matrix, params: Parameters) -> TruncatedSVD | None:
    """LSA fitted on all reviews (a fixed-seed sample when there are many)."""
    rows, columns = full.shape
    components = min(params.lsa_components, rows - 1, columns - 1)
    if components < 2:
        return None
    sample = full
    if rows > params.lsa_sample:
        picked = np.sort(np.random.default_rng(params.seed).choice(rows, params.lsa_sample, replace=False))
        sample = full[picked]
    return TruncatedSVD(n_components=components, random_state=params.seed).fit(sample)


def _discover(
    matrix: sparse.csr_matrix, space: TruncatedSVD | None, params: Parameters
) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[int]]:
    """Cluster the complaints no defined signal took. Returns (rows, similarity) per cluster + noise rows.

    Reviews are projected into the LSA space and grouped by average-linkage agglomerative clustering
    with a cosine distance threshold, so the number of clusters follows from how far apart the
    complaints are instead of being fixed in advance. Many reviews are first condensed into k-means
    micro-clusters (fixed seed) so the agglomeration stays small. Clusters too small to matter are noise.
    """
    n = matrix.shape[0]
    min_size = max(params.min_cluster_size, math.ceil(params.min_cluster_share * n), 2)
    nonempty = np.flatnonzero(matrix.getnnz(axis=1) > 0)
    noise = sorted(set(range(n)) - set(nonempty.tolist()))
    if len(nonempty) < 2 * min_size:
        return [], list(range(n))
    vectors = normalize(
        space.transform(matrix[nonempty]) if space is not None else matrix[nonempty].toarray()
    )
    labels = _agglomerate(vectors, params)
    clusters = []
    for label in sorted(set(labels.tolist()), key=lambda label: (-(labels == label).sum(), label)):
        rows = np.flatnonzero(labels == label)
        if len(rows) < min_size or len(clusters) >= params.max_clusters:
            noise.extend(int(nonempty[r]) for r in rows)
            continue
        centroid = vectors[rows].mean(axis=0)
        centroid /= np.linalg.norm(centroid) or 1.0
        clusters.append((nonempty[rows], vectors[rows] @ centroid))
    return clusters, sorted(noise)


def _agglomerate(vectors: np.ndarray, params: Parameters) -> np.ndarray:
    """Average-linkage clusters of unit vectors, cut at params.merge_distance (cosine distance)."""
    n = len(vectors)
    if n <= params.direct_clustering_limit:
        return AgglomerativeClustering(
            n_clusters=None, distance_threshold=params.merge_distance, metric="cosine", linkage="average"
        ).fit_predict(vectors)
    # Many reviews: condense them into k-means micro-clusters (fitted on a fixed-seed sample: k-means++ on
    # every review would dominate the run time), then link the micro-clusters. The mean pairwise cosine
    # similarity between the reviews of two micro-clusters is the dot product of their (unnormalised) mean
    # vectors, so the distances, and the threshold, mean what they mean between single reviews.
    micro = min(params.micro_clusters, n // 4)
    sample = vectors
    if n > params.micro_sample:
        rows = np.sort(np.random.default_rng(params.seed).choice(n, params.micro_sample, replace=False))
        sample = vectors[rows]
    kmeans = KMeans(n_clusters=micro, n_init=params.kmeans_restarts, random_state=params.seed).fit(sample)
    owner = kmeans.predict(vectors)
    used, owner = np.unique(owner, return_inverse=True)
    sizes = np.bincount(owner, minlength=len(used)).astype(float)
    means = np.zeros((len(used), vectors.shape[1]))
    np.add.at(means, owner, vectors)
    means /= sizes[:, None]
    if len(used) < 2:
        return np.zeros(n, dtype=int)
    distances = np.clip(1.0 - means @ means.T, 0.0, 2.0)
    np.fill_diagonal(distances, 0.0)
    merged = AgglomerativeClustering(
        n_clusters=None, distance_threshold=params.merge_distance, metric="precomputed", linkage="average"
    ).fit_predict(distances)
    return merged[owner]


def _ctfidf(class_counts: np.ndarray) -> np.ndarray:
    """Class-based TF-IDF (as in BERTopic): frequency in a class × log(1 + mean class size / frequency)."""
    totals = class_counts.sum(axis=1, keepdims=True)
    tf = np.divide(class_counts, totals, out=np.zeros_like(class_counts, dtype=float), where=totals > 0)
    frequency = class_counts.sum(axis=0)
    average = class_counts.sum() / max(1, class_counts.shape[0])
    idf = np.log(
        1 + np.divide(average, frequency, out=np.zeros_like(frequency, dtype=float), where=frequency > 0)
    )
    return tf * idf


def _describe(
    groups: Sequence[SignalGroup],
    term_counts: sparse.csr_matrix,
    matrix: sparse.csr_matrix,
    terms: np.ndarray,
    shown: np.ndarray,
    local: Mapping[int, int],
    background: np.ndarray,
    params: Parameters,
) -> None:
    """Fill each group's c-TF-IDF keywords (against every other group), quotes and centroid."""
    if not groups:
        return
    member_rows = [np.asarray([local[m] for m in group.members]) for group in groups]
    assigned = np.zeros(term_counts.shape[0], dtype=bool)
    for rows in member_rows:
        assigned[rows] = True
    class_counts = [np.asarray(term_counts[rows].sum(axis=0)).ravel() for rows in member_rows]
    # The complaints in no signal are one more class, so a signal's keywords also stand out against them.
    class_counts.append(np.asarray(term_counts[~assigned].sum(axis=0)).ravel())
    # Praise is one more: words every review uses (老师, 讲, 课程) then weigh little in every signal.
    class_counts.append(background)
    weights = _ctfidf(np.vstack(class_counts)) * shown
    for group, rows, row_weights in zip(groups, member_rows, weights, strict=False):
        order = np.argsort(-row_weights, kind="stable")[: params.keyword_count]
        top = row_weights[order[0]] if len(order) else 0.0
        group.keywords = [
            (str(terms[i]), round(float(row_weights[i] / top), 4))
            for i in order
            if row_weights[i] > 0 and top > 0
        ]
        centroid = np.asarray(matrix[rows].mean(axis=0)).ravel()
        norm = np.linalg.norm(centroid)
        if norm:
            centroid /= norm
        similarity = np.asarray(matrix[rows] @ centroid).ravel()
        group.similarity_floor = round(max(_MIN_DISCOVERED_SIMILARITY, float(similarity.min())), 5)
        group.representatives = _representatives(group.members, similarity, matrix[rows], params.quote_count)
        keep = np.argsort(-centroid, kind="stable")[:200]
        group.centroid = {str(terms[i]): round(float(centroid[i]), 5) for i in keep if centroid[i] > 0}


def _representatives(
    members: Sequence[int], similarity: np.ndarray, rows: sparse.csr_matrix, count: int
) -> list[int]:
    """The members closest to the centroid, skipping near-duplicates of quotes already chosen."""
    chosen: list[int] = []
    for position in np.argsort(-similarity, kind="stable"):
        if len(chosen) >= count:
            break
        if any((rows[position] @ rows[other].T).sum() > 0.9 for other in chosen):
            continue
        chosen.append(int(position))
    return [members[position] for position in chosen]


def keyword_overlap(keywords: Sequence[tuple[str, float]], terms: Iterable[str]) -> float:
    """Share of a cluster's keyword weight that falls on `terms`."""
    term_set = set(terms)
    total = sum(weight for _term, weight in keywords)
    if total <= 0:
        return 0.0
    return sum(weight for term, weight in keywords if term in term_set) / total


def _match_known(
    guided_groups: Sequence[SignalGroup],
    discovered: Sequence[SignalGroup],
    specs: Sequence[SignalSpec],
    params: Parameters,
) -> tuple[list[SignalGroup], list[SignalGroup]]:
    """Give each new cluster the identity of the known signal whose terms its keywords share.

    A cluster that looks like a guided signal (its seeds missed these reviews) joins that signal; one that
    looks like an earlier candidate or a dismissed signal takes its key, so a recurring complaint keeps
    one identity across runs. Clusters that match the same signal are merged. Returns (guided, discovered).
    """
    by_key = {group.key: group for group in guided_groups}
    merged: dict[str, SignalGroup] = {}
    remaining: list[SignalGroup] = []
    for group in discovered:
        best: tuple[float, SignalSpec] | None = None
        for spec in specs:
            threshold = params.guided_match_overlap if spec.guided else params.candidate_match_overlap
            words = {token for phrase in spec.terms for token in phrase} | set(spec.learned)
            overlap = keyword_overlap(group.keywords, words)
            if overlap >= threshold and (best is None or overlap > best[0]):
                best = (overlap, spec)
        if best is None:
            remaining.append(group)
            continue
        key = best[1].key
        if best[1].guided:
            target = by_key.get(key)
            if target is None:
                target = by_key[key] = SignalGroup(key=key, members=[], scores=[], discovered=False)
            target.members.extend(group.members)
            target.scores.extend(group.scores)
        elif key in merged:
            merged[key].members.extend(group.members)
            merged[key].scores.extend(group.scores)
        else:
            group.key = key
            merged[key] = group
    guided = [group for group in by_key.values()]
    return guided, [*merged.values(), *remaining]


# --- incremental assignment of one new review ------------------------------------------------------


def _assigner_payload(
    groups: Sequence[SignalGroup],
    guided: Sequence[SignalSpec],
    centroids: np.ndarray,
    vocabulary: Mapping[Hashable, int],
    idf: np.ndarray,
    params: Parameters,
) -> dict:
    """A compact JSON model that assigns one new review the way this run would have."""
    terms_by_index = {index: term for term, index in vocabulary.items()}
    group_by_key = {group.key: g for g, group in enumerate(groups) if not group.discovered}
    signals = []
    used_terms: set[str] = set()
    for s, spec in enumerate(guided):
        if spec.key not in group_by_key:
            continue
        phrases = [[str(terms_by_index[i]) for i in ids] for ids in _phrase_ids(spec, vocabulary)]
        learned = {
            term: round(params.learned_weight * float(weight), 5)
            for term, weight in spec.learned.items()
            if term in vocabulary
        }
        keep = np.argsort(-centroids[s], kind="stable")[:200]
        centroid = {
            str(terms_by_index[i]): round(float(centroids[s][i]), 5) for i in keep if centroids[s][i] > 0
        }
        signals.append(
            {
                "group": group_by_key[spec.key],
                "kind": "guided",
                "phrases": phrases,
                "learned": learned,
                "centroid": centroid,
            }
        )
        used_terms.update(term for phrase in phrases for term in phrase)
        used_terms.update(learned, centroid)
    for g, group in enumerate(groups):
        if group.discovered:
            signals.append(
                {
                    "group": g,
                    "kind": "discovered",
                    "centroid": group.centroid,
                    "threshold": group.similarity_floor,
                }
            )
            used_terms.update(group.centroid)
    n = len(idf)
    return {
        "version": 1,
        "idf": {
            term: round(float(idf[vocabulary[term]]), 5) for term in sorted(used_terms) if term in vocabulary
        },
        "default_idf": round(float(math.log((1.0 + n) / 2.0) + 1.0), 5) if n else 1.0,
        "threshold": params.assign_threshold,
        "refine_weight": params.refine_weight,
        "signals": signals,
    }


def assign_one(assigner: Mapping, tokens: Sequence[str]) -> tuple[int, float] | None:
    """(group index, score) for one complaint's content tokens under a run's assigner, or None."""
    if not assigner or not assigner.get("signals"):
        return None
    counts = Counter(_content(tokens))
    if not counts:
        return None
    idf = assigner["idf"]
    default_idf = assigner["default_idf"]
    vector = {term: (1.0 + math.log(count)) * idf.get(term, default_idf) for term, count in counts.items()}
    norm = math.sqrt(sum(value * value for value in vector.values()))
    vector = {term: value / norm for term, value in vector.items()}

    def dot(weights: Mapping[str, float]) -> float:
        return sum(value * weights.get(term, 0.0) for term, value in vector.items())

    def seed_score(signal: Mapping) -> float:
        activated: set[str] = set()
        for phrase in signal["phrases"]:
            if all(term in vector for term in phrase):
                activated.update(phrase)
        learned = sum(
            vector[t] * w for t, w in signal["learned"].items() if t in vector and t not in activated
        )
        return sum(vector[term] for term in activated) + learned

    refine = assigner["refine_weight"]
    best: tuple[int, float] | None = None
    for signal in assigner["signals"]:
        if signal["kind"] != "guided":
            continue
        score = (1 - refine) * seed_score(signal) + refine * dot(signal["centroid"])
        if score >= assigner["threshold"] and (best is None or score > best[1]):
            best = (signal["group"], score)
    if best is not None:
        return best
    for signal in assigner["signals"]:
        if signal["kind"] != "discovered":
            continue
        score = dot(signal["centroid"])
        if score >= signal["threshold"] and (best is None or score > best[1]):
            best = (signal["group"], score)
    return best


# --- report ------------------------------------------------------------------------------------------


def summarise(
    result: ExtractionResult,
    *,
    ratings: Sequence[int],
    months: Sequence[str],
    courses: Sequence[Hashable],
    instructors: Mapping[Hashable, Sequence[Hashable]],
) -> dict:
    """Shares overall, per course, per instructor and per month, and each signal's rating lift.

    share: the signal's share of all complaints. lift: mean rating of the reviews without the signal
    minus the mean rating of those with it (how many stars the signal costs). Per course and per
    instructor: the signal's reviews there, that owner's complaints and reviews, and the share.
    """
    n = len(ratings)
    rating_array = np.asarray(ratings, dtype=float)
    complaint = result.complaint
    total_complaints = int(complaint.sum())
    month_list = sorted(set(months))
    month_index = {month: i for i, month in enumerate(month_list)}
    complaints_by_month = [0] * len(month_list)
    complaints_by_course: Counter = Counter()
    reviews_by_course: Counter = Counter(courses)
    for i in np.flatnonzero(complaint):
        complaints_by_month[month_index[months[i]]] += 1
        complaints_by_course[courses[i]] += 1

    def owners_of(course: Hashable) -> Sequence[Hashable]:
        return instructors.get(course, ())

    complaints_by_instructor: Counter = Counter()
    reviews_by_instructor: Counter = Counter()
    for course, count in reviews_by_course.items():
        for owner in owners_of(course):
            reviews_by_instructor[owner] += count
            complaints_by_instructor[owner] += complaints_by_course[course]

    signals = []
    for g, group in enumerate(result.groups):
        members = np.asarray(group.members, dtype=int)
        inside = np.zeros(n, dtype=bool)
        inside[members] = True
        with_mean = float(rating_array[inside].mean()) if inside.any() else None
        without_mean = float(rating_array[~inside].mean()) if (~inside).any() else None
        trend = [0] * len(month_list)
        by_course: Counter = Counter()
        by_instructor: Counter = Counter()
        for i in members:
            trend[month_index[months[i]]] += 1
            by_course[courses[i]] += 1
            for owner in owners_of(courses[i]):
                by_instructor[owner] += 1
        signals.append(
            {
                "group": g,
                "key": group.key,
                "size": len(members),
                "share": round(len(members) / total_complaints, 4) if total_complaints else 0.0,
                "lift": round(without_mean - with_mean, 4)
                if with_mean is not None and without_mean is not None
                else None,
                "mean_rating_with": round(with_mean, 4) if with_mean is not None else None,
                "mean_rating_without": round(without_mean, 4) if without_mean is not None else None,
                "trend": trend,
                "by_course": _breakdown(by_course, complaints_by_course, reviews_by_course),
                "by_instructor": _breakdown(by_instructor, complaints_by_instructor, reviews_by_instructor),
            }
        )
    return {
        "reviews": n,
        "complaints": total_complaints,
        "assigned": int(sum(len(group.members) for group in result.groups)),
        "months": month_list,
        "complaints_by_month": complaints_by_month,
        "signals": signals,
    }


def _breakdown(counts: Counter, complaints: Counter, reviews: Counter) -> list[dict]:
    rows = [
        {
            "id": owner,
            "count": count,
            "complaints": complaints[owner],
            "reviews": reviews[owner],
            "share": round(count / complaints[owner], 4) if complaints[owner] else 0.0,
        }
        for owner, count in counts.items()
    ]
    rows.sort(key=lambda row: (-row["count"], str(row["id"])))
    return rows
