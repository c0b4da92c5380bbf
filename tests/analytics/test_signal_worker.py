"""Signal runs on a real Celery worker process, against the real Redis and PostgreSQL.

A worker killed with SIGKILL in the middle of a run's chunks, with another worker to take over, does not
lose the run: the chunk it held is delivered again and the run completes. With no worker left, the run
never becomes current, the previous report stays, and the run ends up failed; a fresh worker then
completes a new run. Two runs requested at the same moment produce a single active run.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from analytics.models import SignalRun
from analytics.services import signal_runs
from courselens.celery import app as celery_app
from reviews.models import Course, Review
from tests.trust.processes import shared_database_url, wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

CELERY = Path(sys.executable).parent / "celery"
FINISHED = (SignalRun.Status.SUCCEEDED, SignalRun.Status.FAILED)

COMPLAINTS = [
    "例子全是 Hello World，只会传 chan int，和生产环境差太远",
    "HTTP 示例没有任何超时，也没有 context，错误全用 fmt.Errorf 吞掉",
    "并发只讲了 go f()，select 和 time.After 一句没提，goroutine 泄漏更没讲",
    "2026 年了还在讲 GOPATH，不用 go mod，Go 版本也很老",
    "没有表驱动测试，没有 benchmark，pprof 完全没讲",
    "老师就是照着 PPT 念，没有任何实战经验，GitHub 上什么项目都没有",
    "语速太快了，根本跟不上，字幕也没有",
    "售后答疑没人回复，群里问问题石沉大海",
]
PRAISE = [
    "讲得很清楚，context 超时控制的例子贴近生产",
    "项目实战很扎实，pprof 压测都讲到了，推荐",
    "老师有开源经验，代码规范，测试写得很好",
]


class Worker:
    """One `celery worker` process in its own process group (so SIGKILL takes its pool children too)."""

    def __init__(self, *, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.name = f"signals-test-{uuid.uuid4().hex[:8]}@%h"
        self._log_file = log.open("ab")
        self.process = subprocess.Popen(
            [
                str(CELERY),
                "-A",
                "courselens",
                "worker",
                "--pool=prefork",
                "--concurrency=1",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "-n",
                self.name,
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self) -> None:
        def ready() -> bool:
            if self.process.poll() is not None:
                output = self.log.read_text(errors="replace")
                pytest.fail(f"The worker exited with {self.process.returncode}:\n{output}")
            return b" ready." in self.log.read_bytes()

        wait_for(ready, timeout=90, what="the Celery worker to be ready", log=self.log)

    def kill(self) -> None:
        """SIGKILL the whole process group: no warm shutdown, no chance to clean up or acknowledge."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=30)
        self._log_file.close()


