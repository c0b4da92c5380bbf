"""Signal pipeline speed on generated reviews (recombined demo texts with variations).

    .venv/bin/python bench/signal_speed.py [--sizes 10000,100000] [--django-sizes 10000]

For each size, in a fresh process (so peak memory is that size's): segmentation throughput (normalise +
jieba-rs cut) beside plain `jieba.lcut` on the same texts (jieba on the first --jieba-sample texts: it
runs about 0.75 MB/s), the full cold run of the pure pipeline (segment + complaints + assignment +
discovery + report), the re-run with cached tokens, the time to assign one new review, and peak memory.
--django-sizes also times the real path (`signal_run_execute` on a throw-away SQLite database, or on
DATABASE_URL when set: use a scratch database), cold and with the token cache warm.
Targets (issue 3): ≥ 5 MB/s identical to jieba; cold 100k ≤ 15 s; re-run ≤ 5 s; one review ≤ 20 ms;
peak memory for 100k ≤ 1.5 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from signal_pipeline import DEV_REVIEWS, ROOT, background_context, run, train_classifier

from analytics import signals, text

CLAUSE = re.compile(r"(?<=[。！？；!?;])")
EMOJI = ["😂", "👍", "🙄", "💢", "🎉"]


def generate(n: int, seed: int = 7) -> tuple[list[str], list[int]]:
    """n reviews: two to five clauses drawn from random demo reviews, with the usual noise of real text."""
    import zhconv

    rng = random.Random(seed)
    sources = [
        json.loads(line) for line in DEV_REVIEWS.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    clauses = [
        (part.strip(), item["rating"])
        for item in sources
        for part in CLAUSE.split(item["text"])
        if part.strip()
    ]
    texts, ratings = [], []
    for _number in range(n):
        picked = [rng.choice(clauses) for _ in range(rng.randint(2, 5))]
        parts = [clause for clause, _rating in picked]
        roll = rng.random()
        if roll < 0.05:
            parts[0] = zhconv.convert(parts[0], "zh-tw")
        elif roll < 0.10:
            parts.append(rng.choice(EMOJI) * rng.randint(1, 3))
        elif roll < 0.15:
            parts.insert(0, f"第 {rng.randint(1, 40)} 讲")
        elif roll < 0.18:
            parts.append("ＧＯＰＡＴＨ　ｇｏ ｍｏｄ")
        texts.append("".join(parts)[:5000])
        ratings.append(picked[0][1])
    return texts, ratings


def peak_memory_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(n: int, jieba_sample: int) -> None:
    import jieba

    jieba.setLogLevel(60)
    texts, ratings = generate(n)
    megabytes = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    segmenter = text.get_segmenter()
    classifier = train_classifier()
    context = background_context()
    months = [f"2025-{1 + i % 12:02d}" for i in range(n)]
    courses = [i % 40 for i in range(n)]
    instructors = {course: [course % 12] for course in range(40)}

    normalised = segmenter.normaliser.normalise_many(texts)
    started = time.perf_counter()
    for review in normalised:
        segmenter.cut(review)
    cut_seconds = time.perf_counter() - started
    del normalised

    started, cpu = time.perf_counter(), time.process_time()
    words = segmenter.words_many(texts)
    segment_seconds = time.perf_counter() - started
    result = run(words, ratings, classifier, context=context)
    signals.summarise(result, ratings=ratings, months=months, courses=courses, instructors=instructors)
    cold, cold_cpu = time.perf_counter() - started, time.process_time() - cpu

    started, cpu = time.perf_counter(), time.process_time()
    result = run(words, ratings, classifier, context=context)
    signals.summarise(result, ratings=ratings, months=months, courses=courses, instructors=instructors)
    rerun, rerun_cpu = time.perf_counter() - started, time.process_time() - cpu

    new_texts, new_ratings = generate(200, seed=99)
    assigner = json.loads(json.dumps(result.assigner))  # as stored in the database
    timings = []
    for review, rating in zip(new_texts, new_ratings, strict=True):
        started = time.perf_counter()
        review_words = segmenter.words(review)
        if classifier.is_complaint([review_words], [rating])[0]:
            signals.assign_one(assigner, segmenter.filter(review_words))
        timings.append((time.perf_counter() - started) * 1000)

    peak = peak_memory_mib()  # before the jieba comparison, which loads its own dictionary
    sample = texts[:jieba_sample]
    sample_mb = sum(len(t.encode("utf-8")) for t in sample) / 1e6
    jieba.initialize()
    started = time.perf_counter()
    for review in sample:
        jieba.lcut(review)
    jieba_seconds = time.perf_counter() - started

    print(
        f"N = {n:,} reviews ({megabytes:.1f} MB of text, {result.counts['complaints']:,} complaints, "
        f"{len(result.groups)} signals, {result.counts['discovered']} discovered)"
    )
    print(
        f"  segmentation, jieba-rs cut only:     {megabytes / cut_seconds:6.1f} MB/s  ({cut_seconds:.2f} s)"
    )
    print(
        f"  normalise + cut, batched (words):    {megabytes / segment_seconds:6.1f} MB/s  "
        f"({segment_seconds:.2f} s)"
    )
    print(
        f"  plain jieba.lcut (first {len(sample):,}):   {sample_mb / jieba_seconds:6.2f} MB/s  "
        f"(≈{megabytes / (sample_mb / jieba_seconds):.1f} s for all {n:,})"
    )
    print(f"  full cold run (pure pipeline):       {cold:6.2f} s wall, {cold_cpu:.2f} s CPU")
    print(f"  re-run with cached tokens:           {rerun:6.2f} s wall, {rerun_cpu:.2f} s CPU")
    print(
        f"  assign one new review:               {statistics.mean(timings):6.2f} ms mean, "
        f"{sorted(timings)[int(0.95 * len(timings))]:.2f} ms p95 (segment + classify + assign)"
    )
    print(f"  peak memory:                         {peak:6.0f} MiB (before loading jieba for the comparison)")


def measure_django(n: int) -> None:
    """The real path: signal_run_execute on a scratch database (SQLite in a temp dir unless DATABASE_URL)."""
    scratch = tempfile.mkdtemp(prefix="cl_signal_speed_")
    os.environ["COURSELENS_VAR_DIR"] = scratch
    os.environ.setdefault("COURSELENS_DEV", "1")
    os.environ["DJANGO_SETTINGS_MODULE"] = "courselens.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from analytics import services
    from reviews.models import Course, Instructor, Review

    call_command("migrate", verbosity=0)
    texts, ratings = generate(n)
    instructor = Instructor.objects.create(name="讲师", slug="bench-instructor")
    courses = [Course.objects.create(title=f"课程 {i}", slug=f"bench-{i}") for i in range(40)]
    for course in courses:
        course.instructors.add(instructor)
    now = timezone.now()
    Review.objects.bulk_create(
        (
            Review(
                course=courses[i % 40],
                rating=rating,
                text=review,
                created_at=now,
                source=Review.Source.IMPORT,
            )
            for i, (review, rating) in enumerate(zip(texts, ratings, strict=True))
        ),
        batch_size=5000,
    )
    services.seed_signal_definitions()
    services.signal_training_data()  # trained once per worker process, not per run
    timings = {}
    for label in ("cold", "warm"):
        run = services.signal_run_start(enqueue=False)
        started = time.perf_counter()
        run = services.signal_run_execute(run_id=run.pk)
        timings[label] = (time.perf_counter() - started, run.timings)
        assert run.status == "succeeded", run.error
    new_reviews = [
        Review.objects.create(course=courses[0], rating=2, text=review, created_at=now)
        for review in generate(50, seed=5)[0]
    ]
    started = time.perf_counter()
    for review in new_reviews:
        services.signal_review_assign(review_id=review.pk)
    assign_ms = (time.perf_counter() - started) * 1000 / len(new_reviews)
    engine = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
    print(f"Django path, N = {n:,} ({engine}):")
    for label, (seconds, steps) in timings.items():
        print(f"  {label} run via signal_run_execute:  {seconds:6.2f} s   steps {steps}")
    print(f"  signal_review_assign, one review:    {assign_ms:6.2f} ms (with its database writes)")
    print(f"  peak memory:                         {peak_memory_mib():6.0f} MiB")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--django-sizes", default="10000", help="sizes for the Django path ('' to skip)")
    parser.add_argument("--jieba-sample", type=int, default=10000)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--django-n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.n:
        measure(args.n, args.jieba_sample)
        return 0
    if args.django_n:
        measure_django(args.django_n)
        return 0
    print(
        f"load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (a shared machine)"
    )
    script = str(Path(__file__).resolve())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for size in filter(None, args.sizes.split(",")):
        subprocess.run(
            [sys.executable, script, "--n", size, "--jieba-sample", str(args.jieba_sample)],
            check=True,
            env=env,
        )
    for size in filter(None, args.django_sizes.split(",")):
        subprocess.run([sys.executable, script, "--django-n", size], check=True, env=env)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
