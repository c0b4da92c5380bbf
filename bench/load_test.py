"""Mixed load on the real stack: browsing, searching and submitting reviews at once.

gunicorn (several workers) on PostgreSQL and Redis, with a Celery worker draining the outbox, is driven by a
bounded pool of threads, each a logged-in learner (session cookie + CSRF token, like a browser). Prints
requests/s, median and p95 latency, the error rate, and checks that no request got a 5xx and that every
accepted review (201) is a row in the database afterwards (no lost review).

    .venv/bin/python bench/load_test.py                      # 60 s, 16 clients, 4 web workers
    .venv/bin/python bench/load_test.py --duration 20 --clients 8

Uses its own database (default postgres://postgres@127.0.0.1:5432/cl_trust, created if missing, demo data
loaded once), Redis db 8 and port 8105; everything it starts is stopped before it exits. Exits non-zero
when a 5xx was seen or a review was lost.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "load-test-pass-2026"
SEARCHES = ["并发", "Go", "goroutine", "微服务", "context", "性能", "实战", "极客时间"]
REVIEW_TEXTS = [
    "例子贴近生产，context 超时和错误处理都讲到了，第 {n} 次复习仍有收获。",
    "节奏偏快，pprof 那一章需要反复看，整体值得（学员 {n}）。",
    "讲 goroutine 泄漏的部分很扎实，但测试部分偏少。编号 {n}",
    "老师照着 PPT 念，代码还是 GOPATH 时代的写法，失望。#{n}",
]
SETUP = """
import django
django.setup()
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from reviews.models import Course, Review
User = get_user_model()
Review.objects.filter(author__username__startswith="load-").delete()
hasher = PBKDF2PasswordHasher()
password = hasher.encode({password!r}, hasher.salt(), iterations=20000)  # log-in is not what we measure
for i in range({clients}):
    User.objects.update_or_create(username=f"load-{{i}}", defaults={{"password": password}})
