"""Following a course or an instructor, and being told in the site when its score or top failure signals
change (the score recompute, which every signal run asks for, compares and notifies)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.models import CourseScore, Follow, Notification
from analytics.services.follows import follow, unfollow
from analytics.services.scores import scores_recompute
from tests.analytics import signal_data
from tests.factories import CourseFactory, InstructorFactory, ReviewFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def instructor():
    return InstructorFactory(name="张老师", slug="zhang")


@pytest.fixture
def course(instructor):
    course = CourseFactory(title="Go 并发实战", slug="go-follow", instructors=[instructor])
    for _ in range(6):
        ReviewFactory(course=course, rating=4)
    return course


def test_it_follows_and_unfollows_idempotently(course, instructor):
    learner = UserFactory()
    follow(user=learner, target=course)
    follow(user=learner, target=course)
    follow(user=learner, target=instructor)
    assert Follow.objects.filter(user=learner).count() == 2
    unfollow(user=learner, target=course)
    unfollow(user=learner, target=course)
    assert [row.target for row in Follow.objects.filter(user=learner)] == [instructor]


def test_it_notifies_every_follower_when_the_score_moves(course, instructor):
    followers = [UserFactory() for _ in range(3)]
    for learner in followers:
        follow(user=learner, target=course)
    follow(user=followers[0], target=instructor)
    bystander = UserFactory()
    follow(user=bystander, target=CourseFactory(slug="other-course"))
    scores_recompute()
    assert not Notification.objects.exists()  # a first score has nothing to compare with

    for _ in range(10):
        ReviewFactory(course=course, rating=1)
    scores_recompute()

    notified = Notification.objects.filter(course=course)
    assert sorted(notified.values_list("user_id", flat=True)) == sorted(learner.pk for learner in followers)
    change = notified.first().change
    assert change["score_after"] < change["score_before"]
    assert Notification.objects.filter(instructor=instructor, user=followers[0]).count() == 1
    assert not Notification.objects.filter(user=bystander).exists()


def test_it_stays_quiet_when_the_score_only_drifts(course):
    follow(user=UserFactory(), target=course)
    scores_recompute()
    CourseScore.objects.filter(course=course).update(
        total=CourseScore.objects.get(course=course).total + 0.004
    )
    scores_recompute()
    scores_recompute()
    assert not Notification.objects.exists()


def test_it_notifies_when_a_signal_run_changes_the_top_warnings(course):
    learner = UserFactory()
    follow(user=learner, target=course)
    scores_recompute()

    flagged = signal_data.reviews(2, course=course, rating=4)
    signal_data.cluster(signal_data.run(), signal_data.definition("toy", name_zh="玩具示例"), reviews=flagged)
    scores_recompute()

    notification = Notification.objects.get(user=learner, course=course)
    assert [signal["key"] for signal in notification.change["signals_added"]] == ["toy"]
    assert notification.change["signals_removed"] == []


def test_it_creates_notifications_in_a_constant_number_of_queries(course, django_assert_max_num_queries):
    def recompute_with_followers(n: int) -> int:
        Notification.objects.all().delete()
        for _ in range(n):
            follow(user=UserFactory(), target=course)
        ReviewFactory(course=course, rating=1, created_at=timezone.now() - timedelta(days=1))
        ReviewFactory(course=course, rating=1)
        with django_assert_max_num_queries(40) as counted:
            scores_recompute()
        assert Notification.objects.count() >= n
        return len(counted.captured_queries)

    scores_recompute()
    assert recompute_with_followers(2) == recompute_with_followers(30)


# --- Pages --------------------------------------------------------------------------------------------------


def test_it_follows_from_the_course_page_without_javascript(client, course):
    learner = UserFactory()
    client.force_login(learner)
    page = client.get(course.get_absolute_url()).content.decode()
    assert 'action="/follow/course/go-follow/"' in page and "关注" in page

    response = client.post(reverse("follow", args=["course", course.slug]), {"action": "follow"})
    assert response.status_code == 302 and response["Location"] == course.get_absolute_url()
    assert Follow.objects.filter(user=learner, course=course).exists()
    assert "已关注" in client.get(course.get_absolute_url()).content.decode()

    client.post(reverse("follow", args=["course", course.slug]), {"action": "unfollow"})
    assert not Follow.objects.filter(user=learner).exists()


def test_it_answers_an_htmx_follow_with_the_button_alone(client, instructor):
    client.force_login(UserFactory())
    response = client.post(
        reverse("follow", args=["instructor", instructor.slug]), {"action": "follow"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert 'aria-pressed="true"' in body and 'value="unfollow"' in body


def test_it_sends_a_visitor_to_log_in_and_back(client, course):
    response = client.post(reverse("follow", args=["course", course.slug]), {"action": "follow"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login")) and "go-follow" in response["Location"]
    assert not Follow.objects.exists()


def test_it_refuses_an_unknown_kind_of_follow(client):
    client.force_login(UserFactory())
    assert client.post("/follow/review/1/", {"action": "follow"}).status_code == 404


def test_it_lists_what_a_learner_follows(client, course, instructor):
    learner = UserFactory()
    follow(user=learner, target=course)
    follow(user=learner, target=instructor)
    follow(user=UserFactory(), target=CourseFactory(title="别人关注的课", slug="someone-elses"))
    scores_recompute()
    client.force_login(learner)
    page = client.get(reverse("following")).content.decode()
    assert "Go 并发实战" in page and "张老师" in page and "别人关注的课" not in page
    assert "评分" in page


def test_it_shows_the_unread_count_and_marks_notifications_read_on_the_page(client, course):
    learner = UserFactory()
    follow(user=learner, target=course)
    scores_recompute()
    for _ in range(10):
        ReviewFactory(course=course, rating=1)
    scores_recompute()
    client.force_login(learner)

    header = client.get(reverse("home")).content.decode()
    assert '<span class="unread-count">1' in header

    page = client.get(reverse("notifications")).content.decode()
    assert "Go 并发实战" in page and "评分" in page and "→" in page and "is-unread" in page
    # The page that shows them new already counts them read in its own header.
    assert "unread-count" not in page
    assert not Notification.objects.filter(user=learner, read_at__isnull=True).exists()
    assert "unread-count" not in client.get(reverse("home")).content.decode()
    assert "is-unread" not in client.get(reverse("notifications")).content.decode()


def test_it_keeps_the_pages_for_logged_in_learners(client):
    assert client.get(reverse("following")).status_code == 302
    assert client.get(reverse("notifications")).status_code == 302
