"""Nothing is lost when Redis (the broker) is down or a worker is killed, and nothing happens twice.

Real processes: a private redis-server that the test stops and starts again, gunicorn, Celery workers; all
share this run's PostgreSQL test database.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path

import httpx
import pytest
from celery import Celery
from django.contrib.auth.models import Group
from django.utils import timezone

from analytics.models import OutboxMessage, ReviewTokens
from reviews.models import Review
from tests.analytics import signal_data
from tests.factories import DEFAULT_PASSWORD, CourseFactory, UserFactory
from tests.trust.processes import (
    CeleryWorker,
    Gunicorn,
    RedisServer,
    base_env,
    shared_database_url,
    user_for_other_processes,
    wait_for,
)

pytestmark = [
    pytest.mark.redis,
    pytest.mark.worker,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

REDIS_PORT = 6391
WEB_PORT = 8106
VISIBILITY_TIMEOUT = 2  # seconds; production: 1 hour


def _basic(username: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{DEFAULT_PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _message(review_id: int) -> OutboxMessage:
    return OutboxMessage.objects.get(key=f"review.saved:{review_id}")


@pytest.fixture
def started(tmp_path):
    """Start processes with started(...); they are all stopped at the end, whatever happened."""
    processes = []

    def start(factory, *args, **kwargs):
        process = factory(*args, **kwargs)
        processes.append(process)
        return process

    yield start
    for process in reversed(processes):
        process.kill()


def test_it_acknowledges_a_review_while_redis_is_down_and_delivers_its_follow_up_once_redis_is_back(
    tmp_path, started
):
    signal_data.run()  # a current signal run: the follow-up segments and assigns the review
    user_for_other_processes("learner-during-outage")
    course = CourseFactory(slug="outage-course")
    redis = started(RedisServer, REDIS_PORT, log=tmp_path / "redis.log")
    env = base_env(tmp_path, DATABASE_URL=shared_database_url(), REDIS_URL=redis.url)
    web = started(Gunicorn, WEB_PORT, env=env, log=tmp_path / "web.log")

    redis.kill()
    began = time.monotonic()
    response = httpx.post(
        f"{web.url}/api/reviews/",
        json={"course": course.slug, "rating": 5, "text": "Redis 挂了也能提交：讲得很清楚，推荐"},
        headers=_basic("learner-during-outage"),
        timeout=30,
    )
    elapsed = time.monotonic() - began

    assert response.status_code == 201, response.text
    assert elapsed < 5, f"the learner waited {elapsed:.1f}s for the broker"
    review = Review.objects.get(pk=response.json()["id"])
    message = _message(review.pk)
    assert message.sent_at is None and message.processed_at is None and message.send_attempts >= 1

    # Redis is back (empty: it kept nothing); a worker starts and drains the outbox.
    redis = started(RedisServer, REDIS_PORT, log=tmp_path / "redis-again.log")
    worker = started(CeleryWorker, app="courselens", env=env, log=tmp_path / "worker.log")
    wait_for(
        lambda: _message(review.pk).processed_at is not None,
        timeout=60,
        what="the follow-up to be delivered after Redis came back",
        log=worker.log,
    )
    assert ReviewTokens.objects.filter(review=review).exists()  # the follow-up's effect

    # The broker delivers the same message again (e.g. a re-send that crossed the first delivery): no effect.
    tokens_written = ReviewTokens.objects.get(review=review).updated_at
    Celery(broker=redis.url).send_task("analytics.tasks.deliver_outbox_message", args=[message.pk])
    wait_for(
        lambda: _deliveries_logged(worker.log) >= 2,
        timeout=30,
        what="the repeated delivery to be handled",
        log=worker.log,
    )
    assert _message(review.pk).deliveries == 1
    assert ReviewTokens.objects.get(review=review).updated_at == tokens_written


def _deliveries_logged(log: Path) -> int:
    return sum(
        1
        for line in log.read_text(errors="replace").splitlines()
        if "deliver_outbox_message[" in line and "succeeded" in line
    )


def test_it_runs_a_task_again_after_its_worker_is_killed_and_applies_it_once(tmp_path, started):
    markers = tmp_path / "markers"
    markers.mkdir()
    redis = started(RedisServer, REDIS_PORT, log=tmp_path / "redis.log")
    env = base_env(
        tmp_path,
        DATABASE_URL=shared_database_url(),
        REDIS_URL=redis.url,
        TRUST_MARKER_DIR=str(markers),
        # Redis hands an unacknowledged task to another worker after this long (production: 1 hour).
        CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
    )
    first = started(CeleryWorker, app="tests.trust.fault_worker", env=env, log=tmp_path / "worker-1.log")
    review = Review.objects.create(
        course=CourseFactory(), author=UserFactory(), rating=4, text="好", created_at=timezone.now()
    )
    message = OutboxMessage.objects.create(
        topic="review.saved", key=f"review.saved:{review.pk}", payload={"review_id": review.pk}
    )
    Celery(broker=redis.url).send_task("analytics.tasks.deliver_outbox_message", args=[message.pk])

    wait_for(
        lambda: (markers / "attempt-1").exists(), timeout=30, what="the first attempt to start", log=first.log
    )
    first.kill()  # SIGKILL to the whole worker mid-task: nothing acknowledged, nothing committed
    killed_at = time.monotonic()
    assert _message_row(message.pk).processed_at is None
    assert not Group.objects.filter(name__startswith="effect-").exists()

    # A starting worker takes back the unacknowledged tasks older than the visibility timeout: let it pass.
    time.sleep(max(0.0, VISIBILITY_TIMEOUT + 0.5 - (time.monotonic() - killed_at)))
    second = started(CeleryWorker, app="tests.trust.fault_worker", env=env, log=tmp_path / "worker-2.log")
    wait_for(
        lambda: _message_row(message.pk).processed_at is not None,
        timeout=60,
        what="the task to run again on the new worker",
        log=second.log,
    )

    assert sorted(path.name for path in markers.iterdir()) == ["attempt-1", "attempt-2"]
    assert list(Group.objects.filter(name__startswith="effect-").values_list("name", flat=True)) == [
        f"effect-{review.pk}-2"
    ]
    assert _message_row(message.pk).deliveries == 1


def _message_row(pk: int) -> OutboxMessage:
    return OutboxMessage.objects.get(pk=pk)