print(Course.objects.count())
"""


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(
        default_factory=lambda: {"browse": [], "search": [], "submit": []}
    )
    statuses: Counter = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    transport_errors: int = 0
    accepted: set[int] = field(default_factory=set)

    def record(self, kind: str, elapsed: float, response: httpx.Response) -> None:
        with self.lock:
            self.latencies[kind].append(elapsed)
            self.statuses[response.status_code] += 1
            if response.status_code >= 500:
                self.server_errors.append(f"{response.status_code} {response.request.method} {response.url}")


def run(command: list[str], env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command[:3])} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    return result


def ensure_database(url: str) -> None:
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    exists = subprocess.run(
        [
            "psql",
            admin.replace("postgres://", "postgresql://"),
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname='{name}'",
        ],
        capture_output=True,
        text=True,
    )
    if exists.stdout.strip() != "1":
        subprocess.run(
            ["createdb", "-h", parsed.hostname, "-p", str(parsed.port or 5432), "-U", parsed.username, name],
            check=True,
        )


def prepare(env: dict[str, str], clients: int) -> None:
    py = sys.executable
    run([py, "manage.py", "migrate", "--noinput"], env, timeout=600)
    run([py, "manage.py", "collectstatic", "--noinput"], env, timeout=600)
    courses = run([py, "-c", SETUP.format(password=PASSWORD, clients=clients)], env, timeout=300)
    if int(courses.stdout.strip().splitlines()[-1]) == 0:
        print("loading the demo data (once)…", flush=True)
        run([py, "manage.py", "load_demo"], env, timeout=900)


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_ready(base: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz/", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    sys.exit("gunicorn did not come up")


def catalog(base: str) -> tuple[list[str], list[str]]:
    courses, instructors, url = [], [], f"{base}/api/courses/?page=1"
    while url:
        page = httpx.get(url, timeout=30).json()
        courses += [c["slug"] for c in page["results"]]
        instructors += [i["slug"] for c in page["results"] for i in c["instructors"]]
        url = page["next"]
    return courses, sorted(set(instructors))


def learner(
    index: int, base: str, courses: list[str], instructors: list[str], stats: Stats, until: float
) -> None:
    rng = random.Random(index)
    to_review = rng.sample(courses, len(courses))
    with httpx.Client(base_url=base, timeout=30, headers={"Accept-Language": "zh-hans"}) as client:
        try:
            login_page = client.get("/accounts/login/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text).group(1)
            response = client.post(
                "/accounts/login/",
                data={"username": f"load-{index}", "password": PASSWORD, "csrfmiddlewaretoken": token},
            )
            if response.status_code != 302:
                sys.exit(f"load-{index} could not log in ({response.status_code})")
        except httpx.HTTPError as error:
            sys.exit(f"log-in failed: {error}")
        csrf = client.cookies.get("csrftoken")
        while time.monotonic() < until:
            roll = rng.random()
            if roll < 0.60:
                kind = "browse"
                path = rng.choice(
                    [
                        "/",
                        "/courses/",
                        f"/courses/{rng.choice(courses)}/",
                        f"/courses/{rng.choice(courses)}/?sort=helpful",
                        f"/instructors/{rng.choice(instructors)}/",
                        "/rankings/instructors/",
                        f"/api/courses/{rng.choice(courses)}/",
                    ]
                )
                request = ("GET", path, None)
            elif roll < 0.85:
                kind = "search"
                word = rng.choice(SEARCHES)
                path = rng.choice(
                    [f"/courses/?q={word}", f"/api/reviews/?search={word}", f"/api/courses/?search={word}"]
                )
                request = ("GET", path, None)
            else:
                if not to_review:
                    continue
                kind = "submit"
                body = {
                    "course": to_review.pop(),
                    "rating": rng.randint(1, 5),
                    "text": rng.choice(REVIEW_TEXTS).format(
                        n=f"{index}-{len(to_review)}-{secrets.token_hex(3)}"
                    ),
                    "dimensions": {"practice": rng.randint(1, 5), "production": rng.randint(1, 5)},
                }
                request = ("POST", "/api/reviews/", body)
            method, path, body = request
            began = time.monotonic()
            try:
                if method == "GET":
                    response = client.get(path)
                else:
                    response = client.post(
                        path, json=body, headers={"X-CSRFToken": csrf, "Referer": base + "/"}
                    )
            except httpx.HTTPError:
                with stats.lock:
                    stats.transport_errors += 1
                continue
            stats.record(kind, time.monotonic() - began, response)
            if kind == "submit" and response.status_code == 201:
                with stats.lock:
                    stats.accepted.add(response.json()["id"])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def count_rows(env: dict[str, str], ids: set[int]) -> tuple[int, int]:
    script = (
        "import django; django.setup()\n"
        "from reviews.models import Review\n"
        f"ids = {sorted(ids)!r}\n"
        "print(Review.objects.filter(author__username__startswith='load-').count(), "
        "Review.objects.filter(pk__in=ids).count())\n"
    )
    out = run([sys.executable, "-c", script], env, timeout=120).stdout.split()
    return int(out[-2]), int(out[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent learners (default 16)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--port", type=int, default=8105)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/cl_trust")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/8")
    args = parser.parse_args()

    var = Path("/tmp/cl_trust_load")
    var.mkdir(exist_ok=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "DJANGO_"))}
    env.update(
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        DJANGO_SETTINGS_MODULE="courselens.settings",
        COURSELENS_VAR_DIR=str(var),
        STATIC_ROOT=str(var / "static"),
        LOG_LEVEL="WARNING",
        # Every simulated learner shares 127.0.0.1: per-address limits would measure the throttle, not the
        # site. Per-account limits stay as in production.
        THROTTLE_RATES=(
            "review_submit.ip=100000/hour,review_vote.ip=100000/hour,login.ip=100000/hour,read.ip=100000000/5min"
        ),
    )
    ensure_database(args.database_url)
    print("preparing the database…", flush=True)
    prepare(env, args.clients)

    base = f"http://127.0.0.1:{args.port}"
    web = start(
        [
            str(BIN / "gunicorn"),
            "courselens.wsgi:application",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
            "--timeout",
            "60",
        ],
        env,
        var / "web.log",
    )
    worker = start(
        [
            str(BIN / "celery"),
            "-A",
            "courselens",
            "worker",
            "--concurrency=1",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
        env,
        var / "worker.log",
    )
    try:
        wait_ready(base)
        courses, instructors = catalog(base)
        stats = Stats()
        print(
            f"load: {args.clients} learners × {args.duration:.0f} s on {len(courses)} courses, "
            f"gunicorn {args.workers} workers",
            flush=True,
        )
        began = time.monotonic()
        until = began + args.duration
        threads = [
            threading.Thread(target=learner, args=(i, base, courses, instructors, stats, until), daemon=True)
            for i in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=args.duration + 120)
        elapsed = time.monotonic() - began
    finally:
        stop(web)
        stop(worker)

    everything = [value for values in stats.latencies.values() for value in values]
    total = len(everything)
    failed = (
        sum(n for status, n in stats.statuses.items() if status >= 400 and status != 429)
        + stats.transport_errors
    )
    rows, accepted_rows = count_rows(env, stats.accepted)
    print(f"\nrequests: {total} in {elapsed:.1f} s = {total / elapsed:.1f} requests/s")
    median, p95 = statistics.median(everything) * 1000, percentile(everything, 0.95) * 1000
    print(f"latency: median {median:.0f} ms, p95 {p95:.0f} ms")
    for kind, values in stats.latencies.items():
        if values:
            print(
                f"  {kind:7s} n={len(values):5d}  median {statistics.median(values) * 1000:6.0f} ms  "
                f"p95 {percentile(values, 0.95) * 1000:6.0f} ms"
            )
    print(f"status codes: {dict(sorted(stats.statuses.items()))}, transport errors: {stats.transport_errors}")
    print(f"error rate: {failed / max(total, 1):.2%} (4xx/5xx other than 429; 429 = rate limit working)")
    print(f"5xx: {len(stats.server_errors)}")
    print(
        f"reviews: {len(stats.accepted)} accepted (201), {accepted_rows} of them in the database, "
        f"{rows} load-test rows in total"
    )
    ok = not stats.server_errors and accepted_rows == len(stats.accepted) == rows
    for line in stats.server_errors[:10]:
        print("  ", line)
    print("RESULT:", "ok — no 5xx, no lost review" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
