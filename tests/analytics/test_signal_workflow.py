"""A run as a workflow: the models learned first if needed, the reviews segmented and decided in chunks (a
group of tasks joined in the database), then the final step.

The workflow gives the report a single-process run gives; progress counts the chunks; a chunk that fails
once is retried and the run succeeds; one that keeps failing fails the run and the current report stays.
"""

import io

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from analytics import tasks
from analytics.models import ReviewTokens, SignalRun
from analytics.reports import signal_report
from analytics.services import signal_corpus, signal_runs, taxonomy
from tests.analytics.signal_corpus import make_corpus

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    taxonomy.seed_signal_definitions()


def _start() -> int:
    run, created = signal_runs.signal_run_start(enqueue=False)
    assert created
    return run.pk


def _report_then_undo(execute) -> dict:
    """The report of one run from the current state of the database, which is then left as it was."""
    with transaction.atomic():
        run = execute(_start())
        assert run.status == SignalRun.Status.SUCCEEDED, run.error
        report = signal_report(run=run)
        report.pop("run")
        transaction.set_rollback(True)
    return report


def _on_the_workflow(pk: int) -> SignalRun:
    tasks.extract_signals.apply(args=[pk])
    return SignalRun.objects.get(pk=pk)


def test_the_workflow_gives_the_report_of_a_run_in_one_chunk(seeded, settings):
    make_corpus()
    settings.SIGNAL_RUN_CHUNK_SIZE = 7
    in_chunks = _report_then_undo(_on_the_workflow)
    settings.SIGNAL_RUN_CHUNK_SIZE = 100_000
    in_one = _report_then_undo(lambda pk: signal_runs.signal_run_execute(run_id=pk))
    assert in_chunks["signals"], "the corpus should give signals"
    assert in_chunks == in_one


