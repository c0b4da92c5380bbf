"""Write paths of the analytics app (signal runs, evidence, scores)."""


def review_saved(*, review_id: int) -> None:
    """Called by reviews.services after a review is created or its text/rating changes (after commit)."""
