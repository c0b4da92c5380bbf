"""Reads behind the signal pages: the staff dashboard, the staff API and the public partials.

Everything here reads the *current* run only (the last succeeded one): a queued, running, failed or
half-written run is never shown. Writes go through analytics.services.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import overload

from django.conf import settings
from django.db.models import Count, F, Prefetch, Q, QuerySet, Window
from django.db.models.functions import RowNumber, TruncMonth
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from analytics.models import ACTIVE_RUN_STATUSES, ReviewSignal, SignalCluster, SignalDefinition, SignalRun
from analytics.signals import Parameters
from reviews import pii
from reviews.models import Course, Instructor, Review

# Signals the public may see: the shipped taxonomy and the ones staff confirmed. Never a discovered
# candidate nobody looked at, never a dismissed one.
PUBLIC_STATUSES = (SignalDefinition.Status.SEEDED, SignalDefinition.Status.CONFIRMED)


def definition_description(definition: SignalDefinition | None) -> str:
    """The description in the page's language; the Chinese one when no English one has been written."""
    if definition is None:
        return ""
    if (get_language() or "").startswith("en") and definition.description_en:
        return definition.description_en
    return definition.description or definition.description_en


def definition_check_hint(definition: SignalDefinition) -> str:
    """How to spot the signal before buying, in the page's language; the Chinese hint when no English one
    has been written."""
    if (get_language() or "").startswith("en") and definition.check_hint_en:
        return definition.check_hint_en
    return definition.check_hint or definition.check_hint_en


def definition_name(definition: SignalDefinition | None, *, or_key: bool = True) -> str:
    if definition is None:
        return ""
    language = get_language() or ""
    if language.startswith("en") and definition.name_en:
        return definition.name_en
    return definition.name_zh or definition.name_en or (definition.key if or_key else "")


def cluster_name(cluster: SignalCluster) -> str:
    """What staff call a cluster: its definition's name, else the pipeline's label, else its top keywords."""
    name = definition_name(cluster.definition, or_key=False)
    if name:
        return name
    if cluster.label:
        return cluster.label
    terms = [chip["term"] for chip in keyword_chips(cluster.keywords)[:3]]
    if terms:
        return " · ".join(terms)
    return cluster.definition.key if cluster.definition else f"#{cluster.pk}"


def keyword_chips(keywords) -> list[dict]:
    """[[term, weight], ...] (or [{"term", "weight"}]) → chips with a 1–5 level relative to the top term."""
    pairs: list[tuple[str, float]] = []
    for item in keywords or []:
        if isinstance(item, dict):
            term, weight = item.get("term") or item.get("keyword"), item.get("weight", 0)
        elif isinstance(item, list | tuple) and item:
            term, weight = item[0], item[1] if len(item) > 1 else 0
        else:
            term, weight = item, 0
        if term in (None, ""):
            continue
        try:
            weight = float(weight)
        except (TypeError, ValueError):
            weight = 0.0
        pairs.append((str(term), weight))
    top = max((weight for _term, weight in pairs), default=0.0)
    return [
        {"term": term, "weight": round(weight, 4), "level": 1 + round(4 * weight / top) if top > 0 else 1}
        for term, weight in pairs
    ]


@overload
def effective_definition(definition: SignalDefinition) -> SignalDefinition: ...
@overload
def effective_definition(definition: SignalDefinition | None) -> SignalDefinition | None: ...
def effective_definition(definition: SignalDefinition | None) -> SignalDefinition | None:
    """A definition merged into another counts as that other one until the next run re-assigns its reviews."""
    if definition is not None and definition.merged_into_id:
        return definition.merged_into
    return definition


# --- staff dashboard ---------------------------------------------------------------------------------


def run_clusters(run: SignalRun) -> list[SignalCluster]:
    """The run's clusters ranked by share, each with `.name`, `.chips`, `.quotes` and `.status` attached."""
    # The Prefetch below fills SignalCluster.quote_reviews, which the model declares for mypy.
    clusters = list(
        run.clusters.select_related("definition", "definition__merged_into")  # type: ignore[no-redef]
        .prefetch_related(
            Prefetch(
                "representative_reviews",
                queryset=Review.objects.select_related("course").order_by("-created_at"),
                to_attr="quote_reviews",
            )
        )
        .order_by("-share", "-size", "pk")
    )
    _attach_fallback_quotes(run, [cluster for cluster in clusters if not cluster.quote_reviews])
    for cluster in clusters:
        _decorate(cluster)
    return clusters


