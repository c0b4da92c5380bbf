"""Signal quality on real reviews: the hand-labelled sample (bench/data/real_labels.jsonl), scored end to end.

    .venv/bin/python bench/signal_quality_real.py [--files F ...] [--limit N] [--report OUT.json]
        [--save-report PATH] [--database-url URL] [--no-eval-set]

Through the command-line contract, as a user would: a scratch database (a temporary SQLite file under a
temporary COURSELENS_VAR_DIR, or --database-url / DATABASE_URL, which must be a scratch database: every
review in it is analysed), `manage.py migrate`, `manage.py import_feedback` on the chosen real files
(concatenated into one temporary file), `manage.py extract_signals --json OUT`. OUT is then scored with
bench/real_eval.py against the labels of the reviews that were imported, beside two plain baselines that
cluster only the labelled complaints (TF-IDF over jieba words or character 1–3-grams, KMeans with k = number
of themes, fixed seed).

--report scores an existing report instead of running anything (the files still say which labelled reviews
were in the corpus). --limit N imports the labelled reviews plus N other reviews drawn with a fixed seed: a
quick run whose figures are not those of the full corpus. Unless --no-eval-set, the held-out Go evaluation set
(bench/data/signal_eval.jsonl) goes through the same commands in its own temporary SQLite database and is
scored with the same functions. The texts are read from ../shared/data/real/ and are never copied into the
repository; temporary files live in a temporary directory that is removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import real_eval  # noqa: E402

ROOT = real_eval.ROOT
EVAL_SET = ROOT / "bench" / "data" / "signal_eval.jsonl"
LIMIT_SEED = 2026


def resolve(name: str) -> Path:
    path = Path(name)
    if not path.exists() and not path.is_absolute():
        path = real_eval.REAL_DIR / name
    if not path.exists():
        raise SystemExit(f"no such file: {name} (looked in . and {real_eval.REAL_DIR})")
    return path


def manage(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Run one manage.py command; its output on failure, and the wall time."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        # Both ends: the first of many bad import lines, and the last line of a traceback.
        errors = done.stderr
        if len(errors) > 3000:
            errors = f"{errors[:1500]}\n…\n{errors[-1500:]}"
        raise SystemExit(
            f"manage.py {' '.join(args)} failed ({done.returncode}):\n{done.stdout[-1500:]}{errors}"
        )
    return elapsed, done.stdout.strip()


def run_pipeline(
    lines: list[str], workdir: Path, database_url: str | None, save_report: Path | None
) -> tuple[dict, dict[str, float], str]:
    """Import the lines into a scratch database, extract signals, return (report, timings, summary)."""
    workdir.mkdir(parents=True, exist_ok=True)
    import_path = workdir / "import.jsonl"
    import_path.write_text("".join(lines), encoding="utf-8")
    var_dir = workdir / "var"
    env = {**os.environ, "COURSELENS_VAR_DIR": str(var_dir), "COURSELENS_DEV": "1", "REDIS_URL": ""}
    env["DATABASE_URL"] = database_url or ""
    env.pop("DEBUG", None)
    timings = {}
    timings["migrate"], _ = manage(["migrate", "--noinput", "--verbosity", "0"], env)
    timings["import_feedback"], imported = manage(["import_feedback", str(import_path)], env)
    report_path = save_report or workdir / "report.json"
    timings["extract_signals"], summary = manage(["extract_signals", "--json", str(report_path)], env)
    report = json.loads(report_path.read_text(encoding="utf-8"))
    return report, timings, f"{imported}\n{summary}"


def real_lines(paths: list[Path], labels: dict[str, str], limit: int | None) -> tuple[list[str], set[str]]:
    """The import lines (all, or the labelled ones plus `limit` others) and the ids they hold."""
    lines: list[str] = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            lines.extend(line if line.endswith("\n") else line + "\n" for line in handle if line.strip())
    if limit is not None:
        labelled = [line for line in lines if str(json.loads(line)["id"]) in labels]
        others = [line for line in lines if str(json.loads(line)["id"]) not in labels]
        lines = labelled + random.Random(LIMIT_SEED).sample(others, min(limit, len(others)))
    return lines, {str(json.loads(line)["id"]) for line in lines}


def score_with_baselines(
    report: dict,
    labels: dict[str, str],
    ratings: dict[str, int],
    texts: dict[str, str],
    themes: list[str],
) -> list[tuple[str, real_eval.Scores]]:
    assignment = real_eval.report_assignment(report)
    rows = [
        (
            "pipeline",
            real_eval.score(
                assignment, labels, sizes=real_eval.report_sizes(report), ratings=ratings, themes=themes
            ),
        )
    ]
    complaints = {i: texts[i] for i, label in labels.items() if label in themes}
    k = len({labels[i] for i in complaints})
    for name, analyzer in (("tfidf-words+km", "words"), ("tfidf-chars+km", "chars")):
        clusters = real_eval.baseline_assignment(complaints, k=k, analyzer=analyzer)
        sizes: dict[str, int] = {}
        for key in clusters.values():
            sizes[key] = sizes.get(key, 0) + 1
        only_complaints = {i: labels[i] for i in complaints}
        rows.append(
            (name, real_eval.score(clusters, only_complaints, sizes=sizes, ratings=ratings, themes=themes))
        )
    return rows


def print_scores(title: str, rows: list[tuple[str, real_eval.Scores]], report: dict) -> None:
    print(f"\n=== {title} ===")
    print(real_eval.format_table(rows))
    print("(baselines cluster only the theme-labelled complaints: praise and spam shares do not apply)\n")
    print(real_eval.format_themes("pipeline", rows[0][1]))
    print("\nlargest signals in the report (all reviews):")
    total = sum(real_eval.report_sizes(report).values())
    for signal in sorted(report.get("signals", []), key=lambda s: -len(s.get("review_ids", [])))[:8]:
        size = len(signal.get("review_ids", []))
        keywords = " · ".join(signal.get("keywords", [])[:6])
        name = signal.get("name", "")
        words = keywords if keywords.startswith(name) else f"{name}: {keywords}"
        print(f"  {size / max(1, total):5.1%} {size:6d}  {signal['key'][:22]:22s} {words}")
    print(f"  complaints in no signal: {len(report.get('unassigned_complaints', []))}")


def eval_set(workdir: Path) -> None:
    """The held-out Go set through the same commands (own SQLite), scored with the same functions."""
    rows = [json.loads(line) for line in EVAL_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    labels = {str(row["id"]): row["label"] for row in rows}
    lines = [
        json.dumps({k: v for k, v in row.items() if k != "label"}, ensure_ascii=False) + "\n" for row in rows
    ]
    report, timings, _summary = run_pipeline(lines, workdir, None, None)
    themes = sorted({label for label in labels.values() if label != "praise"})
    ratings = {str(row["id"]): int(row["rating"]) for row in rows}
    texts = {str(row["id"]): row["text"] for row in rows}
    scored = score_with_baselines(report, labels, ratings, texts, themes)
    print_scores(f"held-out Go eval set ({EVAL_SET.name}, {len(rows)} reviews)", scored, report)
    print("timings: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items()))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--files",
        nargs="+",
        default=list(real_eval.RATED_FILES),
        help="real files to import (names in ../shared/data/real/ or paths); default: the three rated ones",
    )
    parser.add_argument("--labels", type=Path, default=real_eval.REAL_LABELS, help="id → label JSON Lines")
    parser.add_argument("--report", type=Path, help="score this extract_signals report; run nothing")
    parser.add_argument(
        "--save-report", type=Path, help="also keep the report written by extract_signals here"
    )
    parser.add_argument("--limit", type=int, help="import the labelled reviews plus N others (quick run)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or None,
        help="scratch database (default: DATABASE_URL, else a temporary SQLite file)",
    )
    parser.add_argument("--no-eval-set", action="store_true", help="skip the held-out Go evaluation set")
    args = parser.parse_args()

    import logging

    logging.getLogger("jieba").setLevel(logging.WARNING)
    paths = [resolve(name) for name in args.files]
    all_labels = real_eval.load_labels(args.labels)
    reviews = real_eval.load_reviews(paths)
    labels = {i: label for i, label in all_labels.items() if i in reviews}
    missing = len(all_labels) - len(labels)
    print(
        f"labels: {len(all_labels)} ({args.labels.name}); {len(labels)} in {', '.join(p.name for p in paths)}"
        + (f"; {missing} labelled reviews are in other files and not scored" if missing else "")
    )
    ratings = {i: int(reviews[i]["rating"]) for i in labels}
    texts = {i: reviews[i]["text"] for i in labels}
    themes = [theme for theme in real_eval.THEMES if theme in set(labels.values())]

    with tempfile.TemporaryDirectory(prefix="cl-quality-real-") as tmp:
        workdir = Path(tmp)
        timings: dict[str, float] = {}
        if args.report:
            report = json.loads(args.report.read_text(encoding="utf-8"))
            title = f"real sample, report {args.report}"
        else:
            lines, imported_ids = real_lines(paths, labels, args.limit)
            labels = {i: label for i, label in labels.items() if i in imported_ids}
            where = args.database_url.rsplit("/", 1)[-1] if args.database_url else "temporary SQLite"
            print(f"importing {len(lines)} reviews into {where}, then extract_signals …", flush=True)
            report, timings, summary = run_pipeline(
                lines, workdir / "real", args.database_url, args.save_report
            )
            print(summary)
            quick = ", --limit" if args.limit is not None else ""
            title = f"real sample ({len(lines)} reviews imported{quick})"
        scored = score_with_baselines(report, labels, ratings, texts, themes)
        print_scores(title, scored, report)
        print()
        print(real_eval.format_where(real_eval.where_complaints_went(report, labels, ratings, themes)))
        # The same run scored on the labelled 1–2★ reviews only: the reviews unhappy learners write, where
        # the signals matter most (and what a set labelled from low-star reviews alone would measure).
        low = {i: label for i, label in labels.items() if ratings[i] <= real_eval.LOW_STARS}
        low_scores = score_with_baselines(report, low, ratings, texts, themes)
        print(f"\n=== the same run, labelled 1–2★ reviews only ({len(low)}) ===")
        print(real_eval.format_table(low_scores))
        print()
        print(real_eval.format_themes("pipeline", low_scores[0][1]))
        if timings:
            print("timings: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items()))
        if not args.no_eval_set:
            eval_set(workdir / "eval")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
