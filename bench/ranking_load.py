"""Ranking at scale: 500 instructors, 2,000 courses, 1,000,000 reviews in PostgreSQL.

Prints (1) the time of a full `scores_recompute()` (target ≤ 60 s) and (2) latency and throughput of the
instructor ranking page and API beside a trivial Django view (/healthz/), all served by gunicorn with several
workers and measured in the same run with wrk (target: ranking page ≥ 50% of the trivial view's requests/s).

    .venv/bin/python bench/ranking_load.py                 # builds cl_bench once, reuses it afterwards
    .venv/bin/python bench/ranking_load.py --rebuild --duration 15 --workers 3

Uses its own database (default postgres://postgres@127.0.0.1:5432/cl_bench) and Redis db 13 for the cache;
everything it starts is stopped before it exits. Needs `wrk` (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WRK_REPORT = """
done = function(summary, latency, requests)
  io.write(string.format('{"requests": %d, "seconds": %.3f, "errors": %d, "non2xx": %d, '
    .. '"p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f}\\n',
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/cl_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13", help="cache for the served app")
    parser.add_argument("--instructors", type=int, default=500)
    parser.add_argument("--courses", type=int, default=2000)
    parser.add_argument("--reviews", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true", help="drop and regenerate the data set")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--duration", type=int, default=5, help="seconds of load per URL and round")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds with the URLs taking turns (median kept)"
    )
    parser.add_argument("--port", type=int, default=8199)
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("COURSELENS_DEV", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courselens.settings")
    os.environ["REDIS_URL"] = ""  # the data build and recompute need no broker
    ensure_database(args.database_url)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    build_data_set(args)

    from analytics.models import InstructorScore
    from analytics.services.scores import scores_recompute

    started = time.perf_counter()
    scores = scores_recompute()
    recompute_seconds = time.perf_counter() - started
    ranked = InstructorScore.objects.filter(rank__isnull=False).count()
    print(
        f"\nscores_recompute: {recompute_seconds:.1f} s for {len(scores)} instructors ({ranked} ranked), "
        f"{args.courses} courses, {args.reviews:,} reviews   (target ≤ 60 s)"
    )

    from django.db import connections

    connections.close_all()
    results = serve_and_measure(args)
    print_report(results, args)
    trivial, page = results["trivial /healthz/"], results["ranking page"]
    ratio = page["rps"] / trivial["rps"] if trivial["rps"] else 0.0
    print(f"\nranking page throughput = {ratio:.0%} of the trivial view   (target ≥ 50%)")
    return 0


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def insert_select(model, values: dict[str, str], source: str, params: list | None = None) -> None:
    """INSERT … SELECT for `model`: `values` maps columns to SQL expressions over `source`; every other
    concrete column (fields other engineers may add later) gets its Django default as a parameter."""
    from django.db import connection

    columns, expressions, extra = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        if field.column in values:
            expressions.append(values[field.column].replace("%", "%%"))  # literal modulo, not a parameter
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            expressions.append("now()")
        else:
            expressions.append("%s")
            default = field.get_default() if field.has_default() or not field.null else None
            extra.append(field.get_db_prep_save(default, connection))
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) SELECT {', '.join(expressions)} {source}"
    )
    # Parameters of the default columns come first in the SELECT list, the source's after.
    with connection.cursor() as cursor:
        cursor.execute(sql, [*extra, *(params or [])])