def _attach_fallback_quotes(run: SignalRun, clusters: list[SignalCluster], per_cluster: int = 3) -> None:
    """Clusters without representative reviews quote their best-scored members instead."""
    if not clusters:
        return
    by_cluster = {cluster.pk: cluster for cluster in clusters}
    rows = (
        ReviewSignal.objects.filter(run=run, cluster__in=by_cluster)
        .annotate(
            position=Window(
                RowNumber(), partition_by=[F("cluster_id")], order_by=[F("score").desc(), F("pk")]
            )
        )
        .filter(position__lte=per_cluster)
        .select_related("review", "review__course")
    )
    for row in rows:
        by_cluster[row.cluster_id].quote_reviews.append(row.review)


def _decorate(cluster: SignalCluster) -> None:
    cluster.name = cluster_name(cluster)
    cluster.description = definition_description(cluster.definition)
    cluster.chips = keyword_chips(cluster.keywords)
    cluster.quotes = getattr(cluster, "quote_reviews", [])[:5]
    definition = cluster.definition
    cluster.status = definition.status if definition else SignalDefinition.Status.DISCOVERED
    cluster.merged_into_name = definition_name(definition.merged_into) if definition else ""
    cluster.share_percent = round(100 * (cluster.share or 0), 1)


def decorate_cluster(cluster: SignalCluster) -> SignalCluster:
    cluster.quote_reviews = list(
        cluster.representative_reviews.select_related("course").order_by("-created_at")
    )
    if not cluster.quote_reviews:
        _attach_fallback_quotes(cluster.run, [cluster], per_cluster=5)
    _decorate(cluster)
    return cluster


# Distinct colours shared by the trend chart and its legend (signals.css .swatch-N, signals.js PALETTE).
TREND_COLOURS = 12
OTHER_SIGNALS = 0  # the series id of the signals summed together past the chart's limit


def trend_colour(cluster: SignalCluster) -> int:
    """A signal keeps its colour from run to run: it follows the definition, not the signal's rank."""
    return (cluster.definition_id or cluster.pk) % TREND_COLOURS


def monthly_trend(run: SignalRun, clusters: list[SignalCluster], *, limit: int = TREND_COLOURS) -> dict:
    """Reviews per month showing each signal, for the trend chart: every signal that is not dismissed, the
    ones past the `limit` biggest summed as "other signals" (so the monthly totals never drop any)."""
    listed = [cluster for cluster in clusters if cluster.status != SignalDefinition.Status.DISMISSED]
    shown, rest = listed[:limit], listed[limit:]
    counted = (
        ReviewSignal.objects.filter(run=run, cluster__in=listed)
        .annotate(month=TruncMonth("review__created_at"))
        .values("cluster_id", "month")
        .annotate(n=Count("pk"))
        .order_by("month")
    )
    other = {cluster.pk for cluster in rest}
    rows = [
        {**row, "cluster_id": OTHER_SIGNALS if row["cluster_id"] in other else row["cluster_id"]}
        for row in counted
    ]
    series: list[tuple[int, str, int | None]] = [
        (cluster.pk, cluster.name, trend_colour(cluster)) for cluster in shown
    ]
    if rest:
        series.append((OTHER_SIGNALS, _("Other signals (%(count)d)") % {"count": len(rest)}, None))
    return _trend_series(rows, series)


def _trend_series(rows, series: list[tuple[int, str, int | None]]) -> dict:
    counts: dict[tuple[int, str], int] = {}
    months: list[str] = []
    for row in rows:
        if row["month"] is None:
            continue
        month = row["month"].strftime("%Y-%m")
        if month not in months:
            months.append(month)
        counts[(row["cluster_id"], month)] = counts.get((row["cluster_id"], month), 0) + row["n"]
    months = _fill_months(sorted(months))
    return {
        "months": months,
        "series": [
            {
                "id": pk,
                "name": name,
                "colour": colour,
                "data": [counts.get((pk, month), 0) for month in months],
            }
            for pk, name, colour in series
        ],
    }


def _fill_months(months: list[str]) -> list[str]:
    """Months with no matching review still get a point, so the x axis is evenly spaced in time."""
    if not months:
        return []
    year, month = (int(part) for part in months[0].split("-"))
    last = months[-1]
    filled = []
    while True:
        label = f"{year:04d}-{month:02d}"
        filled.append(label)
        if label >= last or len(filled) > 600:
            return filled
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def cluster_trend(cluster: SignalCluster) -> dict:
    rows = (
        ReviewSignal.objects.filter(cluster=cluster)
        .annotate(month=TruncMonth("review__created_at"))
        .values("cluster_id", "month")
        .annotate(n=Count("pk"))
        .order_by("month")
    )
    return _trend_series(rows, [(cluster.pk, cluster.name, trend_colour(cluster))])


