"""What the page modules share: the review sorts, who voted and reported what, and safe redirects."""

from django.db.models import Exists, F, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from reviews.models import Review, ReviewReport, ReviewVote

PUBLISHED = Review.Status.PUBLISHED
REVIEWS_PER_PAGE = 10

# Undated (imported) reviews come last.
_NEWEST = F("created_at").desc(nulls_last=True)
REVIEW_SORTS = {
    "newest": (_NEWEST, "-pk"),
    "helpful": ("-helpful_count", _NEWEST, "-pk"),
    "highest": ("-rating", _NEWEST, "-pk"),
    "lowest": ("rating", _NEWEST, "-pk"),
}


def reviews_for_display(reviews: QuerySet[Review], user) -> QuerySet[Review]:
    """Reviews with their author and course loaded and, for a logged-in user, whether they voted (`voted`)."""
    reviews = reviews.select_related("author", "course")
    if user.is_authenticated:
        reviews = reviews.annotate(voted=Exists(ReviewVote.objects.filter(review=OuterRef("pk"), user=user)))
    return reviews


def reported_ids(user, reviews) -> set[int]:
    if not user.is_authenticated:
        return set()
    ids = [review.pk for review in reviews]
    return set(
        ReviewReport.objects.filter(reporter=user, review_id__in=ids).values_list("review_id", flat=True)
    )


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The `next` URL of the request if it points to this site, else `fallback`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback
