"""One claimed extraction run, computed and saved: load and segment the corpus, extract the signals the
taxonomy guides or discovers, summarise them, and write the clusters and assignments in one transaction
that makes the run current."""

from __future__ import annotations

import gc
import time
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from itertools import chain
from pathlib import Path

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from threadpoolctl import threadpool_limits

from analytics.models import (
    ACTIVE_RUN_STATUSES,
    ReviewSignal,
    ReviewTokens,
    SignalAssigner,
    SignalCluster,
    SignalDefinition,
    SignalRun,
)
from analytics.services.assignment import recount_clusters
from analytics.services.scores import scores_recompute_soon
from analytics.services.signal_corpus import bring_up_to_date, ensure_models, load_corpus
from analytics.services.token_cache import insert_rows, refresh_statistics
from analytics.services.training import decisions_id
from analytics.signals import (
    ExtractionResult,
    Parameters,
    Report,
    SignalSpec,
    extract,
    in_scope,
    seed_phrases,
    summarise,
)
from analytics.text import get_segmenter, load_stopwords
from reviews.models import Course, Review

KEYWORD_STOPWORDS_PATH = Path(__file__).resolve().parent.parent / "data" / "keyword_stopwords.txt"


GUIDED_STATUSES = (SignalDefinition.Status.SEEDED, SignalDefinition.Status.CONFIRMED)


_LEARNED_TERMS = 20

# What a run's counts keep of its workflow's chunks.
_CHUNK_COUNTS = ("learning", "learning_done", "chunks", "chunks_done")


class SignalRunAbandoned(Exception):
    """The run was given up (marked failed) by someone else while this worker was still on it."""


def progress_writer(run_id: int) -> Callable[[int, str], None]:
    def write(percent: int, step: str) -> None:
        updated = SignalRun.objects.filter(pk=run_id, status=SignalRun.Status.RUNNING).update(
            # Never backwards: the final step of a workflow starts after its chunks moved the bar on.
            progress=Greatest(F("progress"), Value(max(0, min(99, percent)))),
            step=str(step)[:120],
            heartbeat_at=timezone.now(),
        )
        if not updated:
            raise SignalRunAbandoned(run_id)

    return write