def build_data_set(args: argparse.Namespace) -> None:
    from django.db import connection, transaction

    from analytics.models import (
        CourseScore,
        EvidenceSnapshot,
        InstructorScore,
        ReviewSignal,
        SignalCluster,
        SignalDefinition,
        SignalRun,
    )
    from reviews.models import Course, Instructor, Review, Tag

    counts = (Instructor.objects.count(), Course.objects.count(), Review.objects.count())
    if not args.rebuild and counts == (args.instructors, args.courses, args.reviews):
        print(f"reusing the data set in {connection.settings_dict['NAME']}: {counts[2]:,} reviews")
        return
    print(f"building the data set in {connection.settings_dict['NAME']} …", flush=True)
    started = time.perf_counter()
    tables = [
        model._meta.db_table
        for model in (
            ReviewSignal,
            SignalCluster,
            SignalRun,
            SignalDefinition,
            EvidenceSnapshot,
            InstructorScore,
            CourseScore,
            Review,
            Course.tags.through,
            Course.instructors.through,
            Course,
            Tag,
            Instructor,
        )
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        cursor.execute("SELECT setseed(0.42)")
        insert_select(
            Instructor,
            {
                "name": "'Bench 讲师 ' || i",
                "slug": "'bench-' || i",
                "github_login": "CASE WHEN i % 3 = 0 THEN 'bench-gh-' || i END",
                "created_at": "now()",
            },
            "FROM generate_series(1, %s) AS i",
            [args.instructors],
        )
        insert_select(Tag, {"name": "'tag-' || i", "slug": "'tag-' || i"}, "FROM generate_series(1, 12) AS i")
        insert_select(
            Course,
            {
                "title": "'Go 课程 ' || i",
                "slug": "'bench-course-' || i",
                "provider": "(ARRAY['极客时间','慕课网','Bilibili','Udemy','拉勾教育','网易云课堂'])"
                "[1 + i % 6]",
                "level": "(ARRAY['beginner','intermediate','advanced'])[1 + i % 3]",
                "created_at": "now()",
            },
            "FROM generate_series(1, %s) AS i",
            [args.courses],
        )
        cursor.execute(
            f"INSERT INTO {Course.instructors.through._meta.db_table} (course_id, instructor_id) "
            "SELECT i, 1 + (i - 1) %% %s FROM generate_series(1, %s) AS i "
            "UNION ALL SELECT i, 1 + (i * 7) %% %s FROM generate_series(5, %s, 5) AS i",
            [args.instructors, args.courses, args.instructors, args.courses],
        )
        cursor.execute(
            f"INSERT INTO {Course.tags.through._meta.db_table} (course_id, tag_id) "
            "SELECT i, 1 + i %% 12 FROM generate_series(1, %s) AS i "
            "UNION ALL SELECT i, 1 + (i + 5) %% 12 FROM generate_series(2, %s, 2) AS i",
            [args.courses, args.courses],
        )
        # Each course has a "quality" so ratings differ between courses; dimensions are optional (≈30% empty).
        dims = {
            f"dim_{key}": "CASE WHEN random() < 0.3 THEN NULL ELSE greatest(1, least(5, "
            "round(q + random() * 2 - 1)))::smallint END"
            for key in ("practice", "concurrency", "production", "engineering", "testing", "delivery")
        }
        insert_select(
            Review,
            {
                "course_id": "c",
                "external_id": "'bench-' || g",
                "rating": "greatest(1, least(5, round(q + random() * 2.4 - 1.2)))::smallint",
                **dims,
                "text": "'bench review ' || g",
                "status": "CASE WHEN g % 50 = 0 THEN 'pending' WHEN g % 71 = 0 THEN 'hidden' "
                "ELSE 'published' END",
                "source": "'import'",
                "created_at": "now() - random() * interval '1500 days'",
                "updated_at": "now()",
            },
            "FROM (SELECT g, 1 + g %% %s AS c, 2.2 + ((g %% %s) * 37 %% 100) / 40.0 AS q "
            "FROM generate_series(1, %s) AS g) AS rows",
            [args.courses, args.courses, args.reviews],
        )
        # A current signal run: complaints (rating ≤ 2) assigned to six confirmed signals.
        insert_select(
            SignalDefinition,
            {
                "key": "'bench-signal-' || i",
                "name_zh": "'失效信号 ' || i",
                "name_en": "'Signal ' || i",
                "status": "'confirmed'",
                "created_at": "now()",
                "updated_at": "now()",
            },
            "FROM generate_series(1, 6) AS i",
        )
        insert_select(
            SignalRun,
            {"status": "'succeeded'", "is_current": "true", "progress": "100", "created_at": "now()"},
            "",
        )
        insert_select(SignalCluster, {"run_id": "1", "definition_id": "i"}, "FROM generate_series(1, 6) AS i")
        insert_select(
            ReviewSignal,
            {"run_id": "1", "review_id": "id", "cluster_id": "1 + id % 6", "score": "0.5"},
            f"FROM {Review._meta.db_table} WHERE rating <= 2",
        )
        insert_select(
            EvidenceSnapshot,
            {
                "instructor_id": "id",
                "fetched_at": "now()",
                "status": "'ok'",
                "figures": "json_build_object('go_repos', (random() * 30)::int,"
                " 'go_stars', (random() * 8000)::int,"
                " 'followers', (random() * 3000)::int, 'golang_go_commits', (random() * 20)::int,"
                " 'allowlist_merged_prs', (random() * 60)::int, 'months_since_activity',"
                " round((random() * 30)::numeric, 1))::jsonb",
            },
            f"FROM {Instructor._meta.db_table} WHERE github_login IS NOT NULL",
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"built in {time.perf_counter() - started:.1f} s", flush=True)


def serve_and_measure(args: argparse.Namespace) -> dict[str, dict]:
    work = Path(tempfile.mkdtemp(prefix="cl_bench_"))
    env = {
        **os.environ,
        "DEBUG": "0",
        "COURSELENS_DEV": "",
        "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "SECURE_SSL_REDIRECT": "0",
        "STATIC_ROOT": str(work / "static"),
        "COURSELENS_VAR_DIR": str(work / "var"),
        "LOG_LEVEL": "WARNING",
        # One client sends everything: the per-client read limit would answer 429 instead of measuring.
        "THROTTLE_RATES": "read.ip=100000000/5min",
    }
    python = str(ROOT / ".venv" / "bin" / "python")
    subprocess.run(
        [python, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True, timeout=300
    )
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()  # our own db number: start from an empty cache
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "courselens.wsgi",
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{args.port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{args.port}"
    urls = {
        "trivial /healthz/": "/healthz/",
        "ranking page": "/rankings/instructors/",
        "ranking API": "/api/rankings/instructors/",
        "course ranking page": "/rankings/courses/",
    }
    try:
        wait_until_up(base + "/healthz/")
        for path in urls.values():  # warm every worker's connections and the shared page cache
            for _ in range(args.workers * 3):
                urllib.request.urlopen(base + path, timeout=30).read()
        cold = time_cold_render(base)
        script = work / "report.lua"
        script.write_text(WRK_REPORT)
        # The machine is shared: the URLs take turns, round after round; each reports its median round.
        rounds: dict[str, list[dict]] = {label: [] for label in urls}
        for _round in range(args.rounds):
            for label, path in urls.items():
                command = ["wrk", "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--timeout", "10s"]
                completed = subprocess.run(
                    [*command, "-s", str(script), base + path],
                    capture_output=True,
                    text=True,
                    timeout=args.duration + 60,
                    check=True,
                )
                row = json.loads(completed.stdout.strip().splitlines()[-1])
                row["rps"] = row["requests"] / row["seconds"]
                rounds[label].append(row)
        results = {
            label: sorted(rows, key=lambda row: row["rps"])[len(rows) // 2] for label, rows in rounds.items()
        }
        results["_cold_render_ms"] = cold
        return results
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        shutil.rmtree(work, ignore_errors=True)


def wait_until_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer {url} within {timeout} s")


def time_cold_render(base: str) -> dict[str, float]:
    """Uncached renders (distinct filter combinations) of the ranking page: what a miss costs."""
    timings = []
    for sort in ("learner", "evidence", "signals", "reviews"):
        started = time.perf_counter()
        urllib.request.urlopen(f"{base}/rankings/instructors/?sort={sort}&page=2", timeout=30).read()
        timings.append((time.perf_counter() - started) * 1000)
    return {"median_ms": statistics.median(timings), "max_ms": max(timings)}


def print_report(results: dict[str, dict], args: argparse.Namespace) -> None:
    cold = results.pop("_cold_render_ms")
    print(
        f"\ngunicorn {args.workers} sync workers on PostgreSQL + Redis cache; wrk -t2 -c{args.connections}; "
        f"median of {args.rounds} rounds of {args.duration} s per URL, the URLs taking turns"
    )
    print(f"\n{'URL':<22}{'req/s':>10}{'median ms':>12}{'p95 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for label, row in results.items():
        errors = row["errors"] + row["non2xx"]
        print(
            f"{label:<22}{row['rps']:>10.0f}{row['p50_ms']:>12.2f}{row['p95_ms']:>10.2f}"
            f"{row['p99_ms']:>10.2f}{errors:>8}"
        )
    print(
        f"ranking page cache miss (new filter/sort, 50 rows rendered): median {cold['median_ms']:.0f} ms, "
        f"max {cold['max_ms']:.0f} ms"
    )


if __name__ == "__main__":
    sys.exit(main())
