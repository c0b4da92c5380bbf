"""Score a failure-signal report against hand labels: pure functions, no Django, no database.

The report is what `python manage.py extract_signals --json OUT` writes: {"run", "signals": [{"key",
"name", "status", "keywords", "size", "share", "review_ids", "examples"}], "unassigned_complaints": [...]},
with external ids for imported reviews. The labels map review ids to one main label each: a complaint
theme, or `praise`, `spam` or `other` (bench/data/README.md describes the real set,
bench/data/real_labels.jsonl holds it).

Every figure is computed over the labelled reviews that were in the analysed corpus (the population the caller
passes), so a quick run over part of the data still scores only what it saw. The real sample is stratified by
stars (bench/data/README.md), so precision and shares are those of the sample, not of the whole platform.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL_DIR = ROOT.parent / "shared" / "data" / "real"
REAL_LABELS = ROOT / "bench" / "data" / "real_labels.jsonl"
RATED_FILES = (
    "icourse163_cs_reviews.jsonl",
    "study163_it_reviews.jsonl",
    "icourse163_cs_topvoted_reviews.jsonl",
)

THEMES = (
    "video",
    "audio",
    "materials",
    "platform",
    "no_response",
    "unfinished",
    "price_upsell",
    "too_hard",
    "too_shallow",
    "delivery",
    "content_errors",
    "no_practice",
)
NOT_THEMES = ("praise", "spam", "other")
REAL_LABEL_SET = frozenset(THEMES + NOT_THEMES)

UNASSIGNED = "(unassigned)"
RECOVERED_PRECISION = 0.5
RECOVERED_RECALL = 0.4
LOW_STARS = 2


@dataclass(frozen=True)
class ThemeMatch:
    """A theme and the signal that matches it best (by F1), over the labelled reviews."""

    theme: str
    count: int
    signal: str | None
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    @property
    def recovered(self) -> bool:
        return self.precision >= RECOVERED_PRECISION and self.recall >= RECOVERED_RECALL


@dataclass(frozen=True)
class Scores:
    labelled: int
    complaints: int
    nmi: float
    placed: int
    nmi_placed: float
    themes: tuple[ThemeMatch, ...]
    praise_in_signals: float | None
    low_praise_in_signals: float | None
    spam_in_signals: float | None
    largest_share: float
    signals: int

    @property
    def recovered(self) -> int:
        return sum(match.recovered for match in self.themes)


def load_labels(path: Path = REAL_LABELS, allowed: Iterable[str] | None = REAL_LABEL_SET) -> dict[str, str]:
    """id → label from JSON Lines of {"id", "label"}; an unknown label or a repeated id is an error."""
    allowed = frozenset(allowed) if allowed is not None else None
    labels: dict[str, str] = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            item = json.loads(line)
            review_id, label = str(item["id"]), item["label"]
            if allowed is not None and label not in allowed:
                raise ValueError(f"{path}:{number}: unknown label {label!r}")
            if review_id in labels:
                raise ValueError(f"{path}:{number}: id {review_id!r} is labelled twice")
            labels[review_id] = label
    return labels


def load_reviews(paths: Iterable[Path]) -> dict[str, dict]:
    """id → review (the import_feedback JSON object) from JSON Lines files."""
    reviews: dict[str, dict] = {}
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    item = json.loads(line)
                    reviews[str(item["id"])] = item
    return reviews


def report_assignment(report: Mapping) -> dict[str, str]:
    """Review id → key of the signal holding it. A review in two signals is an error: the report says one."""
    assignment: dict[str, str] = {}
    for signal in report.get("signals", []):
        for review_id in signal.get("review_ids", []):
            review_id = str(review_id)
            if review_id in assignment:
                raise ValueError(
                    f"review {review_id!r} is in two signals: {assignment[review_id]!r} and {signal['key']!r}"
                )
            assignment[review_id] = signal["key"]
    return assignment


def report_sizes(report: Mapping) -> dict[str, int]:
    """Signal key → number of reviews it holds (all reviews, labelled or not)."""
    return {signal["key"]: len(signal.get("review_ids", [])) for signal in report.get("signals", [])}


def nmi(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """Normalised mutual information (arithmetic mean, as scikit-learn's default); 0 for no items."""
    from sklearn.metrics import normalized_mutual_info_score

    if len(truth) != len(predicted):
        raise ValueError("truth and predicted differ in length")
    if not truth:
        return 0.0
    return float(normalized_mutual_info_score(list(truth), list(predicted)))


def theme_matches(
    assignment: Mapping[str, str], labels: Mapping[str, str], themes: Iterable[str]
) -> list[ThemeMatch]:
    """For each theme, the signal with the best F1 against it (ties: the smaller key).

    Precision counts every labelled review in the signal (praise, spam and `other` included); recall is the
    share of the theme's reviews the signal holds.
    """
    in_signal: dict[str, Counter] = defaultdict(Counter)
    for review_id, label in labels.items():
        key = assignment.get(review_id)
        if key is not None:
            in_signal[key][label] += 1
    matches = []
    for theme in themes:
        count = sum(1 for label in labels.values() if label == theme)
        best = ThemeMatch(theme, count, None, 0.0, 0.0)
        for key in sorted(in_signal):
            hits = in_signal[key][theme]
            if not hits:
                continue
            candidate = ThemeMatch(theme, count, key, hits / sum(in_signal[key].values()), hits / count)
            if candidate.f1 > best.f1:
                best = candidate
        matches.append(best)
    return matches


def share_in_signals(review_ids: Iterable[str], assignment: Mapping[str, str]) -> float | None:
    """Share of the given reviews that are in any signal; None when there are none to count."""
    review_ids = list(review_ids)
    if not review_ids:
        return None
    return sum(review_id in assignment for review_id in review_ids) / len(review_ids)


def largest_share(sizes: Mapping[str, int]) -> float:
    """The largest signal's share of all reviews assigned to a signal."""
    total = sum(sizes.values())
    return max(sizes.values()) / total if total else 0.0


def score(
    assignment: Mapping[str, str],
    labels: Mapping[str, str],
    *,
    sizes: Mapping[str, int],
    ratings: Mapping[str, int] | None = None,
    themes: Iterable[str] | None = None,
) -> Scores:
    """All figures for one assignment (review id → signal key) over the labelled population `labels`.

    `themes` defaults to every label that is not praise, spam or other. NMI is over the theme-labelled
    reviews: the prediction is the signal key, or one UNASSIGNED bucket for every review in no signal;
    `nmi_placed` keeps only the reviews placed in some signal. `sizes` (all reviews per signal) gives the
    largest share and the number of signals holding anything.
    """
    if themes is None:
        themes = sorted({label for label in labels.values() if label not in NOT_THEMES})
    themes = list(themes)
    theme_set = set(themes)
    complaint_ids = [review_id for review_id, label in labels.items() if label in theme_set]
    truth = [labels[review_id] for review_id in complaint_ids]
    predicted = [assignment.get(review_id, UNASSIGNED) for review_id in complaint_ids]
    placed_ids = [review_id for review_id in complaint_ids if review_id in assignment]

    def of_label(label: str, *, low_only: bool = False) -> list[str]:
        return [
            review_id
            for review_id, value in labels.items()
            if value == label and (not low_only or (ratings or {}).get(review_id, LOW_STARS + 1) <= LOW_STARS)
        ]

    return Scores(
        labelled=len(labels),
        complaints=len(complaint_ids),
        nmi=nmi(truth, predicted),
        placed=len(placed_ids),
        nmi_placed=nmi([labels[i] for i in placed_ids], [assignment[i] for i in placed_ids]),
        themes=tuple(theme_matches(assignment, labels, themes)),
        praise_in_signals=share_in_signals(of_label("praise"), assignment),
        low_praise_in_signals=share_in_signals(of_label("praise", low_only=True), assignment)
        if ratings is not None
        else None,
        spam_in_signals=share_in_signals(of_label("spam"), assignment),
        largest_share=largest_share(sizes),
        signals=sum(1 for size in sizes.values() if size),
    )


def baseline_assignment(
    texts: Mapping[str, str], *, k: int, analyzer: str = "words", seed: int = 0
) -> dict[str, str]:
    """Plain TF-IDF + KMeans over the given texts: review id → "kmeans-N".

    analyzer "words" segments with analytics.text.segment (jieba, the project's dictionary and stopwords);
    "chars" uses character 1–3-grams. Fixed seed, so the same texts give the same clusters.
    """
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    ids = sorted(texts)
    if not ids:
        return {}
    if analyzer == "words":
        from analytics.text import segment_many

        tokens = segment_many(texts[i] for i in ids)
        vectorizer = TfidfVectorizer(analyzer=lambda words: words)
        documents = tokens
    elif analyzer == "chars":
        vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3))
        documents = [texts[i] for i in ids]
    else:
        raise ValueError(f"unknown analyzer {analyzer!r}")
    matrix = vectorizer.fit_transform(documents)
    clusters = KMeans(n_clusters=min(k, len(ids)), n_init=10, random_state=seed).fit_predict(matrix)
    return {review_id: f"kmeans-{cluster}" for review_id, cluster in zip(ids, clusters, strict=True)}


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def format_table(rows: Sequence[tuple[str, Scores]]) -> str:
    """The side-by-side summary, one column per method."""
    names = [name for name, _scores in rows]
    width = max(12, *(len(name) for name in names))
    lines = ["figure".ljust(34) + "".join(name.rjust(width + 2) for name in names)]

    def line(title: str, values: Iterable[str]) -> None:
        lines.append(title.ljust(34) + "".join(value.rjust(width + 2) for value in values))

    scores = [s for _name, s in rows]
    line("labelled reviews scored", (str(s.labelled) for s in scores))
    line("theme-labelled complaints", (str(s.complaints) for s in scores))
    line("NMI (unassigned = one bucket)", (f"{s.nmi:.3f}" for s in scores))
    line("NMI, placed complaints only", (f"{s.nmi_placed:.3f}" for s in scores))
    line("complaints placed in a signal", (f"{s.placed}" for s in scores))
    line("themes recovered (P≥.5, R≥.4)", (f"{s.recovered}/{len(s.themes)}" for s in scores))
    line("praise in a signal", (_percent(s.praise_in_signals) for s in scores))
    line("praise rated ≤2★ in a signal", (_percent(s.low_praise_in_signals) for s in scores))
    line("spam in a signal", (_percent(s.spam_in_signals) for s in scores))
    line("largest signal's share", (_percent(s.largest_share) for s in scores))
    line("signals holding reviews", (str(s.signals) for s in scores))
    return "\n".join(lines)


