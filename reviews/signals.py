"""Signals the reviews app sends, so apps that read reviews (analytics) hear about changes without
reviews importing them."""

from django.dispatch import Signal

# Sent inside the transaction of a write that changes what a review counts for (created, edited, moderated,
# deleted), with `review_id`. Receivers record their follow-up work in that same transaction, so it commits
# or rolls back with the change; a receiver that raises rolls the write back.
review_changed = Signal()
