"""A signal run as a workflow on 1, then 2, real Celery workers, against PostgreSQL and Redis.

    .venv/bin/python bench/signal_scale.py [--n 100000] [--workers 1,2] [--chunk-size 5000]
        [--database-url postgres://postgres@127.0.0.1:5432/name] [--redis-url redis://127.0.0.1:6379/N]

Builds N reviews from the real learner reviews in /work/shared/data/real/ (read there, never copied): each
joins two to four clauses of different real reviews, so no two are the same text and each one sounds like
a learner. They go into a throw-away PostgreSQL database next to the one --database-url names (dropped
afterwards; the role needs CREATEDB). For each worker count it starts that many `celery worker` processes
(one pool process each, as `docker compose up --scale worker=K` would), then times a cold run (the token
cache and the learned models emptied first) and a re-run, as a user sees them: from the start request to the
run saved. The chunk phase (segmenting the stale reviews, the part the workers share) is timed from the run
being claimed to its last chunk done. A third run empties the token cache only: cold, with the models the
first run learned kept (they are cached between runs and learned again only when the corpus has changed
enough). It prints the speed-up of the chunk phase, the chunk throughput and
each worker's peak memory (VmHWM of its processes: the main one and its pool process), and then how long
assigning one new review to the current signals takes at that size.

The machine's load average is printed before and after: on a shared machine, read the figures with it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from signal_speed import throwaway_postgres  # noqa: E402

REAL = Path(os.environ.get("COURSELENS_REAL_DATA", "/work/shared/data/real"))
# Rated sources only: the unrated file's placeholder 3 would blur the complaint model.
RATED = ["icourse163_cs_reviews.jsonl", "study163_it_reviews.jsonl", "icourse163_cs_topvoted_reviews.jsonl"]
CLAUSE = re.compile(r"(?<=[。！？；!?;，,\n])")
COURSES = 60


def real_reviews() -> list[dict]:
    reviews = []
    for name in RATED:
        with (REAL / name).open(encoding="utf-8") as handle:
            reviews.extend(json.loads(line) for line in handle if line.strip())
    return reviews


def generate(n: int, seed: int = 11) -> list[tuple[str, int, str | None, str]]:
    """n (text, rating, created_at, course) drawn from the real reviews: a review's own text for the first
    pass over them, then clauses of two to four different reviews joined (the rating of the first)."""
    rng = random.Random(seed)
    reviews = real_reviews()
    rng.shuffle(reviews)
    parts = [
        [part.strip() for part in CLAUSE.split(review["text"]) if part.strip()] or [review["text"]]
        for review in reviews
    ]
    out = []
    seen = set()
    while len(out) < n:
        if len(out) < len(reviews):
            index = len(out)
            text = reviews[index]["text"]
        else:
            picked = rng.sample(range(len(reviews)), rng.randint(2, 4))
            index = picked[0]
            text = "".join(rng.choice(parts[i]) for i in picked)
        if text in seen:
            continue
        seen.add(text)
        review = reviews[index]
        out.append((text[:5000], int(review["rating"]), review.get("created_at"), review["course"]))
    return out


def load(n: int) -> None:
    from django.core.management import call_command
    from django.utils import timezone

    from analytics.services import taxonomy
    from reviews.models import Course, Instructor, Review

    call_command("migrate", verbosity=0)
    instructors = [Instructor.objects.create(name=f"讲师 {i}", slug=f"scale-{i}") for i in range(12)]
    courses = []
    for i in range(COURSES):
        course = Course.objects.create(title=f"课程 {i}", slug=f"scale-course-{i}")
        course.instructors.add(instructors[i % len(instructors)])
        courses.append(course)
    now = timezone.now()
    rng = random.Random(5)
    by_name: dict[str, Course] = {}
    batch = []
    for text, rating, created_at, course_name in generate(n):
        course = by_name.setdefault(course_name, courses[len(by_name) % COURSES])
        moment = (
            datetime.fromisoformat(created_at) if created_at else now - timedelta(days=rng.randint(0, 700))
        )
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        batch.append(
            Review(course=course, rating=rating, text=text, created_at=moment, source=Review.Source.IMPORT)
        )
        if len(batch) == 5000:
            Review.objects.bulk_create(batch)
            batch = []
    Review.objects.bulk_create(batch)
    taxonomy.seed_signal_definitions()


class Worker:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("wb")
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "celery"),
                "-A",
                "courselens",
                "worker",
                "--pool=prefork",
                "--concurrency=1",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"scale-{uuid.uuid4().hex[:6]}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def ready(self) -> bool:
        if self.process.poll() is not None:
            raise SystemExit(f"a worker exited:\n{self.log.read_text(errors='replace')[-3000:]}")
        return b" ready." in self.log.read_bytes()

    def peak_mib(self) -> list[float]:
        """VmHWM of each process of the worker's group (the main process, then its pool process)."""
        peaks = []
        for status in sorted(Path("/proc").glob("[0-9]*/status")):
            try:
                fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
                if os.getpgid(int(status.parent.name)) != self.process.pid:
                    continue
            except (OSError, ValueError):
                continue
            peaks.append(int(fields["VmHWM"].split()[0]) / 1024)
        return peaks

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=60)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._out.close()


