from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from reviews.services import feedback_export


class Command(BaseCommand):
    help = (
        "Write every review (any status, with its revisions) to a JSON Lines file in the import_feedback "
        "format: export, then import into an empty database, gives the same reviews."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", metavar="OUT.jsonl", help="the file to write (replaced if it exists)")

    def handle(self, *args, path: str, **options):
        try:
            count = feedback_export(path=path)
        except OSError as error:
            raise CommandError(
                gettext("Cannot write %(path)s: %(error)s") % {"path": path, "error": error.strerror}
            ) from None
        self.stdout.write(
            self.style.SUCCESS(
                gettext("exported %(count)d reviews to %(path)s") % {"count": count, "path": path}
            )
        )
