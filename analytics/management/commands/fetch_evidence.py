"""`python manage.py fetch_evidence [--instructor SLUG] [--from-file PATH]`: refresh GitHub evidence now.

Runs the same service as the Celery task, one instructor at a time, then recomputes the scores. Exits non-zero
when any refresh failed (the last good snapshot stays and the error is recorded for admins).
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from analytics.models import EvidenceSnapshot
from analytics.services import evidence
from analytics.services.scores import scores_recompute
from reviews.models import Instructor


class Command(BaseCommand):
    help = "Fetch GitHub evidence for every linked instructor (or one), then recompute the scores."

    def add_arguments(self, parser):
        parser.add_argument("--instructor", metavar="SLUG", help="only this instructor")
        parser.add_argument(
            "--from-file",
            metavar="PATH",
            help="load snapshots from a JSON file in the demo/evidence.json format instead of asking GitHub",
        )

    def handle(self, *args, instructor: str | None, from_file: str | None, **options):
        if from_file:
            try:
                loaded = evidence.evidence_load_demo(path=from_file)
            except ValidationError as error:
                raise CommandError("; ".join(error.messages)) from None
            self.stdout.write(f"loaded {loaded} evidence snapshots from {from_file}")
            scores_recompute()
            return

        instructors = Instructor.objects.order_by("slug")
        if instructor:
            chosen = instructors.filter(slug=instructor).first()
            if chosen is None:
                raise CommandError(f"no instructor with the slug {instructor!r}")
            if not chosen.github_login:
                raise CommandError(f"{instructor} has no GitHub login; link one in the admin first")
            targets = [chosen]
        else:
            targets = list(instructors.exclude(github_login__isnull=True).exclude(github_login=""))
        if not targets:
            self.stdout.write("no instructor is linked to a GitHub login")
            return

        failed = 0
        for target in targets:
            before = EvidenceSnapshot.objects.current_for(target)
            snapshot = evidence.evidence_refresh(instructor_id=target.pk)
            label = f"{target.slug} ({target.github_login})"
            if snapshot.status == EvidenceSnapshot.Status.FAILED:
                failed += 1
                self.stderr.write(f"{label}: FAILED, last good evidence kept: {snapshot.error}")
            elif before is not None and snapshot.pk == before.pk:
                self.stdout.write(f"{label}: unchanged")
            else:
                figures = ", ".join(f"{key}={value}" for key, value in snapshot.figures.items())
                self.stdout.write(f"{label}: updated ({figures})")
        scores = scores_recompute()
        self.stdout.write(f"scores recomputed for {len(scores)} instructors")
        if failed:
            raise CommandError(f"{failed} of {len(targets)} refreshes failed")
