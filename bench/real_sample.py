"""Draw the hand-labelled sample of real reviews (bench/data/real_labels.jsonl) again, with its fixed seed.

    python bench/real_sample.py [--extra] > /tmp/sample.tsv

Prints one line per sampled review: stratum, id, stars, text (tabs and newlines in the text shown as
spaces), for a person to read and label. The texts are read from ../shared/data/real/ and never written into
the repository. The strata and their sizes are documented in bench/data/README.md; changing them changes the
sample.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

REAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
RATED_FILES = (
    "icourse163_cs_reviews.jsonl",
    "study163_it_reviews.jsonl",
    "icourse163_cs_topvoted_reviews.jsonl",
)
SEED = 2026
CONTRAST = re.compile("但|不过|可惜|就是|只是|希望|建议")
SPAMMY = re.compile(
    r"\d{5,}|[qQ]{2}|微信|[vV][xX]|加群|[加进]裙|企鹅|[零一二三四五六七八九]{6,}|https?://|www\."
)
CJK = re.compile(r"[\u4e00-\u9fff]")

# (stratum, stars, contrast words required (None: either), size)
STRATA = (
    ("low", (1, 2), None, 220),
    ("3-contrast", (3,), True, 84),
    ("3-plain", (3,), False, 36),
    ("4-contrast", (4,), True, 60),
    ("4-plain", (4,), False, 20),
    ("5-contrast", (5,), True, 60),
    ("5-plain", (5,), False, 20),
)
SPAM_SIZE = 30
# Drawn after the first pass showed too few examples of some complaint themes: more low-star reviews, more
# contrast-word 3–4★ reviews, then more low-star 网易云课堂 reviews (paid courses, where answers from the
# teacher and money come up), each chosen at random within its stratum, never by topic words (which would
# favour any method that matches those words). The last element limits a stratum to one id prefix.
EXTRA_STRATA = (
    ("low-extra", (1, 2), None, 120, ""),
    ("34-contrast-extra", (3, 4), True, 60, ""),
    ("low-s163-extra", (1, 2), None, 100, "s163-"),
)


def load(real_dir: Path = REAL_DIR, files: tuple[str, ...] = RATED_FILES) -> list[dict]:
    rows = []
    for name in files:
        with open(real_dir / name, encoding="utf-8") as handle:
            rows.extend(json.loads(line) for line in handle if line.strip())
    return rows


def is_spammy(text: str) -> bool:
    return bool(SPAMMY.search(text)) or not CJK.search(text)


def draw(rows: list[dict], *, extra: bool = False) -> list[tuple[str, dict]]:
    rng = random.Random(SEED)
    taken: set[str] = set()
    sample: list[tuple[str, dict]] = []

    def take(stratum: str, pool: list[dict], size: int) -> None:
        pool = [row for row in pool if row["id"] not in taken]
        for row in rng.sample(pool, min(size, len(pool))):
            taken.add(row["id"])
            sample.append((stratum, row))

    def pool_of(stars: tuple[int, ...], contrast: bool | None, prefix: str = "") -> list[dict]:
        return [
            row
            for row in rows
            if row["rating"] in stars
            and row["id"].startswith(prefix)
            and (contrast is None or bool(CONTRAST.search(row["text"])) == contrast)
        ]

    for stratum, stars, contrast, size in STRATA:
        take(stratum, pool_of(stars, contrast), size)
    take("spam-enriched", [row for row in rows if is_spammy(row["text"])], SPAM_SIZE)
    if extra:
        for stratum, stars, contrast, size, prefix in EXTRA_STRATA:
            take(stratum, pool_of(stars, contrast, prefix), size)
    return sample


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--extra", action="store_true", help="also draw the extra strata")
    args = parser.parse_args()
    for stratum, row in draw(load(), extra=args.extra):
        text = re.sub(r"\s+", " ", row["text"])
        print(f"{stratum}\t{row['id']}\t{row['rating']}\t{text}")


if __name__ == "__main__":
    main()
