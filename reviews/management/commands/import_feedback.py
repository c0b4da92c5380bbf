from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from reviews.services import feedback_import


class Command(BaseCommand):
    help = (
        "Import learner feedback from a JSON Lines file: one object a line with id, course, "
        "instructor, rating (1-5), text, created_at (ISO 8601) and optional dimensions, provider and "
        'context {"taken": "YYYY-MM", "finished", "weekly_hours", "difficulty", "would_recommend"}. '
        "Every line is checked first; any bad line stops the import with its line number and nothing "
        "is stored. Ids already imported are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", metavar="FILE.jsonl", help="the JSON Lines file to import")
        parser.add_argument(
            "--dry-run", action="store_true", help="only validate the file and report what would be imported"
        )

    def handle(self, *args, path: str, dry_run: bool, **options):
        try:
            result = feedback_import(path=path, dry_run=dry_run)
        except ValidationError as error:
            heading = gettext("%(path)s: nothing imported.") % {"path": path}
            raise CommandError("\n".join([heading, *(str(message) for message in error.messages)])) from None
        if result.lines == 0:
            self.stdout.write(gettext("%(path)s holds no feedback lines: imported 0.") % {"path": path})
            return
        if dry_run:
            template = gettext(
                "would import %(created)d, skipped %(skipped)d (already present); "
                "new courses: %(courses)d, new instructors: %(instructors)d"
            )
        else:
            template = gettext(
                "imported %(created)d, skipped %(skipped)d (already present); "
                "new courses: %(courses)d, new instructors: %(instructors)d"
            )
        summary = template % {
            "created": result.created,
            "skipped": result.skipped,
            "courses": result.courses_created,
            "instructors": result.instructors_created,
        }
        self.stdout.write(self.style.SUCCESS(summary))
