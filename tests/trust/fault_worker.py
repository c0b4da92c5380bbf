"""Celery app for the worker-kill test: CourseLens's own app and tasks, with the review.saved outbox
handler made slow and observable.

Each delivery leaves a file attempt-N (content: the pid running it) in $TRUST_MARKER_DIR and writes its
effect, a Group named "effect-<review id>-<attempt>", in the same transaction as the real handler's work.
The first attempt then sleeps so the test can kill the worker mid-task: its effect must vanish with its
uncommitted transaction.
"""

import os
import time
from pathlib import Path

from celery.signals import worker_process_init

from courselens.celery import app  # noqa: F401 - the app this worker runs


@worker_process_init.connect
def _make_the_handler_observable(**_kwargs) -> None:
    from django.contrib.auth.models import Group

    from analytics import outbox

    real_handler = outbox.HANDLERS[outbox.REVIEW_SAVED]

    def observable_review_saved(*, review_id: int) -> None:
        markers = Path(os.environ["TRUST_MARKER_DIR"])
        attempt = len(list(markers.glob("attempt-*"))) + 1
        (markers / f"attempt-{attempt}").write_text(str(os.getpid()))
        real_handler(review_id=review_id)
        Group.objects.create(name=f"effect-{review_id}-{attempt}")
        if attempt == 1:
            time.sleep(120)  # killed here by the test

    outbox.HANDLERS[outbox.REVIEW_SAVED] = observable_review_saved
