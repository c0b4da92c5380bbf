"""factory_boy factories shared by every test module.

Usage: `ReviewFactory()` builds a published web review by a fresh learner on a fresh course;
`ReviewFactory(author=user, course=course, rating=2, text="…", dim_production=1)` for specific rows.
`CourseFactory(instructors=[a, b], tags=[t])` links many-to-many relations after creation.
"""

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from reviews.models import (
    Course,
    Instructor,
    Review,
    ReviewReport,
    ReviewRevision,
    ReviewVote,
    Tag,
)

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"learner{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password(DEFAULT_PASSWORD)


class StaffUserFactory(UserFactory):
    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True
    is_superuser = True


class InstructorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Instructor

    name = factory.Sequence(lambda n: f"讲师{n}")
    slug = factory.Sequence(lambda n: f"instructor-{n}")
    bio = "Go 后端工程师，专注高并发服务。"


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"tag{n}")
    slug = factory.LazyAttribute(lambda tag: tag.name.lower())


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Go 高并发实战 {n}")
    slug = factory.Sequence(lambda n: f"go-course-{n}")
    provider = "极客时间"
    level = Course.Level.INTERMEDIATE
    url = factory.LazyAttribute(lambda course: f"https://example.com/courses/{course.slug}")

    @factory.post_generation
    def instructors(self, create, extracted, **kwargs):
        if create and extracted:
            self.instructors.add(*extracted)

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            self.tags.add(*extracted)


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    course = factory.SubFactory(CourseFactory)
    author = factory.SubFactory(UserFactory)
    rating = 4
    text = factory.Sequence(
        lambda n: f"第{n}条评价：goroutine 和 channel 讲得很清楚，但缺少 context 超时控制的例子。"
    )
    status = Review.Status.PUBLISHED
    source = Review.Source.WEB
    created_at = factory.LazyFunction(timezone.now)


class ImportedReviewFactory(ReviewFactory):
    """Feedback that came from `import_feedback`: no author, an external id."""

    author = None
    source = Review.Source.IMPORT
    external_id = factory.Sequence(lambda n: f"ext-{n}")


class ReviewRevisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReviewRevision

    review = factory.SubFactory(ReviewFactory)
    rating = factory.SelfAttribute("review.rating")
    text = factory.SelfAttribute("review.text")
    dimensions = factory.LazyAttribute(lambda revision: revision.review.dimensions)
    edited_by = factory.SelfAttribute("review.author")


class ReviewVoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReviewVote

    review = factory.SubFactory(ReviewFactory)
    user = factory.SubFactory(UserFactory)


class ReviewReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReviewReport

    review = factory.SubFactory(ReviewFactory)
    reporter = factory.SubFactory(UserFactory)
    reason = ReviewReport.Reason.SPAM
    detail = "广告链接"
