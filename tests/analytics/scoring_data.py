"""Reviews and GitHub evidence for the score, ranking and comparison tests."""

from datetime import timedelta

from django.utils import timezone

from analytics.models import EvidenceSnapshot
from analytics.services.scores import scores_recompute
from reviews.models import Review
from tests.factories import CourseFactory, InstructorFactory

STRONG_FIGURES = {
    "go_repos": 12,
    "go_stars": 4000,
    "followers": 900,
    "golang_go_commits": 15,
    "allowlist_merged_prs": 40,
    "months_since_activity": 0.5,
}


def teach(instructor, ratings, *, course=None, status=Review.Status.PUBLISHED, age_days=10, **dims):
    """Published reviews with these ratings on one course taught by `instructor`."""
    course = course or CourseFactory(instructors=[instructor])
    now = timezone.now()
    Review.objects.bulk_create(
        Review(
            course=course,
            rating=rating,
            text=f"评价 {index}",
            status=status,
            source=Review.Source.IMPORT,
            created_at=now - timedelta(days=age_days),
            **{f"dim_{key}": value for key, value in dims.items()},
        )
        for index, rating in enumerate(ratings)
    )
    return course


def evidence(instructor, figures=None):
    return EvidenceSnapshot.objects.create(
        instructor=instructor,
        fetched_at=timezone.now(),
        figures=figures or STRONG_FIGURES,
        payload_summary={
            "login": instructor.github_login or "x",
            "top_repos": [{"name": "gocache", "stars": 4000}],
        },
    )


def two_scored():
    ada = InstructorFactory(slug="ada", name="Ada", github_login="ada")
    teach(ada, [5] * 6, practice=5, testing=4)
    evidence(ada)
    bob = InstructorFactory(slug="bob", name="Bob")
    teach(bob, [3] * 6, practice=2)
    scores_recompute()
    return ada, bob