def cluster_breakdown(cluster: SignalCluster, *, by: str) -> list[dict]:
    """Per course (`by="course"`) or per instructor: how many of its published reviews show this signal."""
    published = Q(reviews__status=Review.Status.PUBLISHED)
    if by == "course":
        members = (
            ReviewSignal.objects.filter(cluster=cluster, review__status=Review.Status.PUBLISHED)
            .values("review__course")
            .annotate(n=Count("pk"))
        )
        counts = {row["review__course"]: row["n"] for row in members}
        owners = Course.objects.filter(pk__in=counts).annotate(total=Count("reviews", filter=published))
    else:
        members = (
            ReviewSignal.objects.filter(cluster=cluster, review__status=Review.Status.PUBLISHED)
            .values("review__course__instructors")
            .annotate(n=Count("pk"))
        )
        counts = {
            row["review__course__instructors"]: row["n"]
            for row in members
            if row["review__course__instructors"]
        }
        owners = Instructor.objects.filter(pk__in=counts).annotate(
            total=Count("courses__reviews", filter=Q(courses__reviews__status=Review.Status.PUBLISHED))
        )
    rows = []
    for owner in owners:
        n = counts.get(owner.pk, 0)
        rows.append(
            {"object": owner, "n": n, "total": owner.total, "share": n / owner.total if owner.total else 0}
        )
    rows.sort(key=lambda row: (-row["n"], -row["share"], str(row["object"])))
    return rows


@dataclass
class RunProgress:
    """What the progress bar shows for one run (the JSON endpoint and the run table use it)."""

    run: SignalRun
    stalled: bool = field(init=False)

    def __post_init__(self) -> None:
        # The same limit after which signal_run_start gives the run up as dead.
        beat = self.run.heartbeat_at or self.run.started_at
        limit = timedelta(seconds=settings.SIGNAL_RUN_STALE_SECONDS)
        self.stalled = bool(
            self.run.status == SignalRun.Status.RUNNING and beat and timezone.now() - beat > limit
        )

    def as_dict(self) -> dict:
        run = self.run
        return {
            "id": run.pk,
            "status": run.status,
            "status_display": run.get_status_display(),
            "progress": run.progress,
            "step": run.step,
            "error": run.error,
            "is_current": run.is_current,
            "finished": run.status not in ACTIVE_RUN_STATUSES,
            "stalled": self.stalled,
            "created_at": run.created_at.isoformat() if run.created_at else None,
            "started_at": run.started_at.isoformat() if run.started_at else None,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "heartbeat_at": run.heartbeat_at.isoformat() if run.heartbeat_at else None,
        }


def changed_parameters(parameters: dict) -> dict:
    """The run's parameters that differ from the pipeline's defaults (what staff chose for this run)."""
    defaults = Parameters().as_dict()
    return {key: value for key, value in (parameters or {}).items() if defaults.get(key, object()) != value}


def run_duration(run: SignalRun) -> timedelta | None:
    if run.started_at and run.finished_at:
        return run.finished_at - run.started_at
    if run.started_at and run.status == SignalRun.Status.RUNNING:
        return timezone.now() - run.started_at
    return None


# --- public partials ---------------------------------------------------------------------------------


@dataclass
class PublicSignal:
    definition: SignalDefinition
    name: str
    description: str
    count: int
    total: int
    quotes: list[Review]

    @property
    def share(self) -> float:
        return self.count / self.total if self.total else 0.0

    @property
    def share_percent(self) -> int:
        return round(100 * self.share)


@dataclass
class PublicSignalSummary:
    run: SignalRun | None
    total_reviews: int
    signals: list[PublicSignal]


