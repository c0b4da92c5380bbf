"""Course and instructor pages, votes, reports, accounts and error pages, as a visitor would notice them."""

from datetime import timedelta

import pytest
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone

from reviews.models import Review, ReviewReport, ReviewVote
from tests.factories import (
    DEFAULT_PASSWORD,
    CourseFactory,
    InstructorFactory,
    ReviewFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def course():
    instructor = InstructorFactory(name="林思远", slug="lin-siyuan", github_login="lin-sy")
    return CourseFactory(
        title="Go 微服务实战", slug="go-micro", instructors=[instructor], tags=[TagFactory()]
    )


def _busy_catalog(n: int) -> None:
    """n courses sharing two instructors, each with reviews by different learners, votes and a report."""
    instructors = [InstructorFactory(), InstructorFactory()]
    for i in range(n):
        course = CourseFactory(instructors=instructors, tags=[TagFactory(), TagFactory()])
        for j in range(3):
            review = ReviewFactory(
                course=course, rating=1 + (i + j) % 5, dim_practice=3, text=f"评价 {i}-{j}"
            )
            ReviewVote.objects.create(review=review, user=UserFactory())


@pytest.mark.parametrize("logged_in", [False, True])
def test_it_renders_every_listing_and_detail_page_with_a_bounded_number_of_queries(
    client, django_assert_max_num_queries, logged_in
):
    _busy_catalog(12)
    if logged_in:
        client.force_login(UserFactory())
    course = Review.objects.first().course
    instructor = course.instructors.first()
    # A logged-in visitor adds the header's unread-notification count, and on a course or instructor page
    # whether they follow it.
    header, follow_button = int(logged_in), int(logged_in)
    for url, limit in [
        (reverse("home"), 10 + header),
        (reverse("course-list"), 9 + header),  # + one query for every card's score and warnings
        # the repository check card, the course score and its rank
        (course.get_absolute_url(), 15 + header + follow_button),
        (reverse("instructor-list"), 4 + header),
        (instructor.get_absolute_url(), 14 + header + follow_button),  # + the course cards' scores
    ]:
        with django_assert_max_num_queries(limit):
            assert client.get(url).status_code == 200, url


def test_it_shows_the_rating_summary_distribution_and_dimension_averages(client, course):
    for rating, practice in [(5, 4), (5, 5), (2, None)]:
        ReviewFactory(course=course, rating=rating, dim_practice=practice)
    ReviewFactory(course=course, rating=1, status=Review.Status.HIDDEN)
    summary = client.get(course.get_absolute_url()).context["summary"]
    assert summary["count"] == 3
    assert round(summary["average"], 2) == 4.0
    assert [row["count"] for row in summary["distribution"]] == [2, 0, 0, 1, 0]  # 5 → 1 stars
    practice = next(d for d in summary["dimensions"] if d["key"] == "practice")
    assert (practice["average"], practice["count"]) == (4.5, 2)


def test_it_sorts_reviews_by_most_helpful(client, course):
    ReviewFactory(course=course, text="较早但有用", helpful_count=7)
    ReviewFactory(course=course, text="最新的一条", helpful_count=0)
    newest = [r.text for r in client.get(course.get_absolute_url()).context["page_obj"]]
    helpful = [r.text for r in client.get(course.get_absolute_url(), {"sort": "helpful"}).context["page_obj"]]
    assert newest[0] == "最新的一条" and helpful[0] == "较早但有用"


def test_it_shows_the_learners_own_pending_review_only_to_them(client, course):
    author = UserFactory()
    ReviewFactory(course=course, author=author, text="等待审核的评价", status=Review.Status.PENDING)
    assert "等待审核的评价" not in client.get(course.get_absolute_url()).content.decode()
    client.force_login(author)
    body = client.get(course.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "等待审核的评价" in body and "waiting for a moderator" in body
    assert "等待审核的评价" in client.get(reverse("my-reviews")).content.decode()


def test_it_takes_back_a_helpful_vote_and_both_actions_are_idempotent(client, course):
    review = ReviewFactory(course=course)
    voter = UserFactory()
    client.force_login(voter)
    url = reverse("review-vote", args=[review.pk])
    client.post(url, {"action": "vote"})
    page = client.get(course.get_absolute_url()).content.decode()
    assert 'aria-pressed="true"' in page
    for _ in range(2):
        client.post(url, {"action": "unvote"})
    review.refresh_from_db()
    assert review.helpful_count == 0 and not ReviewVote.objects.filter(review=review).exists()


def test_it_disables_the_helpful_button_on_your_own_review(client, course):
    review = ReviewFactory(course=course)
    client.force_login(review.author)
    body = client.get(course.get_absolute_url()).content.decode()
    own = body[body.index(f'id="review-{review.pk}"') :]
    assert "disabled" in own[: own.index("</article>")]


def test_it_casts_the_vote_a_visitor_clicked_once_they_log_in(client, course):
    review = ReviewFactory(course=course)
    voter = UserFactory(username="late-voter")
    voter.set_password("a-long-pass-phrase-2026")
    voter.save()
    back = f"{course.get_absolute_url()}#review-{review.pk}"

    response = client.post(reverse("review-vote", args=[review.pk]), {"action": "vote", "next": back})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    review.refresh_from_db()
    assert review.helpful_count == 0  # nobody to count it for yet

    logged_in = client.post(
        f"{reverse('login')}?next={back}",
        {"username": "late-voter", "password": "a-long-pass-phrase-2026", "next": back},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    review.refresh_from_db()
    assert review.helpful_count == 1
    assert "vote has been counted" in logged_in.content.decode()
    assert client.get(reverse("review-vote", args=[review.pk]))["Location"] == back


def test_it_answers_an_htmx_vote_with_the_review_actions_alone(client, course):
    review = ReviewFactory(course=course)
    client.force_login(UserFactory())
    response = client.post(
        reverse("review-vote", args=[review.pk]),
        {"action": "vote", "next": f"{course.get_absolute_url()}?page=2#review-{review.pk}"},
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<footer class="review-actions" id="review-actions-{review.pk}"')
    assert 'aria-pressed="true"' in html and "Helpful · 1" in html
    assert "Marked as helpful" in html
    assert f'value="{course.get_absolute_url()}?page=2#review-{review.pk}"' in html  # still goes back there


def test_it_tells_a_learner_when_their_review_waits_for_a_moderator(client, course):
    text = "这门课是我见过最好的 Go 课程，强烈推荐给所有人，老师讲得非常好，加微信 go-master-666 领取优惠券"
    old = timezone.now() - timedelta(days=400)
    ReviewFactory(text=text, author=UserFactory(date_joined=old))
    client.force_login(UserFactory(date_joined=old))
    response = client.post(
        reverse("review-create", args=[course.slug]),
        {"rating": 5, "text": text.replace("666", "777")},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    html = response.content.decode()
    assert "waits for a moderator before it is public" in html
    assert "Your review is published" not in html


def test_it_refuses_a_vote_redirect_to_another_site(client, course):
    review = ReviewFactory(course=course)
    client.force_login(UserFactory())
    response = client.post(reverse("review-vote", args=[review.pk]), {"next": "https://evil.example/"})
    assert response["Location"].startswith(course.get_absolute_url())


def test_it_does_not_let_a_learner_report_their_own_review(client, course):
    review = ReviewFactory(course=course)
    client.force_login(review.author)
    response = client.post(reverse("review-report", args=[review.pk]), {"reason": "spam"})
    assert response.status_code == 302
    assert not ReviewReport.objects.exists()


def test_it_says_so_when_a_learner_opens_the_report_form_again(client, course):
    review = ReviewFactory(course=course)
    client.force_login(UserFactory())
    url = reverse("review-report", args=[review.pk])
    assert client.get(url).status_code == 200
    client.post(url, {"reason": "fake", "detail": "刷分"})
    again = client.get(url, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "already reported" in again.content.decode()
    assert "Reported" in again.content.decode()
    assert ReviewReport.objects.get().detail == "刷分"


def test_it_requires_a_known_reason_to_report(client, course):
    review = ReviewFactory(course=course)
    client.force_login(UserFactory())
    response = client.post(reverse("review-report", args=[review.pk]), {"reason": "because"})
    assert response.status_code == 200 and response.context["form"].errors["reason"]
    assert not ReviewReport.objects.exists()


def test_it_searches_courses_by_instructor_name_and_keeps_filters_across_pages(client, course):
    for n in range(14):
        CourseFactory(title=f"Kubernetes 课程 {n}", provider="Udemy")
    assert "Go 微服务实战" in client.get(reverse("course-list"), {"q": "林思远"}).content.decode()
    page = client.get(reverse("course-list"), {"provider": "Udemy", "sort": "newest"}).content.decode()
    assert "?provider=Udemy&amp;sort=newest&amp;page=2" in page


def test_it_never_fails_on_strange_filter_values(client, course):
    for params in [{"level": "expert"}, {"sort": "price"}, {"page": "999"}, {"tag": "nope"}]:
        assert client.get(reverse("course-list"), params).status_code == 200, params
    # No form can send a NUL: every page answers such an address with the site's 400 page.
    assert client.get(reverse("course-list"), {"q": "a\x00b"}).status_code == 400
    assert client.get(reverse("instructor-list"), {"q": "\x00"}).status_code == 400


def test_it_shows_an_instructors_github_courses_and_recent_reviews(client, course):
    ReviewFactory(course=course, text="讲师有真实的开源项目")
    body = client.get(reverse("instructor-detail", args=["lin-siyuan"])).content.decode()
    assert "https://github.com/lin-sy" in body
    assert "Go 微服务实战" in body and "讲师有真实的开源项目" in body


def test_it_answers_404_for_an_unknown_course_in_the_site_style(client):
    response = client.get("/courses/no-such-course/")
    assert response.status_code == 404
    assert 'class="error-page"' in response.content.decode()


def test_it_renders_the_500_page_without_any_context():
    html = get_template("500.html").render()
    assert "500" in html and "{%" not in html


def test_it_logs_in_and_returns_to_the_page_the_learner_came_from(client, course):
    user = UserFactory()
    response = client.post(
        reverse("login"),
        {"username": user.username, "password": DEFAULT_PASSWORD, "next": course.get_absolute_url()},
    )
    assert response["Location"] == course.get_absolute_url()


def test_it_ignores_an_offsite_next_after_signup(client):
    response = client.post(
        reverse("signup") + "?next=https://evil.example/",
        {"username": "xiaohong", "password1": "Go-并发-2026-ok", "password2": "Go-并发-2026-ok"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_it_logs_out_by_post_only(client):
    client.force_login(UserFactory())
    assert client.get(reverse("logout")).status_code == 405
    client.post(reverse("logout"))
    assert "_auth_user_id" not in client.session


def test_it_switches_the_language_from_the_nav(client):
    body = client.get(reverse("home")).content.decode()
    assert f'action="{reverse("set_language")}"' in body and 'value="en"' in body
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert client.get(reverse("home"))["Content-Language"] == "en"


def test_it_sorts_reviews_by_rating_both_ways(client, course):
    for rating in (3, 5, 1):
        ReviewFactory(course=course, rating=rating)
    highest = [
        r.rating for r in client.get(course.get_absolute_url(), {"sort": "highest"}).context["page_obj"]
    ]
    lowest = [r.rating for r in client.get(course.get_absolute_url(), {"sort": "lowest"}).context["page_obj"]]
    assert (highest, lowest) == ([5, 3, 1], [1, 3, 5])


def test_it_shows_a_learner_the_earlier_versions_of_their_own_review(client, course):
    from reviews.services import review_edit, review_submit

    author = UserFactory()
    review = review_submit(author=author, course=course, rating=2, text="第一版：例子太少，节奏太快。")
    review_edit(review=review, editor=author, rating=4, text="第二版：后面几章补上了例子。")
    client.force_login(author)
    html = client.get(reverse("review-edit", args=[review.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    versions = html[html.index("earlier-versions") : html.index("</details>", html.index("earlier-versions"))]
    assert "第一版：例子太少，节奏太快。" in versions
    assert "第二版" not in versions  # the current text is in the form, not among the earlier versions
    client.force_login(UserFactory())
    assert client.get(reverse("review-edit", args=[review.pk])).status_code == 403
