"""Transactional outbox: follow-up work is a database row first and a broker message second.

    outbox_add()      inside the transaction of the change (the row commits or rolls back with it)
    outbox_send()     after commit (analytics.services.review_followup.review_saved): hands unsent rows
                      to the broker; a broker outage leaves them unsent
    outbox_drain()    periodic (Celery beat) and at every worker start: sends what is still unsent, re-sends
                      what was sent but never processed (a broker restart may lose queued messages)
    outbox_process()  the consumer (Celery task deliver_outbox_message): applies the message and marks it
                      processed in one transaction, under a row lock, so a repeated delivery does nothing

Together: nothing is lost while Redis is down, and each message takes effect exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from analytics import jobs
from analytics.models import OutboxMessage

logger = logging.getLogger(__name__)

REVIEW_SAVED = "review.saved"


# topic → handler(**payload), filled in by AnalyticsConfig.ready() (the handlers are services, which import
# this module). Handlers write to the database only (their effects commit with the message).
HANDLERS: dict[str, Callable[..., None]] = {}


def register_handler(topic: str, handler: Callable[..., None]) -> None:
    HANDLERS[topic] = handler


def outbox_add(*, topic: str, key: str, payload: dict) -> OutboxMessage:
    """Record a message in the current transaction; send it after commit with outbox_send(keys=[key]) (or
    leave it to the drain).

    An unsent message with the same key is reused: the work it stands for is still to be done.
    """
    if topic not in HANDLERS:
        raise ValueError(f"unknown outbox topic {topic!r}")
    message = OutboxMessage.objects.filter(key=key, sent_at__isnull=True, processed_at__isnull=True).first()
    if message is None:
        message = OutboxMessage.objects.create(topic=topic, key=key, payload=payload)
    return message


def _publish(message_id: int) -> None:
    jobs.enqueue(jobs.DELIVER_OUTBOX_MESSAGE, message_id=message_id)


def outbox_send(*, ids: list[int] | None = None, keys: list[str] | None = None, limit: int = 500) -> int:
    """Hand unsent messages (all, or those with these ids / keys) to the broker. Returns how many were sent.

    Stops at the first broker error (it would fail for the rest too); those rows stay unsent for the drain.
    """
    pending = OutboxMessage.objects.filter(sent_at__isnull=True, processed_at__isnull=True)
    if ids is not None:
        pending = pending.filter(pk__in=ids)
    if keys is not None:
        pending = pending.filter(key__in=keys)
    return _send(list(pending.order_by("pk").values_list("pk", flat=True)[:limit]))


def _send(message_ids: list[int]) -> int:
    sent = 0
    for message_id in message_ids:
        try:
            _publish(message_id)
        except Exception as error:  # noqa: BLE001 - any broker failure: keep the row for later
            OutboxMessage.objects.filter(pk=message_id).update(
                send_attempts=F("send_attempts") + 1, last_error=f"{type(error).__name__}: {error}"[:2000]
            )
            logger.warning(
                "outbox: broker unavailable, %d message(s) left for the drain: %s",
                len(message_ids) - sent,
                error,
            )
            break
        OutboxMessage.objects.filter(pk=message_id).update(
            sent_at=timezone.now(), send_attempts=F("send_attempts") + 1, last_error=""
        )
        sent += 1
    return sent


def outbox_drain(*, limit: int = 500) -> int:
    """Send every unsent message that failed to send or is older than a few seconds (younger ones are being
    sent after their commit) and re-send messages sent long ago but never processed. Deletes processed
    messages after the retention period. Returns how many were sent."""
    now = timezone.now()
    settle = now - timedelta(seconds=settings.OUTBOX_SETTLE_SECONDS)
    lost = now - timedelta(seconds=settings.OUTBOX_RESEND_AFTER_SECONDS)
    due = (
        OutboxMessage.objects.filter(processed_at__isnull=True)
        .filter(
            Q(sent_at__isnull=True, created_at__lte=settle)
            | Q(sent_at__isnull=True, send_attempts__gt=0)
            | Q(sent_at__lte=lost)
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    sent = _send(list(due))
    OutboxMessage.objects.filter(
        processed_at__lt=now - timedelta(days=settings.OUTBOX_RETENTION_DAYS)
    ).delete()
    return sent


def outbox_process(*, message_id: int) -> bool:
    """Apply one message (the consumer). Returns False when it was already processed or no longer exists.

    The handler runs in the transaction that marks the message processed, with the row locked: a concurrent or
    repeated delivery waits, then sees it processed and does nothing; a worker killed half-way commits
    nothing.
    """
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.processed_at is not None:
            return False
        HANDLERS[message.topic](**message.payload)
        message.processed_at = timezone.now()
        message.deliveries += 1
        message.save(update_fields=["processed_at", "deliveries"])
    return True