@pytest.fixture
def worker_env(redis_url, tmp_path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "DJANGO_"))}
    env.update(
        DATABASE_URL=shared_database_url(),
        REDIS_URL=redis_url,
        COURSELENS_DEV="1",
        COURSELENS_VAR_DIR=str(tmp_path / "var"),
        DJANGO_SETTINGS_MODULE="courselens.settings",
        CELERY_TASK_ALWAYS_EAGER="0",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture
def start_worker(worker_env, tmp_path):
    # Messages left in the queue by earlier tests would refer to rows of another database state.
    celery_app.control.purge()
    workers: list[Worker] = []

    def start() -> Worker:
        worker = Worker(env=worker_env, log=tmp_path / f"worker-{len(workers) + 1}.log")
        workers.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.kill()
    celery_app.control.purge()


@pytest.fixture
def corpus() -> int:
    """Enough reviews that a run takes a noticeable time on this machine, with recurring complaints."""
    course = Course.objects.create(title="Go 高并发实战", slug="go-worker-test")
    rng = random.Random(7)
    now = timezone.now()
    reviews = []
    for i in range(8000):
        if i % 4 == 0:
            text, rating = rng.choice(PRAISE), 5
        else:
            text, rating = rng.choice(COMPLAINTS), rng.choice([1, 2, 3])
        reviews.append(
            Review(
                course=course,
                external_id=f"worker-{i}",
                rating=rating,
                text=f"{text}。第{i}位学员：{rng.choice(['真的', '确实', '感觉', '个人觉得'])}如此",
                source=Review.Source.IMPORT,
                created_at=now - timedelta(days=i % 400),
            )
        )
    Review.objects.bulk_create(reviews, batch_size=500)
    return len(reviews)


def _run(pk: int) -> SignalRun:
    return SignalRun.objects.get(pk=pk)


def _wait_finished(pk: int, worker: Worker, timeout: float = 240) -> SignalRun:
    return wait_for(
        lambda: (run := _run(pk)).status in FINISHED and run,
        timeout=timeout,
        what=f"run #{pk} to finish",
        log=worker.log,
    )


def test_it_keeps_the_previous_report_when_a_worker_is_killed_mid_run(start_worker, corpus, settings):
    # While its chunks are out a run belongs to no single process: only its heartbeat says it is alive.
    settings.SIGNAL_RUN_STALE_SECONDS = 30
    worker = start_worker()
    first, _created = signal_runs.signal_run_start()
    first = _wait_finished(first.pk, worker)
    assert first.status == SignalRun.Status.SUCCEEDED, first.error
    assert first.is_current
    clusters_before = sorted(first.clusters.values_list("pk", flat=True))
    assert clusters_before, "the first run should have produced signals"

    doomed, _created = signal_runs.signal_run_start()
    assert doomed.pk != first.pk
    wait_for(
        lambda: _run(doomed.pk).status == SignalRun.Status.RUNNING,
        timeout=120,
        what="the second run to start on the worker",
        log=worker.log,
    )
    worker.kill()
    doomed = _run(doomed.pk)
    assert doomed.status != SignalRun.Status.SUCCEEDED, "the run finished before it could be killed"

    # Nothing the killed run wrote is visible: the first report is still the current one.
    first.refresh_from_db()
    assert first.is_current
    assert not doomed.is_current
    assert SignalRun.objects.filter(is_current=True).get() == first
    assert sorted(first.clusters.values_list("pk", flat=True)) == clusters_before

    # The next start request sees the killed run's worker is gone (or, on another host, its heartbeat is
    # stale), marks it failed and queues a new run. Done before a worker is back, so a redelivery of the
    # killed task (acks_late) finds a failed run and leaves it alone.
    replacement = wait_for(
        lambda: (run := signal_runs.signal_run_start()[0]).pk != doomed.pk and run,
        timeout=settings.SIGNAL_RUN_STALE_SECONDS + 60,
        what="a new run to be accepted once the killed one is recognised as dead",
    )
    doomed.refresh_from_db()
    assert doomed.status == SignalRun.Status.FAILED
    assert doomed.error

    fresh_worker = start_worker()
    replacement = _wait_finished(replacement.pk, fresh_worker)
    assert replacement.status == SignalRun.Status.SUCCEEDED, replacement.error
    doomed.refresh_from_db()
    assert doomed.status == SignalRun.Status.FAILED
    assert not doomed.is_current
    assert SignalRun.objects.filter(is_current=True).get() == replacement
    first.refresh_from_db()
    assert not first.is_current


def test_it_runs_only_one_of_two_runs_requested_at_the_same_moment(start_worker, corpus):
    worker = start_worker()
    barrier = threading.Barrier(2)
    started: list[int] = []
    errors: list[BaseException] = []

    def request_run() -> None:
        try:
            barrier.wait(timeout=10)
            started.append(signal_runs.signal_run_start()[0].pk)
        except BaseException as error:  # reported below; a thread must not swallow it
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=request_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(started) == 2 and started[0] == started[1]
    assert SignalRun.objects.count() == 1

    run = _wait_finished(started[0], worker)
    assert run.status == SignalRun.Status.SUCCEEDED, run.error
    assert run.is_current


def test_a_run_survives_a_worker_killed_mid_chunk(start_worker, worker_env, corpus):
    # Small chunks so the run has many; a short visibility timeout so the killed worker's unacknowledged
    # chunk comes back within the test (in production it is tied to the longest task).
    worker_env.update(SIGNAL_RUN_CHUNK_SIZE="400", CELERY_VISIBILITY_TIMEOUT="15")
    doomed_worker = start_worker()
    run, _created = signal_runs.signal_run_start()
    mid_chunks = wait_for(
        lambda: (current := _run(run.pk)).counts.get("chunks_done", 0) >= 2 and current,
        timeout=180,
        what="the run to be part-way through its chunks",
        log=doomed_worker.log,
    )
    doomed_worker.kill()
    assert mid_chunks.status == SignalRun.Status.RUNNING
    assert mid_chunks.counts["chunks_done"] < mid_chunks.counts["chunks"] == corpus // 400

    rescuer = start_worker()
    run = _wait_finished(run.pk, rescuer, timeout=300)
    assert run.status == SignalRun.Status.SUCCEEDED, run.error
    assert run.is_current
    assert run.counts["chunks_done"] == run.counts["chunks"]
    assert run.counts["reviews"] == corpus
    # Every review was segmented and decided once (the killed worker's chunk counts once), none by the end.
    assert run.counts["segmented"] == run.counts["decided"] == corpus
    assert run.timings["prepare"] < 1.0