@override_settings(SIGNAL_RUN_CHUNK_SIZE=10)
def test_the_chunks_cache_every_stale_review_and_progress_counts_them(seeded, monkeypatch):
    labels = make_corpus()
    chunks = -(-len(labels) // 10)
    seen: list[tuple[int, str]] = []
    real_chunk = signal_runs.signal_run_chunk

    def watched(**arguments):
        done = real_chunk(**arguments)
        run = SignalRun.objects.get(pk=arguments["run_id"])
        seen.append((run.counts["chunks_done"], run.step))
        return done

    monkeypatch.setattr(signal_runs, "signal_run_chunk", watched)
    tasks.extract_signals.apply(args=[_start()])
    run = SignalRun.objects.get()
    assert run.status == SignalRun.Status.SUCCEEDED, run.error
    assert [done for done, _step in seen] == list(range(1, chunks + 1))
    assert seen[-1][1] == f"分词 {chunks}/{chunks}"
    assert run.counts["chunks"] == run.counts["chunks_done"] == chunks
    # The models were learned from the reviews first (segmented on the way); the chunks decided every review
    # and the final step found nothing left to do.
    assert run.counts["trained"] == 1
    assert run.counts["segmented"] == run.counts["decided"] == len(labels) == ReviewTokens.objects.count()
    assert run.timings["prepare"] < run.timings["total"]
    assert run.counts["reviews"] == len(labels)

    # A re-run finds nothing stale: no chunk at all, the final step runs at once.
    pk = _start()
    tasks.extract_signals.apply(args=[pk])
    again = SignalRun.objects.get(pk=pk)
    assert again.status == SignalRun.Status.SUCCEEDED, again.error
    assert again.counts["chunks"] == 0 and again.counts["segmented"] == again.counts["decided"] == 0


@override_settings(SIGNAL_RUN_CHUNK_SIZE=10)
def test_a_chunk_that_fails_once_is_retried_and_the_run_succeeds(seeded, monkeypatch):
    labels = make_corpus()
    calls: list[tuple[int, int]] = []
    real_update = signal_corpus.update_range

    def flaky(first: int, last: int, models):
        calls.append((first, last))
        if len(calls) == 2:
            raise ConnectionError("database went away")
        return real_update(first, last, models)

    monkeypatch.setattr(signal_runs, "update_range", flaky)
    pk = _start()
    tasks.extract_signals.apply(args=[pk])
    run = SignalRun.objects.get(pk=pk)
    assert run.status == SignalRun.Status.SUCCEEDED, run.error
    assert calls[1] == calls[2], "the failed chunk should have been run again"
    assert run.counts["chunks_done"] == run.counts["chunks"] == len(set(calls))
    assert run.counts["reviews"] == run.counts["segmented"] == run.counts["decided"] == len(labels)


@override_settings(SIGNAL_RUN_CHUNK_SIZE=10)
def test_a_chunk_that_keeps_failing_fails_the_run_and_keeps_the_current_report(seeded, monkeypatch):
    make_corpus()
    current = signal_runs.signal_run_execute(run_id=_start())
    assert current.is_current
    ReviewTokens.objects.all().delete()

    def broken(first: int, last: int, models):
        raise ConnectionError("database went away")

    monkeypatch.setattr(signal_runs, "update_range", broken)
    pk = _start()
    with pytest.raises(ConnectionError):
        tasks.extract_signals.apply(args=[pk], throw=True)
    run = SignalRun.objects.get(pk=pk)
    assert run.status == SignalRun.Status.FAILED and "database went away" in run.error
    assert not run.is_current
    assert SignalRun.objects.get(is_current=True) == current


@override_settings(SIGNAL_RUN_CHUNK_SIZE=10)
def test_extract_signals_without_a_worker_runs_the_workflow_here(seeded):
    labels = make_corpus()
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("extract_signals", stdout=stdout, stderr=stderr)
    run = SignalRun.objects.get()
    assert run.status == SignalRun.Status.SUCCEEDED
    assert run.counts["chunks"] == run.counts["chunks_done"] == -(-len(labels) // 10)
    assert stdout.getvalue().startswith(f"运行 #{run.pk}：{len(labels)} 条评价")
    assert stderr.getvalue() == ""


@override_settings(SIGNAL_RUN_CHUNK_SIZE=10)
def test_a_chunk_delivered_again_counts_once_and_the_final_step_runs_once(seeded, monkeypatch):
    labels = make_corpus()
    pk = _start()
    plan = signal_runs.signal_run_plan(run_id=pk)
    # No models yet: the workers segment the sample they learn from first, chunk by chunk.
    assert plan is not None and not plan.chunks and len(plan.learning) >= 2
    learned = [signal_runs.signal_run_learn_chunk(run_id=pk, review_ids=ids) for ids in plan.learning]
    assert [outcome.completes_run for outcome in learned] == [False] * (len(learned) - 1) + [True]
    again = signal_runs.signal_run_learn_chunk(run_id=pk, review_ids=plan.learning[0])
    assert again.completes_run and again.segmented == 0
    run = SignalRun.objects.get(pk=pk)
    assert run.counts["learning_done"] == run.counts["learning"] == len(plan.learning)
    assert run.counts["segmented"] == sum(outcome.segmented for outcome in learned) > 0
    # The last one's resume learns the models and plans the chunks, once (it may be queued twice).
    plan = signal_runs.signal_run_plan(run_id=pk, resume=True)
    assert signal_runs.signal_run_plan(run_id=pk, resume=True) is None
    assert plan is not None and not plan.learning
    assert SignalRun.objects.get(pk=pk).counts["trained"] == 1
    ranges = plan.chunks
    assert len(ranges) >= 3
    first, *rest = ranges
    assert not signal_runs.signal_run_chunk(run_id=pk, first=first[0], last=first[1]).completes_run
    # The worker died before acknowledging it: the same chunk comes again and must not count as a second one.
    again = signal_runs.signal_run_chunk(run_id=pk, first=first[0], last=first[1])
    assert not again.completes_run and again.segmented == 0
    assert SignalRun.objects.get(pk=pk).counts["chunks_done"] == 1
    outcomes = [signal_runs.signal_run_chunk(run_id=pk, first=a, last=b) for a, b in rest]
    assert [outcome.completes_run for outcome in outcomes] == [False] * (len(rest) - 1) + [True]
    # Delivered again after the set was complete (the final step may not have been queued): it asks again.
    assert signal_runs.signal_run_chunk(run_id=pk, first=first[0], last=first[1]).completes_run

    finished: list[int] = []
    real_execute = signal_runs._execute_claimed

    def watched(run):
        finished.append(run.pk)
        return real_execute(run)

    monkeypatch.setattr(signal_runs, "_execute_claimed", watched)
    run = signal_runs.signal_run_finish(run_id=pk)
    assert run.status == SignalRun.Status.SUCCEEDED, run.error
    assert run.counts["chunks_done"] == run.counts["chunks"] == len(ranges)
    assert "chunks_finished" not in run.counts
    # A second final step (queued by the chunk delivered again) finds the run finished and changes nothing.
    assert signal_runs.signal_run_finish(run_id=pk).status == SignalRun.Status.SUCCEEDED
    assert finished == [pk]
    assert not signal_runs.signal_run_chunk(run_id=pk, first=first[0], last=first[1]).completes_run
    assert run.counts["decided"] == len(labels)


@override_settings(SIGNAL_RUN_CHUNK_SIZE=10)
def test_reviews_segmented_ahead_while_the_models_are_learned_are_only_decided_by_the_chunks(seeded):
    labels = make_corpus()
    in_one = _report_then_undo(lambda pk: signal_runs.signal_run_execute(run_id=pk))
    pk = _start()
    plan = signal_runs.signal_run_plan(run_id=pk)
    assert plan is not None and plan.learning and plan.ahead
    # Ranges of all the reviews, for the workers that would wait while one of them learns the models.
    first, last = plan.ahead[0]
    assert plan.ahead[-1][1] >= max(review for batch in plan.learning for review in batch)
    ahead = signal_runs.signal_run_ahead_chunk(run_id=pk, first=first, last=last)
    pending = ReviewTokens.objects.filter(review_id__gte=first, review_id__lte=last)
    assert ahead == pending.count() > 0
    assert not pending.filter(complaint=True).exists()  # segmented, not decided
    # Delivered again: nothing left to segment there, and it counts once.
    assert signal_runs.signal_run_ahead_chunk(run_id=pk, first=first, last=last) == 0
    learned = [signal_runs.signal_run_learn_chunk(run_id=pk, review_ids=ids) for ids in plan.learning]
    assert SignalRun.objects.get(pk=pk).counts["segmented"] == ahead + sum(o.segmented for o in learned)
    plan = signal_runs.signal_run_plan(run_id=pk, resume=True)
    assert plan is not None and plan.chunks
    # Once the chunks are planned, segmenting ahead is theirs to do.
    untouched = ReviewTokens.objects.count()
    a, b = plan.chunks[-1]
    assert signal_runs.signal_run_ahead_chunk(run_id=pk, first=a, last=b) == 0
    assert ReviewTokens.objects.count() == untouched
    for a, b in plan.chunks:
        signal_runs.signal_run_chunk(run_id=pk, first=a, last=b)
    run = signal_runs.signal_run_finish(run_id=pk)
    assert run.status == SignalRun.Status.SUCCEEDED, run.error
    # Every review segmented once over the three kinds of chunk, all decided by the chunks.
    assert run.counts["segmented"] == run.counts["decided"] == len(labels)
    assert "ahead_finished" not in run.counts
    report = signal_report(run=run)
    report.pop("run")
    assert report == in_one


def _first_chunk_with_the_cache_emptied() -> tuple[int, int, int]:
    """A run planned after an earlier one stored its models and the token cache was emptied: its id and its
    first chunk (primary keys first..last), which has every review to segment and decide."""
    make_corpus()
    signal_runs.signal_run_execute(run_id=_start())  # models learned and stored
    ReviewTokens.objects.all().delete()
    pk = _start()
    plan = signal_runs.signal_run_plan(run_id=pk)
    assert plan is not None and plan.chunks and not plan.learning
    first, last = plan.chunks[0]
    return pk, first, last


@override_settings(SIGNAL_RUN_CHUNK_SIZE=10)
def test_a_chunk_whose_review_was_segmented_ahead_meanwhile_reads_it_again(seeded, monkeypatch):
    """A chunk inserts the cache rows of reviews that had none when it read them; if segmenting ahead
    wrote one meanwhile, the chunk reads its range again instead of failing."""
    pk, first, last = _first_chunk_with_the_cache_emptied()
    real = signal_corpus._decide_and_store
    calls = []

    def racing(rows, models):
        if not calls:
            signal_corpus.segment_stale([rows[0][0]])  # written ahead just before this chunk writes
        calls.append(len(rows))
        return real(rows, models)

    monkeypatch.setattr(signal_corpus, "_decide_and_store", racing)
    outcome = signal_runs.signal_run_chunk(run_id=pk, first=first, last=last)
    assert len(calls) == 2 and calls[0] == calls[1]
    assert outcome.segmented == calls[0] - 1  # the one segmented ahead was only decided
    cached = ReviewTokens.objects.filter(review_id__gte=first, review_id__lte=last)
    assert cached.count() == calls[0]
    assert all(row.pipeline == cached.first().pipeline for row in cached)


def test_a_chunk_stopped_before_its_count_leaves_no_work_and_counts_it_all_when_delivered_again(
    seeded, monkeypatch
):
    """A chunk's cache writes and its count commit together: a worker killed between them would leave the
    reviews done but uncounted, and the chunk delivered again would find nothing to do."""
    pk, first, last = _first_chunk_with_the_cache_emptied()
    in_range = ReviewTokens.objects.filter(review_id__gte=first, review_id__lte=last)
    counting = signal_runs._chunk_done

    def killed(*args, **kwargs):
        raise RuntimeError("the worker was killed")

    monkeypatch.setattr(signal_runs, "_chunk_done", killed)
    with pytest.raises(RuntimeError):
        signal_runs.signal_run_chunk(run_id=pk, first=first, last=last)
    assert not in_range.exists()
    monkeypatch.setattr(signal_runs, "_chunk_done", counting)
    signal_runs.signal_run_chunk(run_id=pk, first=first, last=last)
    counts = SignalRun.objects.get(pk=pk).counts
    assert in_range.count() > 0
    assert counts["segmented"] == counts["decided"] == in_range.count()


@pytest.mark.django_db(transaction=True)
def test_a_run_without_a_worker_shares_its_chunks_out_over_processes_of_its_own(
    seeded, settings, monkeypatch, tmp_path
):
    """extract_signals without a worker runs a run's chunks in SIGNAL_RUN_LOCAL_PROCESSES processes forked
    for it on PostgreSQL (outside a transaction), and gives the report the chunks give one by one here.
    SQLite takes one writer at a time: there they run here."""
    import os

    from django.db import connection

    from analytics.models import LearnedModel

    make_corpus()
    settings.SIGNAL_RUN_CHUNK_SIZE = 10
    pids = tmp_path / "pids"
    real_update = signal_runs.update_range

    def watched(first, last, models):
        with pids.open("a") as out:
            out.write(f"{os.getpid()}\n")
        return real_update(first, last, models)

    monkeypatch.setattr(signal_runs, "update_range", watched)

    def cold_report(processes: int) -> dict:
        settings.SIGNAL_RUN_LOCAL_PROCESSES = processes
        ReviewTokens.objects.all().delete()
        LearnedModel.objects.all().delete()
        run = signal_runs.signal_run_execute(run_id=_start())
        assert run.status == SignalRun.Status.SUCCEEDED, run.error
        assert run.counts["segmented"] == run.counts["decided"] == ReviewTokens.objects.count()
        report = signal_report(run=run)
        report.pop("run")
        return report

    one_by_one = cold_report(1)
    assert set(pids.read_text().split()) == {str(os.getpid())}
    pids.unlink()
    shared = cold_report(2)
    ran_in = set(pids.read_text().split())
    if connection.vendor == "postgresql":
        # Which of the processes takes which chunk is theirs to race for; none runs here.
        assert ran_in and str(os.getpid()) not in ran_in
    else:
        assert ran_in == {str(os.getpid())}
    assert shared == one_by_one


@override_settings(SIGNAL_RUN_CHUNK_SIZE=10)
def test_segmenting_ahead_that_fails_is_logged_and_leaves_the_run_running(seeded, monkeypatch, caplog):
    make_corpus()
    pk = _start()
    assert signal_runs.signal_run_plan(run_id=pk).ahead

    def broken(**_arguments):
        raise RuntimeError("database went away")

    monkeypatch.setattr(signal_runs, "signal_run_ahead_chunk", broken)
    assert tasks.segment_signal_range_ahead.apply(args=[pk, 1, 10]).get() == 0
    assert "segmenting reviews 1-10 ahead failed" in caplog.text
    assert SignalRun.objects.get(pk=pk).status == SignalRun.Status.RUNNING
