"""Build signal reports straight into the database for the dashboard, API and public-partial tests.

The pipeline itself is tested elsewhere; these tests need a run with known clusters, members and quotes.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from django.utils import timezone

from analytics.models import ReviewSignal, SignalCluster, SignalDefinition, SignalRun
from tests.factories import ReviewFactory


def definition(key: str, *, status: str = SignalDefinition.Status.CONFIRMED, **fields) -> SignalDefinition:
    defaults = {"name_zh": f"信号 {key}", "name_en": f"Signal {key}", "description": f"About {key}."}
    defaults.update(fields)
    return SignalDefinition.objects.create(key=key, status=status, **defaults)


def run(*, current: bool = True, status: str = SignalRun.Status.SUCCEEDED, **fields) -> SignalRun:
    now = timezone.now()
    values = {
        "status": status,
        "is_current": current,
        "progress": 100 if status == SignalRun.Status.SUCCEEDED else 0,
        "started_at": now - timedelta(seconds=12),
        "finished_at": now if status in (SignalRun.Status.SUCCEEDED, SignalRun.Status.FAILED) else None,
        "counts": {"reviews": 10, "complaints": 6},
        "timings": {"segment": 1.5, "cluster": 0.25},
        "parameters": {"seed": 42},
    }
    values.update(fields)
    return SignalRun.objects.create(**values)


def cluster(
    run_: SignalRun,
    definition_: SignalDefinition | None,
    *,
    reviews=(),
    share: float = 0.5,
    lift: float | None = 1.2,
    keywords=None,
    quotes=(),
    label: str = "",
) -> SignalCluster:
    made = SignalCluster.objects.create(
        run=run_,
        definition=definition_,
        label=label,
        keywords=keywords if keywords is not None else [["hello world", 0.9], ["玩具", 0.5], ["示例", 0.1]],
        size=len(reviews),
        share=share,
        lift=lift,
    )
    for position, review in enumerate(reviews):
        ReviewSignal.objects.create(run=run_, review=review, cluster=made, score=1.0 - position / 100)
    if quotes:
        made.representative_reviews.add(*quotes)
    return made


_texts = itertools.count(1)


def reviews(n: int, *, course=None, month: datetime | None = None, **fields) -> list:
    extra = {"course": course} if course is not None else {}
    if month is not None:
        extra["created_at"] = month
    extra.setdefault("rating", 2)
    extra.update(fields)
    return [
        ReviewFactory(text=f"例子全是 Hello World 玩具代码（第{next(_texts)}条）", **extra) for _ in range(n)
    ]
