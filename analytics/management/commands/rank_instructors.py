"""`python manage.py rank_instructors [--json OUT]`: recompute the scores, print the ranking, maybe save it.

JSON rows are the API's (`/api/rankings/instructors/`): rank, slug, name, total (0–100), components, weights,
review_count, enough_data… "Not enough data" rows come last with rank null.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from analytics.api import InstructorRankingSerializer
from analytics.models import InstructorScore
from analytics.services import scores

COLUMNS = (
    f"{'rank':>4}  {'score':>5}  {'learner':>7}  {'evidence':>8}  {'signals':>7}  {'reviews':>7}  instructor"
)


class Command(BaseCommand):
    help = (
        "Recompute instructor and course scores, print the instructor ranking, optionally write it as JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", dest="json_out", metavar="OUT", help="write the ranking rows to this file ('-': stdout)"
        )

    def handle(self, *args, json_out: str | None = None, **options):
        scores.scores_recompute()
        rows = InstructorRankingSerializer(InstructorScore.objects.ranking(), many=True).data
        text = json.dumps(rows, ensure_ascii=False, indent=2)
        if json_out == "-":
            self.stdout.write(text)
            return
        self.stdout.write(_table(rows))
        if json_out:
            try:
                Path(json_out).write_text(text + "\n", encoding="utf-8")
            except OSError as error:
                raise CommandError(f"cannot write {json_out}: {error}") from None
            self.stdout.write(f"wrote {len(rows)} rows to {json_out}")


def _table(rows) -> str:
    lines = [COLUMNS, "-" * len(COLUMNS)]
    for row in rows:
        parts = row["components"]
        rank = row["rank"] or "—"
        total = row["total"] if row["enough_data"] else "—"
        burden = "—" if parts["signal_burden"] is None else f"{parts['signal_burden']:.1f}"
        thin = "" if row["enough_data"] else "  [not enough data]"
        lines.append(
            f"{rank:>4}  {total:>5}  {parts['learner']:>7.1f}  {parts['evidence']:>8.1f}  {burden:>7}  "
            f"{row['review_count']:>7}  {row['name']} ({row['slug']}){thin}"
        )
    return "\n".join(lines)