def format_themes(name: str, scores: Scores) -> str:
    """Per theme: its best-matching signal with precision, recall and whether it counts as recovered."""
    lines = [f"{name}: best-matching signal per theme"]
    lines.append(f"  {'theme':20s} {'n':>4s}  {'signal':28s} {'P':>5s} {'R':>5s} {'F1':>5s}")
    for match in scores.themes:
        lines.append(
            f"  {match.theme:20s} {match.count:4d}  {(match.signal or '—')[:28]:28s} "
            f"{match.precision:5.2f} {match.recall:5.2f} {match.f1:5.2f}"
            f"  {'recovered' if match.recovered else ''}"
        )
    return "\n".join(lines)


STAR_GROUPS = (("1–2★", (1, 2)), ("3★", (3,)), ("4–5★", (4, 5)))
OUTCOMES = ("in a signal", "a complaint in no signal", "not taken for a complaint")


def where_complaints_went(
    report: Mapping, labels: Mapping[str, str], ratings: Mapping[str, int], themes: Iterable[str]
) -> dict[str, dict[str, int]]:
    """Per star group, how many theme-labelled reviews are in a signal, were taken for a complaint but placed
    in none, or were not taken for a complaint at all: where a theme's recall is lost."""
    theme_set = set(themes)
    assignment = report_assignment(report)
    unassigned = {str(review_id) for review_id in report.get("unassigned_complaints", [])}
    table = {group: dict.fromkeys(OUTCOMES, 0) for group, _stars in STAR_GROUPS}
    for review_id, label in labels.items():
        if label not in theme_set:
            continue
        group = next(name for name, stars in STAR_GROUPS if ratings[review_id] in stars)
        if review_id in assignment:
            table[group][OUTCOMES[0]] += 1
        elif review_id in unassigned:
            table[group][OUTCOMES[1]] += 1
        else:
            table[group][OUTCOMES[2]] += 1
    return table


def format_where(table: Mapping[str, Mapping[str, int]]) -> str:
    groups = list(table)
    lines = ["where the theme-labelled complaints went".ljust(42) + "".join(g.rjust(8) for g in groups)]
    for outcome in OUTCOMES:
        lines.append(f"  {outcome}".ljust(42) + "".join(str(table[g][outcome]).rjust(8) for g in groups))
    return "\n".join(lines)
