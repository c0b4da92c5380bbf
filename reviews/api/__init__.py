"""REST API for the catalog and learner reviews (DRF). Writes go through reviews.services.

Serializer fields for review input run the shared validators (reviews.validators), and the services check
again, so the API, the forms and the importer accept and reject the same values with the same messages.
"""

from reviews.api.catalog import CourseViewSet, InstructorViewSet
from reviews.api.reviews import ReviewViewSet

__all__ = ["CourseViewSet", "InstructorViewSet", "ReviewViewSet"]