def timed_run() -> dict:
    """Start a run (on the workers) and follow it: wall time, chunk phase, the run's own timings."""
    from analytics.models import SignalRun
    from analytics.services import signal_runs

    started = time.monotonic()
    run, created = signal_runs.signal_run_start()
    assert created, "another run was active"
    claimed = planned = chunks_done = None
    while True:
        run.refresh_from_db()
        now = time.monotonic()
        if claimed is None and run.status != SignalRun.Status.QUEUED:
            claimed = now
        chunks = run.counts.get("chunks")
        if planned is None and chunks is not None:
            planned = now
        if chunks_done is None and chunks is not None and run.counts.get("chunks_done") == chunks:
            chunks_done = now
        if run.status in (SignalRun.Status.SUCCEEDED, SignalRun.Status.FAILED):
            break
        time.sleep(0.1)
    if run.status != SignalRun.Status.SUCCEEDED:
        raise SystemExit(f"run #{run.pk} failed: {run.error}")
    return {
        "wall": time.monotonic() - started,
        "chunks": run.counts.get("chunks", 0),
        "chunk_phase": (chunks_done or claimed or started) - (claimed or started),
        # The chunks proper (segmenting, deciding, caching), after the plan and the models' learning.
        "segmenting": (chunks_done or planned or started) - (planned or started),
        "timings": run.timings,
        "reviews": run.counts["reviews"],
    }


def empty_token_cache() -> None:
    """TRUNCATE, as an operator would empty it: a DELETE of a million rows leaves them dead in the table
    for the next run to wade through until autovacuum comes."""
    from django.db import connection

    from analytics.models import ReviewTokens

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {connection.ops.quote_name(ReviewTokens._meta.db_table)}")


def measure(workers: int, env: dict[str, str], logs: Path) -> dict:
    from analytics.models import LearnedModel
    from courselens.celery import app

    app.control.purge()
    empty_token_cache()
    LearnedModel.objects.all().delete()
    pool = [Worker(env, logs / f"worker-{workers}-{i}.log") for i in range(workers)]
    try:
        deadline = time.monotonic() + 300
        while not all(worker.ready() for worker in pool):
            if time.monotonic() > deadline:
                raise SystemExit("the workers did not start within 5 minutes")
            time.sleep(0.2)
        cold = timed_run()
        rerun = timed_run()
        empty_token_cache()  # the models learned by the cold run stay stored
        stored = timed_run()
        peaks = [worker.peak_mib() for worker in pool]
    finally:
        for worker in pool:
            worker.stop()
    return {"workers": workers, "cold": cold, "rerun": rerun, "stored": stored, "peaks": peaks}


