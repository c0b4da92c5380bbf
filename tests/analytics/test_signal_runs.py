"""Extraction runs end to end on the database: lifecycle, progress, one transaction, failures, the
single-active-run rule, the token cache, incremental assignment and the admin actions."""

import os
import socket
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime

from analytics import reports
from analytics.models import (
    ACTIVE_RUN_STATUSES,
    LearnedModel,
    ReviewSignal,
    ReviewTokens,
    SignalAssigner,
    SignalCluster,
    SignalDefinition,
    SignalRun,
)
from analytics.services import assignment, signal_corpus, signal_extraction, signal_runs, taxonomy
from reviews.models import Review
from tests.analytics.signal_corpus import go_course, make_corpus
from tests.factories import ReviewFactory, StaffUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    taxonomy.seed_signal_definitions()


@pytest.fixture
def go_seeded(seeded):
    """Only the Go signals, as on a site whose staff deleted the course-wide ones: what the course-wide
    "questions go unanswered" signal would hold is then left to discovery."""
    SignalDefinition.objects.filter(scope_tags=[]).delete()


def run_once(**parameters) -> SignalRun:
    run, _created = signal_runs.signal_run_start(parameters=parameters or None, enqueue=False)
    return signal_runs.signal_run_execute(run_id=run.pk)


def assignments(run: SignalRun) -> dict[int, str]:
    return dict(ReviewSignal.objects.filter(run=run).values_list("review_id", "cluster__definition__key"))


def test_it_runs_an_extraction_and_makes_it_the_current_report(seeded):
    labels = make_corpus()
    run = run_once()
    assert run.status == SignalRun.Status.SUCCEEDED and run.is_current and run.progress == 100
    assert run.counts["reviews"] == len(labels)
    assert run.counts["complaints"] == sum(label != "praise" for label in labels.values())
    found = assignments(run)
    for review_id, label in labels.items():
        if label in {"no_production", "outdated_tooling", "weak_testing"}:
            assert found.get(review_id) == label
        if label == "praise":
            assert review_id not in found
    # The after-sales complaints (nothing in the Go seeds) go to the course-wide "questions go unanswered"
    # signal, which holds nothing else.
    support = {found.get(review_id) for review_id, label in labels.items() if label == "support"}
    assert support == {"no_response"}
    assert {label for review_id, label in labels.items() if found.get(review_id) in support} == {"support"}


def test_without_a_signal_for_them_recurring_complaints_surface_as_candidates(go_seeded):
    labels = make_corpus()
    run = run_once()
    found = assignments(run)
    # The unseeded after-sales complaints surface as candidates of their own that hold nothing else.
    support = {found.get(review_id) for review_id, label in labels.items() if label == "support"}
    assert support and all(key and key.startswith("candidate-") for key in support)
    assert {label for review_id, label in labels.items() if found.get(review_id) in support} == {"support"}
    candidates = SignalDefinition.objects.filter(key__in=support)
    assert all(candidate.status == SignalDefinition.Status.DISCOVERED for candidate in candidates)
    assert any("助教" in candidate.name_zh or "答疑" in candidate.name_zh for candidate in candidates)
    for cluster in SignalCluster.objects.filter(run=run):
        assert cluster.keywords and cluster.keywords[0][1] == 1.0
        assert 1 <= cluster.representative_reviews.count() <= 5
        assert cluster.size == cluster.assignments.count()
        assert cluster.lift is not None and cluster.lift > 0
    assert {signal["cluster"] for signal in run.report["signals"]} == set(
        run.clusters.values_list("pk", flat=True)
    )
    assert run.timings["total"] > 0 and run.finished_at is not None
    # The total a user reads is the whole run's (learning and the chunks included), not the final step's.
    whole = (run.finished_at - run.started_at).total_seconds()
    assert run.timings["chunks"] > 0
    assert abs(run.timings["total"] - whole) < 0.5 and run.timings["total"] > run.timings["extract"]


def test_it_reports_progress_and_a_heartbeat_while_running(seeded, monkeypatch):
    make_corpus(repeat=1)
    seen = []
    real_extract = signal_extraction.extract

    def watching_extract(*args, progress, **kwargs):
        def spy(percent, step):
            progress(percent, step)
            row = SignalRun.objects.get()
            seen.append((row.status, row.progress, row.step, row.heartbeat_at))

        return real_extract(*args, progress=spy, **kwargs)

    monkeypatch.setattr(signal_extraction, "extract", watching_extract)
    run_once()
    assert [status for status, *_rest in seen] == ["running"] * len(seen) and len(seen) >= 3
    percents = [percent for _status, percent, _step, _beat in seen]
    assert percents == sorted(percents) and 0 < percents[0] < percents[-1] < 100
    assert all(step and beat for _status, _percent, step, beat in seen)