_STEP_NAMES = {
    "assigning complaints to defined signals": gettext_noop("Assigning complaints to defined signals"),
    "discovering new signals": gettext_noop("Discovering new signals"),
    "describing signals": gettext_noop("Describing signals"),
}


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """A run builds millions of small objects (every review's words) and frees few of them before it ends;
    the cyclic garbage collector would walk them again and again and find nothing (about 1 s of a 5 s
    re-run on 100k reviews, a third of segmenting and deciding). Reference counting still frees everything
    as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def execute_signal_run(run: SignalRun) -> None:
    """Compute and save a run this process has claimed; SignalRunAbandoned when it was given up meanwhile."""
    with cyclic_gc_paused():
        _compute_and_save_signal_run(run)


def _compute_and_save_signal_run(run: SignalRun) -> None:
    started = time.monotonic()
    timings: dict[str, float] = {}
    # What the run's plan and chunks took before this final step (learning, segmenting, deciding): the total
    # a user sees is the whole run's.
    before = (timezone.now() - run.started_at).total_seconds() if run.started_at is not None else 0.0
    timings["chunks"] = round(max(0.0, before), 3)
    progress = progress_writer(run.pk)
    params = Parameters.from_mapping(run.parameters)

    progress(3, _("Loading reviews"))
    # Linear algebra on one thread: a worker shares its cores with other workers, and BLAS threads fighting
    # over two cores made the word vectors five times slower.
    with threadpool_limits(limits=1):
        # Learned before the chunks: learned here only if they went missing since.
        models, learned = ensure_models(progress)
        learning = time.monotonic() - started
        mark = time.monotonic()
        # The chunks may have rewritten much of the cache: the load joins every review with it.
        refresh_statistics(ReviewTokens, Review)
        corpus = load_corpus(decisions_id(models))
        timings["load"] = round(time.monotonic() - mark, 3)

        mark = time.monotonic()
        progress(8, _("Segmenting review text"))
        update = bring_up_to_date(corpus, models)
        timings["prepare"] = round(learning + time.monotonic() - mark, 3)

        mark = time.monotonic()
        result = extract(
            corpus.packed,
            corpus.course_ids,
            _signal_specs(),
            vectors=models.vectors,
            evidence=models.complaints.log_odds_many,
            parameters=params,
            keyword_stopwords=load_stopwords(KEYWORD_STOPWORDS_PATH),
            progress=lambda percent, step: progress(percent, _(_STEP_NAMES.get(step, step))),
        )
    corpus.packed = []
    timings["extract"] = round(time.monotonic() - mark, 3)

    mark = time.monotonic()
    progress(80, _("Building the report"))
    # Typed as summarise() reads it (any hashable owner), which a dict[int, ...] is not to mypy.
    instructors: defaultdict[Hashable, list[Hashable]] = defaultdict(list)
    for course_id, instructor_id in Course.instructors.through.objects.values_list(
        "course_id", "instructor_id"
    ):
        instructors[course_id].append(instructor_id)
    report = summarise(
        result,
        ratings=corpus.ratings,
        months=corpus.months,
        courses=corpus.course_ids,
        instructors=instructors,
    )
    report["unassigned_complaints"] = [corpus.review_ids[i] for i in result.unassigned]
    report["noise"] = {
        key[len("noise_") :]: value for key, value in corpus.counts.items() if key.startswith("noise_")
    }
    report["rating_mismatch"] = corpus.counts["rating_mismatch"]
    timings["report"] = round(time.monotonic() - mark, 3)

    progress(90, _("Saving results"))
    mark = time.monotonic()
    so_far = run.counts or {}  # the plan's and the chunks' share of the work
    counts = {
        **{key: so_far[key] for key in _CHUNK_COUNTS if key in so_far},
        **result.counts,
        "noise": sum(report["noise"].values()),
        "rating_mismatch": corpus.counts["rating_mismatch"],
        "undated": report["undated"],
        "segmented": int(so_far.get("segmented", 0)) + learned.segmented + update.segmented,
        "decided": int(so_far.get("decided", 0)) + update.decided,
        "trained": int(so_far.get("trained", 0)) + int(learned.trained),
        "classifier": models.kind,
    }
    _save_signal_run(run, result, report, corpus.review_ids, counts, timings, started, mark)
    _prune_signal_runs()


def _definition_terms(definition: SignalDefinition, merged: list[SignalDefinition]) -> tuple:
    terms = [str(term) for term in definition.seed_terms or [] if str(term).strip()]
    for other in merged:
        terms.extend(str(term) for term in other.seed_terms or [] if str(term).strip())
    return seed_phrases(terms, get_segmenter().tokens)


def _scoped_courses(scope: list[str], courses: list[tuple[int, str, list[str]]]) -> frozenset[int] | None:
    """The courses in the scope (signals.in_scope: by tag or by title); None for no scope (every course)."""
    if not [tag for tag in scope if str(tag).strip()]:
        return None
    return frozenset(pk for pk, title, tags in courses if in_scope(scope, title=title, tags=tags))


def _courses_with_tags() -> list[tuple[int, str, list[str]]]:
    """Every course's id, title and tag names and slugs (a catalog has hundreds, not millions)."""
    tags: dict[int, list[str]] = defaultdict(list)
    for course_id, name, slug in Course.tags.through.objects.values_list(
        "course_id", "tag__name", "tag__slug"
    ):
        tags[course_id].extend((name, slug))
    return [(pk, title, tags[pk]) for pk, title in Course.objects.values_list("pk", "title")]


def _signal_specs() -> list[SignalSpec]:
    """The pipeline's view of the taxonomy: seeded and confirmed signals guide the assignment (within the
    courses their scope tags name); discovered and dismissed ones only keep their identity when a new
    cluster looks like them. A merged signal lends its terms to the one it was merged into."""
    definitions = list(SignalDefinition.objects.order_by("key"))
    catalog = _courses_with_tags()
    merged: dict[int, list[SignalDefinition]] = defaultdict(list)
    for definition in definitions:
        if definition.merged_into_id:
            merged[definition.merged_into_id].append(definition)
    learned: dict[int, dict[str, float]] = defaultdict(dict)
    current = SignalRun.objects.current().first()
    if current is not None:
        for definition_id, keywords in current.clusters.filter(definition__isnull=False).values_list(
            "definition_id", "keywords"
        ):
            for term, weight in keywords[:_LEARNED_TERMS]:
                learned[definition_id][str(term)] = float(weight)
    specs = []
    for definition in definitions:
        if definition.merged_into_id:
            continue
        guided = definition.status in GUIDED_STATUSES
        member_terms = {}
        if definition.status != SignalDefinition.Status.SEEDED:
            for other in [definition, *merged[definition.pk]]:
                member_terms.update(learned.get(other.pk, {}))
        specs.append(
            SignalSpec(
                key=definition.key,
                terms=_definition_terms(definition, merged[definition.pk]),
                learned=member_terms,
                guided=guided,
                courses=_scoped_courses([str(tag) for tag in definition.scope_tags or []], catalog),
                scope=tuple(
                    str(tag).strip().lower() for tag in definition.scope_tags or [] if str(tag).strip()
                ),
            )
        )
    return specs


