"""OpenAPI schemas of the API's JSON fields (what drf-spectacular cannot infer) and the slug pattern."""

from django.utils import timezone

from reviews.models import (
    DIMENSION_KEYS,
    WEEKLY_HOURS_MAX,
)
from reviews.validators import (
    EARLIEST_TAKEN_YEAR,
)

SLUG_IN_URL = r"[^/]+"  # slugs may be Unicode (allow_unicode=True), e.g. "go-高并发实战"

RATING_SCHEMA = {"type": "integer", "minimum": 1, "maximum": 5}
DIMENSIONS_SCHEMA = {
    "type": "object",
    "properties": {key: {**RATING_SCHEMA, "nullable": True} for key in DIMENSION_KEYS},
    "additionalProperties": False,
    "description": "Teaching-dimension ratings 1-5, each optional; null or a missing key means not rated.",
}


def _taken_pattern() -> str:
    """The months validate_review_context accepts: from EARLIEST_TAKEN_YEAR to this month."""
    today = timezone.localdate()
    earlier_years = "|".join(str(year) for year in range(EARLIEST_TAKEN_YEAR, today.year))
    this_year = "|".join(f"{month:02d}" for month in range(1, today.month + 1))
    return rf"^(?:(?:{earlier_years})-(?:0[1-9]|1[0-2])|{today.year}-(?:{this_year}))$"


CONTEXT_SCHEMA = {
    "type": "object",
    "properties": {
        "taken": {"type": "string", "pattern": _taken_pattern(), "nullable": True, "example": "2024-03"},
        "finished": {"type": "boolean", "nullable": True},
        "weekly_hours": {"type": "integer", "minimum": 1, "maximum": WEEKLY_HOURS_MAX, "nullable": True},
        "difficulty": {"type": "integer", "minimum": 1, "maximum": 5, "nullable": True},
        "would_recommend": {"type": "boolean", "nullable": True},
    },
    "additionalProperties": False,
    "description": "Reviewer context, each part optional: the month the course was taken, whether it was "
    "finished, hours a week, difficulty 1 (very easy) to 5 (very hard), whether they would recommend it.",
}
AVERAGES_SCHEMA = {
    "type": "object",
    "properties": {key: {"type": "number", "format": "double", "nullable": True} for key in DIMENSION_KEYS},
    "description": "Average of each teaching dimension over published reviews (null: nobody rated it).",
}
DISTRIBUTION_SCHEMA = {
    "type": "object",
    "properties": {str(stars): {"type": "integer"} for stars in range(1, 6)},
    "description": "Number of published reviews per overall rating.",
}


# --- Statistics over published reviews -------------------------------------------------------------------