def test_it_leaves_the_previous_report_current_when_a_run_fails(seeded, monkeypatch):
    make_corpus(repeat=1)
    first = run_once()

    def broken(*args, **kwargs):
        raise RuntimeError("clustering exploded")

    monkeypatch.setattr(signal_extraction, "extract", broken)
    run, _created = signal_runs.signal_run_start(enqueue=False)
    with pytest.raises(RuntimeError):
        signal_runs.signal_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == SignalRun.Status.FAILED and "clustering exploded" in run.error
    assert not run.is_current and not run.clusters.exists()
    assert SignalRun.objects.get(is_current=True) == first


def test_it_completes_a_run_when_a_learner_deletes_a_review_meanwhile(seeded, monkeypatch):
    make_corpus()
    first = run_once()
    # A quoted complaint: it has an assignment and is a representative review of its cluster.
    quoted = SignalCluster.objects.filter(run=first).first().representative_reviews.first()
    real_extract = signal_extraction.extract

    def extract_while_the_author_deletes(*args, **kwargs):
        result = real_extract(*args, **kwargs)
        Review.objects.filter(pk=quoted.pk).delete()  # committed by the learner's request
        return result

    monkeypatch.setattr(signal_extraction, "extract", extract_while_the_author_deletes)
    run = run_once()
    assert run.status == SignalRun.Status.SUCCEEDED and run.is_current
    assert not ReviewSignal.objects.filter(review_id=quoted.pk).exists()
    for cluster in run.clusters.all():
        assert quoted.pk not in set(cluster.representative_reviews.values_list("pk", flat=True))
        assert cluster.size == cluster.assignments.count()


@pytest.mark.parametrize(
    ("zone", "moments", "months"),
    [
        # 16:30 UTC on 31 January is already February in Shanghai (UTC+8); 15:59 is not.
        ("Asia/Shanghai", ["2026-01-31T15:59:00Z", "2026-01-31T16:30:00Z"], ["2026-01", "2026-02"]),
        # New York is UTC-4 in summer: 03:30 UTC on 1 April is still March there.
        ("America/New_York", ["2026-04-01T03:30:00Z", "2026-04-01T04:00:00Z"], ["2026-03", "2026-04"]),
    ],
)
def test_it_files_reviews_under_the_month_of_the_sites_time_zone(seeded, settings, zone, moments, months):
    settings.TIME_ZONE = zone
    course = go_course()
    for moment in moments:
        ReviewFactory(
            course=course, rating=1, text="调用没有超时，也没有 context", created_at=parse_datetime(moment)
        )
    run = run_once()
    assert run.report["months"] == months
    assert [signal["trend"] for signal in run.report["signals"]] == [[1, 1]]