def _new_definition_key() -> str:
    taken = set(SignalDefinition.objects.filter(key__startswith="candidate-").values_list("key", flat=True))
    number = len(taken) + 1
    while f"candidate-{number}" in taken:
        number += 1
    return f"candidate-{number}"


def _save_signal_run(
    run: SignalRun,
    result: ExtractionResult,
    report: Report,
    review_ids: list[int],
    counts: dict,
    timings: dict,
    started: float,
    save_started: float,
) -> None:
    """Write everything in one transaction and make the run current; nothing if it was given up."""
    with transaction.atomic():
        locked = SignalRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != SignalRun.Status.RUNNING or locked.worker != run.worker:
            raise SignalRunAbandoned(run.pk)
        definitions = {definition.key: definition for definition in SignalDefinition.objects.all()}
        clusters = []
        for group, summary in zip(result.groups, report["signals"], strict=True):
            definition = definitions.get(group.key) if group.key else None
            label = " · ".join(term for term, _weight in group.keywords[:3])
            if definition is None:
                definition = SignalDefinition.objects.create(
                    key=_new_definition_key(),
                    name_zh=label or _("New signal"),
                    status=SignalDefinition.Status.DISCOVERED,
                    seed_terms=[term for term, _weight in group.keywords[:8]],
                )
                definitions[definition.key] = definition
                group.key = definition.key
                summary["key"] = definition.key
            clusters.append(
                SignalCluster(
                    run=locked,
                    definition=definition,
                    label=label[:120],
                    keywords=[[term, weight] for term, weight in group.keywords],
                    size=summary["size"],
                    share=summary["share"],
                    lift=summary["lift"],
                    quote_clauses={
                        str(review_ids[member]): group.clauses.get(member, "")
                        for member in group.representatives
                    },
                )
            )
        SignalCluster.objects.bulk_create(clusters)
        insert_rows(
            ReviewSignal,
            ["run", "review", "cluster", "score"],
            (
                (locked.pk, review_ids[member], cluster.pk, round(score, 5))
                for cluster, group in zip(clusters, result.groups, strict=True)
                for member, score in zip(group.members, group.scores, strict=True)
            ),
        )
        # A learner may have deleted a review since the corpus was loaded: drop its rows (ReviewSignal's
        # foreign keys are not constraints) and keep it out of the quotes, instead of failing the run.
        gone = ReviewSignal.objects.filter(run=locked).exclude(
            Exists(Review.objects.filter(pk=OuterRef("review")))
        )
        deleted, _by_model = gone.delete()
        if deleted:
            recount_clusters([cluster.pk for cluster in clusters], complaints=result.counts["complaints"])
        representatives = {
            cluster.pk: [review_ids[member] for member in group.representatives]
            for cluster, group in zip(clusters, result.groups, strict=True)
        }
        existing = set(
            Review.objects.filter(pk__in=list(chain.from_iterable(representatives.values()))).values_list(
                "pk", flat=True
            )
        )
        through = SignalCluster.representative_reviews.through
        through.objects.bulk_create(
            [
                through(signalcluster_id=cluster_id, review_id=review_id)
                for cluster_id, members in representatives.items()
                for review_id in members
                if review_id in existing
            ]
        )
        for cluster, summary in zip(clusters, report["signals"], strict=True):
            summary["cluster"] = cluster.pk
        SignalAssigner.objects.create(
            run=locked, payload={**result.assigner, "clusters": [cluster.pk for cluster in clusters]}
        )
        SignalRun.objects.current().exclude(pk=locked.pk).update(is_current=False)
        timings["save"] = round(time.monotonic() - save_started, 3)
        timings["total"] = round(timings["chunks"] + time.monotonic() - started, 3)
        locked.status = SignalRun.Status.SUCCEEDED
        locked.is_current = True
        locked.progress = 100
        locked.step = _("Done")
        locked.report = report
        locked.counts = counts
        locked.timings = timings
        locked.finished_at = timezone.now()
        locked.heartbeat_at = locked.finished_at
        locked.save()
        scores_recompute_soon()


def _prune_signal_runs(keep: int = 3) -> None:
    """Old runs keep their clusters (history) but drop per-review rows: only the last few keep those."""
    kept = list(
        SignalRun.objects.filter(status=SignalRun.Status.SUCCEEDED)
        .order_by("-is_current", "-finished_at")
        .values_list("pk", flat=True)[:keep]
    )
    old = SignalRun.objects.exclude(pk__in=kept).exclude(status__in=ACTIVE_RUN_STATUSES)
    ReviewSignal.objects.filter(run__in=old).delete()
    SignalAssigner.objects.filter(run__in=old).delete()
