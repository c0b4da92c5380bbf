from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from reviews.services import feedback_export


class Command(BaseCommand):
    help = (
        "Write every review (any status, with its revisions) to a JSON Lines file in the import_feedback "
        "format: export, then import into an empty database, gives the same reviews. Phone numbers, QQ / "
        "WeChat ids, e-mail addresses and ID card numbers in the texts are masked unless --unmasked is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", metavar="OUT.jsonl", help="the file to write (replaced if it exists)")
        parser.add_argument(
            "--unmasked",
            action="store_true",
            help="write personal data in review texts as stored (for a backup that restores exactly; "
            "keep the file as safe as the database)",
        )

    def handle(self, *args, path: str, unmasked: bool = False, **options):
        try:
            count = feedback_export(path=path, unmasked=unmasked)
        except OSError as error:
            raise CommandError(
                gettext("Cannot write %(path)s: %(error)s") % {"path": path, "error": error.strerror}
            ) from None
        self.stdout.write(
            self.style.SUCCESS(
                gettext("exported %(count)d reviews to %(path)s") % {"count": count, "path": path}
            )
        )