def one_review_ms(count: int = 60) -> list[float]:
    """Milliseconds to assign each of `count` new reviews to the current run's signals (signal_review_assign
    in this process, its database writes included), sorted; the first, which loads the run's assigner, is
    left out."""
    from django.utils import timezone

    from analytics.services import assignment
    from reviews.models import Course, Review

    course = Course.objects.order_by("pk").first()
    times = []
    for text, _rating, _created, _course in generate(count, seed=23):
        review = Review.objects.create(course=course, rating=2, text=text, created_at=timezone.now())
        started = time.perf_counter()
        assignment.signal_review_assign(review_id=review.pk)
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times[1:])


def report(n: int, results: list[dict], assign_ms: list[float]) -> None:
    fewest = min(results, key=lambda result: result["workers"])["cold"]
    base, base_segmenting = fewest["chunk_phase"], fewest["segmenting"]
    print(f"N = {n:,} reviews, {results[0]['cold']['chunks']} chunks of stale reviews on a cold run")
    for result in results:
        cold, rerun = result["cold"], result["rerun"]
        phase = cold["chunk_phase"]
        steps = " · ".join(
            f"{name} {cold['timings'][name]:.1f} s"
            for name in ("load", "prepare", "extract", "report", "save")
            if name in cold["timings"]
        )
        stored = result["stored"]
        print(
            f"  {result['workers']} worker(s): cold {cold['wall']:6.1f} s (chunk phase {phase:5.1f} s, "
            f"×{base / phase:.2f} of the fewest workers'; {cold['chunks'] / phase:.2f} chunks/s, "
            f"{cold['reviews'] / phase:,.0f} reviews/s), re-run {rerun['wall']:5.1f} s"
        )
        print(
            f"      of the chunk phase, the chunks proper (segmenting, deciding, caching): "
            f"{cold['segmenting']:.1f} s, ×{base_segmenting / cold['segmenting']:.2f} of the fewest workers'"
        )
        print(
            f"      cold with the learned models stored (token cache emptied): {stored['wall']:.1f} s "
            f"(chunk phase {stored['chunk_phase']:.1f} s)"
        )
        print(f"      final step: {steps}")
        for number, peaks in enumerate(result["peaks"], start=1):
            print(
                f"      worker {number} peak memory: " + " + ".join(f"{peak:.0f}" for peak in peaks) + " MiB"
            )
    p95 = assign_ms[int(0.95 * (len(assign_ms) - 1))]
    mean = sum(assign_ms) / len(assign_ms)
    print(
        f"  one new review assigned (signal_review_assign, with its database writes): "
        f"p95 {p95:.1f} ms, mean {mean:.1f} ms over {len(assign_ms)} reviews"
    )
    sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--chunk-size", type=int, default=5000)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""))
    args = parser.parse_args()
    if not args.database_url.startswith("postgres") or not args.redis_url.startswith("redis"):
        raise SystemExit("--database-url (PostgreSQL) and --redis-url (Redis) are both needed")
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    logs = Path(os.environ.get("TMPDIR", "/tmp")) / f"signal_scale_{os.getpid()}"
    logs.mkdir(parents=True, exist_ok=True)
    with throwaway_postgres(args.database_url, "scale") as url:
        env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
        env.update(
            DATABASE_URL=url,
            REDIS_URL=args.redis_url,
            COURSELENS_DEV="1",
            COURSELENS_VAR_DIR=str(logs / "var"),
            DJANGO_SETTINGS_MODULE="courselens.settings",
            CELERY_TASK_ALWAYS_EAGER="0",
            SIGNAL_RUN_CHUNK_SIZE=str(args.chunk_size),
            PYTHONUNBUFFERED="1",
        )
        os.environ.update(env)
        import django

        django.setup()
        from django.db import connection

        started = time.monotonic()
        load(args.n)
        print(f"data set-up {time.monotonic() - started:.0f} s (not counted); worker logs in {logs}")
        try:
            results = [measure(int(k), env, logs) for k in args.workers.split(",")]
            assign_ms = one_review_ms()
        finally:
            connection.close()
    report(args.n, results, assign_ms)
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
