"""Write paths of the reviews app: one function per use case, called by views, API, admin and commands.

Every function raises django.core.exceptions.ValidationError with a {field: [messages]} dict for bad input
and PermissionDenied when the user may not touch the data; on error nothing is stored.

- reviews.py: a learner's own reviews (submit, edit, delete, helpful votes, reports)
- moderation.py: screening new and edited reviews, and staff decisions (publish, hide)
- importing.py / exporting.py: `import_feedback` and `export_feedback`
- common.py: who may write, and the "review changed" notification
"""

from reviews.services.exporting import feedback_export
from reviews.services.importing import ImportResult, feedback_import
from reviews.services.moderation import (
    review_hold_if_suspicious,
    review_moderate,
    review_moderation_decide,
    review_screen,
)
from reviews.services.reviews import (
    REPORT_DETAIL_MAX_CHARS,
    review_delete,
    review_edit,
    review_report,
    review_submit,
    review_unvote_helpful,
    review_vote_helpful,
)

__all__ = [
    "REPORT_DETAIL_MAX_CHARS",
    "ImportResult",
    "feedback_export",
    "feedback_import",
    "review_delete",
    "review_edit",
    "review_hold_if_suspicious",
    "review_moderate",
    "review_moderation_decide",
    "review_report",
    "review_screen",
    "review_submit",
    "review_unvote_helpful",
    "review_vote_helpful",
]
