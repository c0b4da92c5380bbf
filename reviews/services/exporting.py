"""`export_feedback`: every review with its revisions as JSON Lines in the import format."""

import json
from datetime import UTC, datetime
from pathlib import Path

from reviews import pii
from reviews.models import Course, Review

EXPORT_CHUNK_SIZE = 2000


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def feedback_export(*, path: str | Path, unmasked: bool = False) -> int:
    """Write every review, whatever its status, with its revisions, as JSON Lines in the `import_feedback`
    format; returns how many. Importing the file into an empty database gives the same reviews, ratings,
    dimensions, reviewer context, texts, dates, statuses and revisions (authors, votes and reports are not
    exported: imported reviews have no author). A review written on the site gets the id "web-<pk>".

    Phone numbers, QQ / WeChat ids, e-mail addresses and ID card numbers in the texts are masked: an export
    travels further than the database. `unmasked=True` writes them as stored, for a backup that must
    restore exactly."""
    path = Path(path)
    instructor_of: dict[int, str] = {}
    for course_id, name in Course.instructors.through.objects.order_by(
        "course_id", "instructor__name"
    ).values_list("course_id", "instructor__name"):
        instructor_of.setdefault(course_id, name)
    reviews = Review.objects.select_related("course").order_by("pk").prefetch_related("revisions")
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for review in reviews.iterator(chunk_size=EXPORT_CHUNK_SIZE):
            record = {
                "id": review.external_id or f"web-{review.pk}",
                "course": review.course.title,
                # The import needs an instructor; a course without one gets a placeholder name.
                "instructor": instructor_of.get(review.course_id) or "unknown",
                "provider": review.course.provider or None,
                "rating": review.rating,
                "text": review.text if unmasked else pii.mask(review.text),
                "dimensions": review.dimensions,
                "context": review.context.as_json(),
                "created_at": _iso(review.created_at),
                "status": review.status,
                "revisions": [
                    {
                        "rating": revision.rating,
                        "text": revision.text if unmasked else pii.mask(revision.text),
                        "dimensions": revision.dimensions,
                        "context": revision.context,
                        "created_at": _iso(revision.created_at),
                    }
                    for revision in sorted(
                        review.revisions.all(), key=lambda item: (item.created_at, item.pk)
                    )
                ],
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count