def test_it_stores_nothing_of_a_run_whose_saving_fails_half_way(go_seeded, monkeypatch):
    make_corpus()
    first = run_once()
    deleted, _by_model = SignalDefinition.objects.filter(status=SignalDefinition.Status.DISCOVERED).delete()
    assert deleted  # the next run has to create its candidates again
    remaining = SignalDefinition.objects.count()

    def broken_create(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(SignalAssigner.objects, "create", broken_create)  # the last write of the transaction
    run, _created = signal_runs.signal_run_start(enqueue=False)
    with pytest.raises(RuntimeError):
        signal_runs.signal_run_execute(run_id=run.pk)
    assert not SignalCluster.objects.filter(run=run).exists()
    assert not ReviewSignal.objects.filter(run=run).exists()
    assert SignalDefinition.objects.count() == remaining  # the new candidates were rolled back
    assert SignalRun.objects.get(is_current=True) == first


def test_it_discards_the_results_of_a_run_given_up_while_it_ran(seeded, monkeypatch):
    make_corpus(repeat=1)
    real_extract = signal_extraction.extract

    def slow_extract(*args, **kwargs):
        result = real_extract(*args, **kwargs)
        SignalRun.objects.update(status=SignalRun.Status.FAILED, error="given up")  # e.g. marked stale
        return result

    monkeypatch.setattr(signal_extraction, "extract", slow_extract)
    run = run_once()
    assert run.status == SignalRun.Status.FAILED and not run.is_current
    assert not SignalCluster.objects.exists() and not SignalRun.objects.filter(is_current=True).exists()


def test_it_starts_only_one_run_when_two_are_requested(seeded):
    first, first_created = signal_runs.signal_run_start(enqueue=False)
    second, second_created = signal_runs.signal_run_start(enqueue=False)
    assert first.pk == second.pk and (first_created, second_created) == (True, False)
    assert SignalRun.objects.filter(status__in=ACTIVE_RUN_STATUSES).count() == 1


def test_it_returns_the_other_request_s_run_when_both_pass_the_check_at_once(seeded, monkeypatch):
    other = SignalRun.objects.create(status=SignalRun.Status.QUEUED)
    checks = iter([None])  # the first check runs before the other request committed its run
    real_active = signal_runs._active_signal_run
    monkeypatch.setattr(signal_runs, "_active_signal_run", lambda: next(checks, None) or real_active())
    run, _created = signal_runs.signal_run_start(enqueue=False)
    assert run.pk == other.pk and SignalRun.objects.count() == 1


def test_it_gives_up_a_run_whose_worker_stopped_sending_heartbeats(seeded, settings):
    settings.SIGNAL_RUN_STALE_SECONDS = 60
    stale = SignalRun.objects.create(
        status=SignalRun.Status.RUNNING,
        worker="elsewhere:1",
        started_at=timezone.now() - timedelta(minutes=5),
        heartbeat_at=timezone.now() - timedelta(minutes=2),
    )
    with translation.override("en"):
        run, _created = signal_runs.signal_run_start(enqueue=False)
    stale.refresh_from_db()
    assert stale.status == SignalRun.Status.FAILED and "heartbeat" in stale.error
    assert run.pk != stale.pk and run.status == SignalRun.Status.QUEUED


def test_it_gives_up_at_once_a_run_whose_worker_process_is_gone(seeded):
    dead_pid = 2**22 + 12345  # above Linux's pid_max default: no such process
    with pytest.raises(ProcessLookupError):
        os.kill(dead_pid, 0)
    killed = SignalRun.objects.create(
        status=SignalRun.Status.RUNNING,
        worker=f"{socket.gethostname()}:{dead_pid}",
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )
    run, _created = signal_runs.signal_run_start(enqueue=False)
    killed.refresh_from_db()
    assert killed.status == SignalRun.Status.FAILED and run.pk != killed.pk


def test_it_leaves_a_run_with_a_live_worker_alone(seeded):
    live = SignalRun.objects.create(
        status=SignalRun.Status.RUNNING,
        worker=f"{socket.gethostname()}:{os.getpid()}",
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )
    assert signal_runs.signal_run_start(enqueue=False) == (live, False)
    assert signal_runs.signal_run_execute(run_id=live.pk).status == SignalRun.Status.RUNNING  # not run twice


def test_it_does_not_execute_a_finished_run_again(seeded):
    make_corpus(repeat=1)
    run = run_once()
    clusters = set(run.clusters.values_list("pk", flat=True))
    again = signal_runs.signal_run_execute(run_id=run.pk)
    assert (
        again.status == SignalRun.Status.SUCCEEDED
        and set(again.clusters.values_list("pk", flat=True)) == clusters
    )


def test_it_rejects_unknown_parameters_and_stores_nothing(seeded):
    with pytest.raises(ValidationError) as error:
        signal_runs.signal_run_start(parameters={"clusters": "many"})
    assert "parameters" in error.value.message_dict
    assert not SignalRun.objects.exists()


def test_it_enqueues_the_task_after_commit_and_fails_the_run_if_the_broker_is_down(
    seeded, monkeypatch, django_capture_on_commit_callbacks
):
    from analytics import tasks

    def unreachable(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.extract_signals, "delay", unreachable)
    with django_capture_on_commit_callbacks(execute=True):
        run, _created = signal_runs.signal_run_start(requested_by=StaffUserFactory())
    run.refresh_from_db()
    assert run.status == SignalRun.Status.FAILED and "broker unreachable" in run.error
    assert run.requested_by is not None
    new_run, created = signal_runs.signal_run_start(enqueue=False)
    assert created and new_run.pk != run.pk  # a new run can start


def test_it_segments_each_text_once_and_reuses_the_cached_tokens(seeded):
    labels = make_corpus(repeat=1)
    first = run_once()
    assert first.counts["segmented"] == len(labels) == ReviewTokens.objects.count()
    second = run_once()
    assert second.counts["segmented"] == 0
    review = Review.objects.get(pk=next(iter(labels)))
    review.text = "全新的评价：没有超时控制"
    review.save()
    assert run_once().counts["segmented"] == 1


def test_it_gives_the_same_result_when_nothing_changed(seeded):
    make_corpus()
    first = run_once()
    candidates = set(SignalDefinition.objects.filter(status=SignalDefinition.Status.DISCOVERED))
    second = run_once()
    assert assignments(first) == assignments(second)
    keywords = lambda run: sorted(  # noqa: E731
        (cluster.definition.key, cluster.keywords) for cluster in run.clusters.select_related("definition")
    )
    assert keywords(first) == keywords(second)
    assert set(SignalDefinition.objects.filter(status=SignalDefinition.Status.DISCOVERED)) == candidates
    first.refresh_from_db()
    assert not first.is_current and SignalRun.objects.get(is_current=True) == second


@pytest.mark.parametrize(
    "reviews",
    [
        [],
        [("讲得非常清楚，强烈推荐", 5), ("干货满满，推荐", 5)],
        [("😂😂😂", 1), ("👍", 2)],
        [("The examples are toys. No timeouts, no tests, no modules.", 2), ("Great course!", 5)],
        [(("没有超时控制，goroutine 泄漏，GOPATH 过时。" * 200)[:5000], 1)],
    ],
    ids=["empty", "no-complaints", "emoji-only", "english-only", "5000-characters"],
)
def test_it_completes_a_run_on_corpora_without_much_to_find(seeded, reviews):
    for text, rating in reviews:
        ReviewFactory(text=text, rating=rating)
    run = run_once()
    assert run.status == SignalRun.Status.SUCCEEDED and run.is_current
    report = reports.signal_report()
    ids = [review_id for signal in report["signals"] for review_id in signal["review_ids"]]
    assert len(ids) == len(set(ids))
    assert set(ids).isdisjoint(report["unassigned_complaints"])


def test_it_assigns_a_new_review_to_the_current_signals_right_away(seeded):
    make_corpus()
    run = run_once()
    review = ReviewFactory(
        course=go_course(), rating=2, text="下游接口调用没有超时，也没有重试，线上直接雪崩"
    )
    assigned = assignment.signal_review_assign(review_id=review.pk)
    assert assigned is not None and assigned.run == run
    assert assigned.cluster.definition.key == "no_production"
    assert ReviewTokens.objects.filter(review=review).exists()
    # The signal's size and share on the dashboard count the new review at once.
    cluster = SignalCluster.objects.get(pk=assigned.cluster_id)
    assert cluster.size == ReviewSignal.objects.filter(cluster=cluster).count()
    assert cluster.share == round(cluster.size / run.counts["complaints"], 4)
    review.rating, review.text = 5, "讲得非常清楚，例子贴近工作，强烈推荐"
    review.save()
    assert assignment.signal_review_assign(review_id=review.pk) is None
    assert not ReviewSignal.objects.filter(review=review).exists()
    # Assigned again (the task can run twice), it is not counted twice; leaving, it is counted out.
    assert assignment.signal_review_assign(review_id=review.pk) is None
    left = SignalCluster.objects.get(pk=assigned.cluster_id)
    assert left.size == cluster.size - 1 == ReviewSignal.objects.filter(cluster=cluster).count()
    assert left.share == round(left.size / run.counts["complaints"], 4)


def test_it_seeds_the_shipped_signals_once_and_keeps_admin_edits():
    # The six Go signals, scoped to Go courses, and the twelve course-wide ones.
    assert taxonomy.seed_signal_definitions() == 18
    scoped = dict(SignalDefinition.objects.values_list("key", "scope_tags"))
    assert sum(tags == ["go"] for tags in scoped.values()) == 6 and scoped["video_playback"] == []
    definition = SignalDefinition.objects.get(key="toy_examples")
    taxonomy.signal_rename(definition=definition, name_zh="玩具例子", name_en="Toy code")
    assert taxonomy.seed_signal_definitions() == 0
    definition.refresh_from_db()
    assert definition.name_zh == "玩具例子" and definition.seed_terms
    assert set(SignalDefinition.objects.values_list("status", flat=True)) == {"seeded"}


def test_every_shipped_seed_term_matches_something_so_staff_can_save_a_shipped_signal_unchanged():
    taxonomy.seed_signal_definitions()
    for definition in SignalDefinition.objects.all():
        # Saved as staff would, with nothing changed: every term is one the runs can use (none is cut into
        # single characters that would match almost anything, and so be silently ignored).
        saved = taxonomy.signal_edit_terms(
            definition=definition, seed_terms=definition.seed_terms, scope_tags=definition.scope_tags
        )
        assert saved.seed_terms == definition.seed_terms


def test_it_lets_admins_rename_confirm_dismiss_merge_and_promote(go_seeded):
    labels = make_corpus()
    run_once()
    candidate = next(
        definition
        for definition in SignalDefinition.objects.filter(status=SignalDefinition.Status.DISCOVERED)
        if "助教" in definition.name_zh
    )
    with pytest.raises(ValidationError):
        taxonomy.signal_rename(definition=candidate, name_zh="  ")
    promoted = taxonomy.signal_promote(
        definition=candidate, name_zh="售后答疑缺失", name_en="No after-sales support"
    )
    assert promoted.status == SignalDefinition.Status.CONFIRMED
    assert any("助教" in term or "答疑" in term for term in promoted.seed_terms)
    with pytest.raises(ValidationError):
        taxonomy.signal_promote(definition=promoted, name_zh="再来一次")

    toy = SignalDefinition.objects.get(key="toy_examples")
    testing = SignalDefinition.objects.get(key="weak_testing")
    with pytest.raises(ValidationError):
        taxonomy.signal_merge(definition=toy, into=toy)
    taxonomy.signal_merge(definition=toy, into=testing)
    with pytest.raises(ValidationError):
        taxonomy.signal_merge(definition=testing, into=toy)  # toy is merged away already
    with pytest.raises(ValidationError):
        taxonomy.signal_confirm(definition=toy)

    tooling = taxonomy.signal_dismiss(definition=SignalDefinition.objects.get(key="outdated_tooling"))
    assert tooling.status == SignalDefinition.Status.DISMISSED
    run = run_once()
    found = assignments(run)
    # The confirmed signal now guides the assignment by its terms, and takes only what it describes.
    support = [review_id for review_id, key in found.items() if key == promoted.key]
    assert support and {labels[review_id] for review_id in support} == {"support"}
    assert "toy_examples" not in found.values()  # merged: its reviews count as weak_testing's
    # A dismissed signal no longer guides the assignment; when its reviews still cluster together the
    # cluster keeps the dismissed identity instead of coming back as a "new" candidate.
    dismissed = {review_id for review_id, key in found.items() if key == "outdated_tooling"}
    assert dismissed and {labels[review_id] for review_id in dismissed} == {"outdated_tooling"}


def test_the_models_learn_from_a_bounded_sample_and_remember_the_corpus_size(seeded, monkeypatch):
    labels = make_corpus()
    monkeypatch.setattr(signal_corpus, "TRAINING_SAMPLE", 25)
    learned_from: list[int] = []
    real_train = signal_corpus.train_and_store

    def watched(reviews, ratings, **options):
        learned_from.append(len(reviews))
        return real_train(reviews, ratings, **options)

    monkeypatch.setattr(signal_corpus, "train_and_store", watched)
    assert run_once().status == SignalRun.Status.SUCCEEDED
    assert learned_from == [25]
    # Stored with the size of the whole corpus, so the next run does not take the sample for a shrunk corpus
    # and learn again.
    assert LearnedModel.objects.get(kind=LearnedModel.COMPLAINTS).reviews == len(labels)
    assert run_once().status == SignalRun.Status.SUCCEEDED
    assert learned_from == [25]
    ratings = [5, 4, 3] * 330 + [1] * 10
    sample = signal_corpus.training_sample(ratings)
    assert len(sample) == 25 and sorted(set(sample)) == sample == signal_corpus.training_sample(ratings)
    # The few low-rated reviews (the complaint examples) are all kept, up to half of the sample.
    assert set(range(990, 1000)) <= set(sample)
    assert sum(position >= 500 for position in signal_corpus.training_sample([5] * 500 + [1] * 500)) == 12
    assert signal_corpus.training_sample([None] * 10) == list(range(10))