def public_signals(*, course: Course | None = None, instructor: Instructor | None = None, quotes: int = 3):
    """Confirmed (or seeded) signals of the current run among one course's or one instructor's published
    reviews: how many of those reviews show each signal, and up to `quotes` of the best-matching ones.

    Five queries whatever the number of reviews.
    """
    if (course is None) == (instructor is None):
        raise TypeError("pass exactly one of course= or instructor=")
    run = SignalRun.objects.current().first()
    reviews = Review.objects.filter(status=Review.Status.PUBLISHED)
    reviews = (
        reviews.filter(course=course)
        if course is not None
        else reviews.filter(course__instructors=instructor)
    )
    total = reviews.count()
    if run is None or total == 0:
        return PublicSignalSummary(run=run, total_reviews=total, signals=[])

    assignments: QuerySet[ReviewSignal] = ReviewSignal.objects.filter(run=run, review__in=reviews).filter(
        Q(
            cluster__definition__merged_into__isnull=True,
            cluster__definition__status__in=PUBLIC_STATUSES,
        )
        | Q(cluster__definition__merged_into__status__in=PUBLIC_STATUSES)
    )
    counts = assignments.values("cluster__definition").annotate(n=Count("review", distinct=True))
    definitions = {
        definition.pk: definition
        for definition in SignalDefinition.objects.select_related("merged_into").filter(
            pk__in=[row["cluster__definition"] for row in counts]
        )
    }
    per_definition: dict[int, int] = {}
    for row in counts:
        target = effective_definition(definitions[row["cluster__definition"]])
        per_definition[target.pk] = per_definition.get(target.pk, 0) + row["n"]

    top_quotes = (
        assignments.annotate(
            definition_pk=F("cluster__definition"),
            position=Window(
                RowNumber(), partition_by=[F("cluster__definition")], order_by=[F("score").desc(), F("pk")]
            ),
        )
        .filter(position__lte=quotes)
        .select_related("review", "review__course")
        .order_by("-score", "pk")
    )
    quotes_by_definition: dict[int, list[Review]] = {}
    for quote in top_quotes:
        target = effective_definition(definitions[quote.definition_pk])
        bucket = quotes_by_definition.setdefault(target.pk, [])
        if len(bucket) < quotes:
            bucket.append(quote.review)

    targets = {target.pk: target for target in map(effective_definition, definitions.values())}
    signals = [
        PublicSignal(
            definition=targets[pk],
            name=definition_name(targets[pk]),
            description=definition_description(targets[pk]),
            count=count,
            total=total,
            quotes=quotes_by_definition.get(pk, []),
        )
        for pk, count in per_definition.items()
    ]
    signals.sort(key=lambda signal: (-signal.count, signal.name))
    return PublicSignalSummary(run=run, total_reviews=total, signals=signals)


def signal_report(*, run: SignalRun | None = None) -> dict:
    """The JSON `manage.py extract_signals` prints for a run (default: the current one).

    {"run": id, "signals": [{"key", "name", "status", "keywords", "keyword_weights", "size", "share",
    "lift", "review_ids", "examples"}], "unassigned_complaints": [ids]} — review ids are external ids or
    "pk:N"; each review appears in at most one signal.
    """
    if run is None:
        run = SignalRun.objects.current().first()
    if run is None:
        return {"run": None, "signals": [], "unassigned_complaints": []}

    def review_key(pk: int, external_id: str | None) -> str:
        return external_id or f"pk:{pk}"

    members: dict[int, list[str]] = defaultdict(list)
    assigned: set[int] = set()
    for cluster_id, review_pk, external_id in (
        ReviewSignal.objects.filter(run=run)
        .order_by("cluster_id", "-score", "review_id")
        .values_list("cluster_id", "review_id", "review__external_id")
    ):
        members[cluster_id].append(review_key(review_pk, external_id))
        assigned.add(review_pk)
    signals = []
    for cluster in run.clusters.select_related("definition").prefetch_related("representative_reviews"):
        definition = cluster.definition
        examples = [
            {
                "review_id": review_key(review.pk, review.external_id),
                "text": pii.mask(review.text),
                "clause": (cluster.quote_clauses or {}).get(str(review.pk), ""),
            }
            for review in cluster.representative_reviews.all()
        ]
        signals.append(
            {
                "key": definition.key if definition else f"cluster-{cluster.pk}",
                "name": (definition.name_zh if definition else "") or cluster.label,
                "name_en": definition.name_en if definition else "",
                "status": definition.status if definition else SignalDefinition.Status.DISCOVERED,
                "merged_into": definition.merged_into.key if definition and definition.merged_into else None,
                "keywords": [term for term, _weight in cluster.keywords],
                "keyword_weights": cluster.keywords,
                "size": len(members[cluster.pk]),
                "share": cluster.share,
                "lift": cluster.lift,
                "review_ids": members[cluster.pk],
                "examples": examples,
            }
        )
    signals.sort(key=lambda signal: (-signal["size"], signal["key"]))
    unassigned_pks = [pk for pk in run.report.get("unassigned_complaints", []) if pk not in assigned]
    external = dict(Review.objects.filter(pk__in=unassigned_pks).values_list("pk", "external_id"))
    return {
        "run": run.pk,
        "reviews": run.report.get("reviews"),
        "complaints": run.report.get("complaints"),
        # What the noise gate kept out (by kind), low ratings whose text raises no complaint, undated reviews.
        "noise": run.report.get("noise", {}),
        "rating_mismatch": run.report.get("rating_mismatch", 0),
        "undated": run.report.get("undated", 0),
        "signals": signals,
        "unassigned_complaints": [
            review_key(pk, external.get(pk)) for pk in unassigned_pks if pk in external
        ],
    }
