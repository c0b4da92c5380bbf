import json
import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from analytics.models import SignalRun
from analytics.reports import signal_report
from analytics.services.signal_runs import signal_run_execute, signal_run_start
from analytics.services.taxonomy import seed_signal_definitions
from courselens.celery import app as celery_app

FINISHED = (SignalRun.Status.SUCCEEDED, SignalRun.Status.FAILED)


class Command(BaseCommand):
    help = (
        "Run one failure-signal extraction and print a summary: on the Celery workers when one answers "
        "(progress on stderr while it runs), else in this process (the same workflow); --json OUT writes "
        "the report: {run, signals: [{key, name, status, keywords, size, "
        "share, review_ids, examples}], unassigned_complaints}. Review ids are external ids or pk:N."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", metavar="OUT", dest="json_path", help="write the report here ('-': stdout)"
        )
        parser.add_argument("--seed", type=int, help="random seed of the clustering (default 0)")
        parser.add_argument(
            "--here", action="store_true", help="run in this process even when a worker is available"
        )

    def handle(
        self, *args, json_path: str | None = None, seed: int | None = None, here: bool = False, **options
    ):
        seed_signal_definitions()
        parameters = {"seed": seed} if seed is not None else None
        on_workers = not here and _workers_answer()
        try:
            run, created = signal_run_start(parameters=parameters, enqueue=on_workers)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        if run.status == SignalRun.Status.RUNNING and not on_workers:
            raise CommandError(
                gettext("Run #%(id)s is in progress on %(worker)s; try again when it has finished.")
                % {"id": run.pk, "worker": run.worker or "a worker"}
            )
        try:
            if on_workers:
                run = self._wait(run, created)
            else:
                run = signal_run_execute(run_id=run.pk)
        except Exception as error:
            raise CommandError(
                gettext("Run #%(id)s failed: %(error)s") % {"id": run.pk, "error": error}
            ) from error
        if run.status != SignalRun.Status.SUCCEEDED:
            raise CommandError(
                gettext("Run #%(id)s did not finish: %(error)s")
                % {"id": run.pk, "error": run.error or run.status}
            )
        report = signal_report(run=run)
        if json_path:
            payload = json.dumps(report, ensure_ascii=False, indent=2)
            if json_path == "-":
                self.stdout.write(payload)
                return
            with open(json_path, "w", encoding="utf-8") as handle:
                handle.write(payload + "\n")
        self._summary(run, report)

    def _wait(self, run: SignalRun, created: bool) -> SignalRun:
        """Follow the run on the workers, its progress on stderr (stdout may be the JSON report)."""
        if not created:
            self.stderr.write(gettext("Run #%(id)s was already under way: following it.") % {"id": run.pk})
        shown = None
        while run.status not in FINISHED:
            if (run.progress, run.step) != shown:
                shown = (run.progress, run.step)
                self.stderr.write(f"#{run.pk} {run.progress:3d}%  {run.step}")
            time.sleep(1)
            run.refresh_from_db()
        return run

    def _summary(self, run: SignalRun, report: dict) -> None:
        counts = run.counts
        self.stdout.write(
            self.style.SUCCESS(
                gettext(
                    "Run #%(id)s: %(reviews)d reviews, %(complaints)d complaints, %(signals)d signals "
                    "(%(discovered)d discovered), %(unassigned)d complaints in no signal, %(seconds).1f s"
                )
                % {
                    "id": run.pk,
                    "reviews": counts.get("reviews", 0),
                    "complaints": counts.get("complaints", 0),
                    "signals": len(report["signals"]),
                    "discovered": counts.get("discovered", 0),
                    "unassigned": len(report["unassigned_complaints"]),
                    "seconds": run.timings.get("total", 0.0),
                }
            )
        )
        for signal in report["signals"]:
            self.stdout.write(
                f"  {100 * signal['share']:5.1f}%  {signal['size']:5d}  {signal['key']:<22} {signal['name']}"
                f"  [{signal['status']}]  {' '.join(signal['keywords'][:6])}"
            )


def _workers_answer() -> bool:
    """True when a Celery worker answers a ping on the Redis broker (the on-disk broker of the standalone
    configuration cannot broadcast: the run then happens here, as it does with CELERY_TASK_ALWAYS_EAGER)."""
    if settings.CELERY_TASK_ALWAYS_EAGER or not settings.CELERY_BROKER_URL.startswith("redis"):
        return False
    try:
        return bool(celery_app.control.ping(timeout=1.0))
    except Exception:  # noqa: BLE001 - an unreachable broker means no worker: run here
        return False
