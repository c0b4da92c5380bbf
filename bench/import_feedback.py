"""Time `import_feedback` on a generated JSON Lines file (default 100,000 lines) and its no-op re-import.

    COURSELENS_VAR_DIR=/tmp/cl_bench .venv/bin/python bench/import_feedback.py [--lines 100000]

Uses the database from the environment (a throw-away SQLite under COURSELENS_VAR_DIR by default; point
DATABASE_URL at a scratch PostgreSQL database to measure that). Prints lines/s for both runs.
"""

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courselens.settings")
os.environ.setdefault("COURSELENS_DEV", "1")

import django  # noqa: E402

PHRASES = [
    "例子全是 Hello World，离生产太远",
    "HTTP 例子没有超时，也没有 context.WithTimeout",
    "2026 年了还在讲 GOPATH",
    "老师照着 PPT 念",
    "goroutine 泄漏和 pprof 讲得很透",
    "channel 和 select 的例子很实用",
    "音质差，语速太快",
]


def write_file(path: Path, lines: int, prefix: str) -> None:
    rng = random.Random(7)
    with path.open("w", encoding="utf-8") as out:
        for n in range(lines):
            record = {
                "id": f"{prefix}-{n}",
                "course": f"Go 课程 {n % 40}",
                "instructor": f"讲师 {n % 15}",
                "provider": rng.choice(["极客时间", "慕课网", "Bilibili", "Udemy"]),
                "rating": rng.randint(1, 5),
                "text": "，".join(rng.sample(PHRASES, 3)) + "。",
                "created_at": f"2025-{1 + n % 12:02d}-{1 + n % 28:02d}T10:00:00",
                "dimensions": {"practice": rng.randint(1, 5), "production": rng.randint(1, 5)},
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    args = parser.parse_args()
    django.setup()
    from django.core.management import call_command

    from reviews.models import Review
    from reviews.services import feedback_import

    call_command("migrate", verbosity=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "feedback.jsonl"
        write_file(path, args.lines, prefix=f"bench-{time.time_ns()}")
        size_mb = path.stat().st_size / 1e6
        for label in ("first import", "re-import (no-op)"):
            started = time.perf_counter()
            result = feedback_import(path=path)
            elapsed = time.perf_counter() - started
            rate = args.lines / elapsed
            print(
                f"{label}: {args.lines} lines ({size_mb:.1f} MB) in {elapsed:.1f}s = {rate:,.0f} lines/s; "
                f"created {result.created}, skipped {result.skipped}"
            )
    print(f"reviews in the database: {Review.objects.count()}")


if __name__ == "__main__":
    main()
