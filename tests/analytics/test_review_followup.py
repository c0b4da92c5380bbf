"""What a learner's change to a review does to the rankings once its follow-up has run."""

import pytest
from django.core.cache import cache

from analytics import outbox, tasks
from analytics.models import InstructorScore, OutboxMessage
from analytics.services.scores import scores_recompute
from reviews.services import review_delete, review_edit
from tests.factories import CourseFactory, InstructorFactory, ReviewFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker(monkeypatch):
    """The broker and worker, inline: a published outbox message is applied at once, and a queued score
    recompute runs at once."""
    monkeypatch.setattr(outbox, "_publish", lambda message_id: outbox.outbox_process(message_id=message_id))
    monkeypatch.setattr(tasks.recompute_scores, "apply_async", lambda countdown=0: tasks.recompute_scores())
    cache.delete("analytics:scores-recompute-pending")
    yield
    cache.delete("analytics:scores-recompute-pending")


def scored_course():
    instructor = InstructorFactory()
    course = CourseFactory(instructors=[instructor])
    reviews = [ReviewFactory(course=course, rating=rating) for rating in (5, 5, 1)]
    scores_recompute()
    score = InstructorScore.objects.get(instructor=instructor)
    assert score.review_count == 3
    return instructor, reviews


def test_it_takes_a_deleted_review_out_of_the_scores(worker, django_capture_on_commit_callbacks):
    instructor, reviews = scored_course()
    deleted_id = reviews[2].pk
    with django_capture_on_commit_callbacks(execute=True):
        review_delete(review=reviews[2], user=reviews[2].author)

    score = InstructorScore.objects.get(instructor=instructor)
    assert score.review_count == 2 and score.breakdown["learner"]["mean_rating"] == 5.0
    message = OutboxMessage.objects.get()
    assert message.payload == {"review_id": deleted_id} and message.processed_at is not None


def test_it_counts_an_edited_review_as_edited_in_the_scores(worker, django_capture_on_commit_callbacks):
    instructor, reviews = scored_course()
    with django_capture_on_commit_callbacks(execute=True):
        review_edit(review=reviews[2], editor=reviews[2].author, rating=5, text="改了主意，讲得不错")

    score = InstructorScore.objects.get(instructor=instructor)
    assert score.review_count == 3 and score.breakdown["learner"]["mean_rating"] == 5.0
