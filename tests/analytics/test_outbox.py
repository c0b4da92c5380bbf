"""A review's follow-up work is stored with the review, sent when the broker can take it, and applied once."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from analytics import outbox
from analytics.models import OutboxMessage
from reviews.models import Review
from reviews.services import review_submit
from tests.factories import CourseFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker(monkeypatch):
    """The broker as the outbox sees it: `published` message ids; set `down` to refuse connections."""

    class FakeBroker:
        down = False
        published: list[int] = []

        def publish(self, message_id: int) -> None:
            if self.down:
                raise OperationalError("Error 111 connecting to 127.0.0.1:6391. Connection refused.")
            self.published.append(message_id)

    fake = FakeBroker()
    fake.published = []
    monkeypatch.setattr(outbox, "_publish", fake.publish)
    return fake


@pytest.fixture
def applied(monkeypatch) -> list[int]:
    """Review ids the review.saved handler applied."""
    calls: list[int] = []
    monkeypatch.setitem(outbox.HANDLERS, outbox.REVIEW_SAVED, lambda *, review_id: calls.append(review_id))
    return calls


def submit() -> Review:
    return review_submit(author=UserFactory(), course=CourseFactory(), rating=4, text="讲得清楚")


def test_it_stores_the_follow_up_with_the_review_and_sends_it_after_commit(
    broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        review = submit()

    message = OutboxMessage.objects.get()
    assert (message.topic, message.payload) == ("review.saved", {"review_id": review.pk})
    assert message.sent_at is not None and broker.published == [message.pk]


def test_it_stores_nothing_when_the_review_is_rolled_back(broker):
    with pytest.raises(RuntimeError), transaction.atomic():
        submit()
        raise RuntimeError("the request failed after the review was written")

    assert not Review.objects.exists() and not OutboxMessage.objects.exists()


def test_it_keeps_the_review_and_the_unsent_message_while_the_broker_is_down(
    broker, django_capture_on_commit_callbacks
):
    broker.down = True
    with django_capture_on_commit_callbacks(execute=True):
        review = submit()

    assert Review.objects.filter(pk=review.pk).exists()
    message = OutboxMessage.objects.get()
    assert message.sent_at is None and message.send_attempts == 1
    assert "Connection refused" in message.last_error


def test_it_sends_what_was_left_once_the_broker_is_back(broker, settings, django_capture_on_commit_callbacks):
    settings.OUTBOX_SETTLE_SECONDS = 0
    broker.down = True
    with django_capture_on_commit_callbacks(execute=True):
        submit(), submit()
    assert outbox.outbox_drain() == 0  # still down: nothing sent, nothing lost

    broker.down = False
    assert outbox.outbox_drain() == 2

    assert sorted(broker.published) == sorted(OutboxMessage.objects.values_list("pk", flat=True))
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()


def test_it_applies_a_message_delivered_twice_once(applied, broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        review = submit()
    message = OutboxMessage.objects.get()

    assert outbox.outbox_process(message_id=message.pk) is True
    assert outbox.outbox_process(message_id=message.pk) is False

    message.refresh_from_db()
    assert applied == [review.pk]
    assert message.processed_at is not None and message.deliveries == 1


def test_it_keeps_a_message_whose_handler_failed_and_resends_it_later(monkeypatch, broker, settings):
    review = submit()
    message = OutboxMessage.objects.get()
    OutboxMessage.objects.filter(pk=message.pk).update(sent_at=timezone.now() - timedelta(hours=1))

    def failing(*, review_id):
        Review.objects.filter(pk=review_id).update(helpful_count=99)  # rolled back with the failure
        raise RuntimeError("database hiccup")

    monkeypatch.setitem(outbox.HANDLERS, outbox.REVIEW_SAVED, failing)
    with pytest.raises(RuntimeError):
        outbox.outbox_process(message_id=message.pk)

    message.refresh_from_db()
    review.refresh_from_db()
    assert message.processed_at is None and review.helpful_count == 0
    # Sent long ago and never processed: the broker lost it or the consumer failed; the drain sends it again.
    assert outbox.outbox_drain() == 1 and broker.published == [message.pk]


def test_it_merges_repeated_unsent_follow_ups_of_one_review(broker, django_capture_on_commit_callbacks):
    from reviews.services import review_edit

    broker.down = True
    author = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        review = review_submit(author=author, course=CourseFactory(), rating=4, text="v1")
        review_edit(review=review, editor=author, rating=3, text="v2")
        review_edit(review=review, editor=author, rating=2, text="v3")

    assert OutboxMessage.objects.count() == 1
