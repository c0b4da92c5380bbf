"""The REST API for courses, instructors and reviews, as an API client sees it."""

import subprocess

import pytest
from rest_framework.test import APIClient

from reviews.models import Review, ReviewReport, ReviewVote
from reviews.services import review_submit
from tests.factories import (
    CourseFactory,
    ImportedReviewFactory,
    InstructorFactory,
    ReviewFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def learner():
    return UserFactory()


@pytest.fixture
def client(learner) -> APIClient:
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    api.force_authenticate(learner)
    return api


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def course():
    return CourseFactory(slug="go-高并发实战", title="Go 高并发实战")


def post_review(client: APIClient, course, **overrides):
    body = {"course": course.slug, "rating": 4, "text": "goroutine 讲得好", **overrides}
    return client.post("/api/reviews/", body, format="json")


# --- Writing a review --------------------------------------------------------------------------------------


def test_it_creates_a_review_and_returns_it(client, learner, course):
    response = post_review(client, course, dimensions={"practice": 5, "production": 2})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["course"] == course.slug and body["author"] == learner.username
    assert body["dimensions"] == {"practice": 5, "production": 2}
    assert body["is_mine"] is True and body["source"] == "api" and body["status"] == "published"
    review = Review.objects.get(pk=body["id"])
    assert (review.author, review.rating, review.source) == (learner, 4, Review.Source.API)
    assert review.revisions.count() == 1


@pytest.mark.parametrize("rating", [0, 6, 2.5, "2.5", "五", True, None])
def test_it_answers_400_with_a_rating_error(client, course, rating):
    response = post_review(client, course, rating=rating)
    assert response.status_code == 400
    assert list(response.json()) == ["rating"]
    assert Review.objects.count() == 0


def test_it_accepts_a_rating_sent_as_a_string(client, course):
    assert post_review(client, course, rating="5").status_code == 201


@pytest.mark.parametrize("text", ["", "   \n\t", "\u3000", "好" * 5001, "goroutine\x00泄漏"])
def test_it_answers_400_with_a_text_error(client, course, text):
    response = post_review(client, course, text=text)
    assert response.status_code == 400
    assert list(response.json()) == ["text"]
    assert Review.objects.count() == 0


def test_it_explains_the_nul_byte_problem(client, course):
    response = post_review(client, course, text="a\x00b")
    assert "NUL" in response.json()["text"][0]


def test_it_accepts_exactly_5000_characters(client, course):
    response = post_review(client, course, text="并" * 5000)
    assert response.status_code == 201
    assert len(Review.objects.get().text) == 5000


def test_it_names_the_bad_dimension(client, course):
    response = post_review(client, course, dimensions={"practice": 0, "vibes": 3})
    assert response.status_code == 400
    assert set(response.json()["dimensions"]) == {"practice", "vibes"}


def test_it_requires_course_rating_and_text(client):
    response = client.post("/api/reviews/", {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"course", "rating", "text"}
    assert not Review.objects.exists()


def test_it_answers_400_for_an_unknown_course(client):
    response = client.post("/api/reviews/", {"course": "nope", "rating": 4, "text": "x"}, format="json")
    assert response.status_code == 400 and "course" in response.json()
    assert not Review.objects.exists()


def test_it_refuses_a_second_review_of_the_same_course(client, learner, course):
    assert post_review(client, course).status_code == 201
    response = post_review(client, course, rating=1, text="再来一次")
    assert response.status_code == 400
    assert "already reviewed" in response.json()["course"][0]
    assert Review.objects.filter(author=learner, course=course).count() == 1


def test_it_ignores_fields_a_learner_must_not_set(client, learner, course):
    someone_else = UserFactory()
    response = post_review(
        client,
        course,
        status="hidden",
        author=someone_else.pk,
        helpful_count=999,
        source="import",
        external_id="fake-1",
        created_at="2001-01-01T00:00:00Z",
    )
    assert response.status_code == 201
    review = Review.objects.get()
    assert review.author == learner and review.status == "published" and review.helpful_count == 0
    assert review.source == "api" and review.external_id is None and review.created_at.year > 2001


def test_it_requires_login_to_write(anonymous, course):
    assert post_review(anonymous, course).status_code == 403
    assert Review.objects.count() == 0


def test_it_handles_a_malformed_json_body(client):
    response = client.post("/api/reviews/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert not Review.objects.exists()


# --- Editing and deleting ----------------------------------------------------------------------------------


def test_it_lets_the_author_patch_a_review_and_keeps_history(client, learner, course):
    review = review_submit(author=learner, course=course, rating=4, text="v1", dimensions={"practice": 4})
    response = client.patch(f"/api/reviews/{review.pk}/", {"text": "v2"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["text"] == "v2" and response.json()["rating"] == 4
    assert response.json()["dimensions"] == {"practice": 4}
    assert list(review.revisions.order_by("pk").values_list("text", flat=True)) == ["v1", "v2"]


def test_it_replaces_the_dimensions_when_sent(client, learner, course):
    review = review_submit(author=learner, course=course, rating=4, text="v1", dimensions={"practice": 4})
    response = client.patch(f"/api/reviews/{review.pk}/", {"dimensions": {"testing": 2}}, format="json")
    assert response.json()["dimensions"] == {"testing": 2}
    review.refresh_from_db()
    assert (review.dim_practice, review.dim_testing) == (None, 2)
    response = client.patch(f"/api/reviews/{review.pk}/", {"dimensions": None}, format="json")
    assert response.json()["dimensions"] == {}
    review.refresh_from_db()
    assert (review.dim_practice, review.dim_testing) == (None, None)


def test_it_rejects_an_invalid_patch_and_keeps_the_row(client, learner, course):
    review = review_submit(author=learner, course=course, rating=4, text="v1")
    response = client.patch(f"/api/reviews/{review.pk}/", {"rating": 6, "text": " "}, format="json")
    assert response.status_code == 400 and set(response.json()) == {"rating", "text"}
    review.refresh_from_db()
    assert (review.rating, review.text, review.revisions.count()) == (4, "v1", 1)


def test_it_forbids_patching_someone_elses_review(client):
    review = ReviewFactory(rating=5, text="原文")
    response = client.patch(f"/api/reviews/{review.pk}/", {"rating": 1, "text": "篡改"}, format="json")
    assert response.status_code in {403, 404}
    review.refresh_from_db()
    assert (review.rating, review.text) == (5, "原文")


def test_it_forbids_deleting_someone_elses_review(client):
    review = ReviewFactory()
    assert client.delete(f"/api/reviews/{review.pk}/").status_code in {403, 404}
    assert Review.objects.filter(pk=review.pk).exists()


def test_it_hides_someone_elses_unpublished_review_entirely(client):
    hidden = ReviewFactory(status=Review.Status.HIDDEN)
    assert client.get(f"/api/reviews/{hidden.pk}/").status_code == 404
    assert client.patch(f"/api/reviews/{hidden.pk}/", {"rating": 1}, format="json").status_code == 404


def test_it_lets_the_author_delete_a_review(client, learner, course):
    review = review_submit(author=learner, course=course, rating=4, text="v1")
    assert client.delete(f"/api/reviews/{review.pk}/").status_code == 204
    assert not Review.objects.exists()


def test_it_does_not_offer_put(client, learner, course):
    review = review_submit(author=learner, course=course, rating=4, text="v1")
    body = {"course": course.slug, "rating": 1, "text": "x"}
    assert client.put(f"/api/reviews/{review.pk}/", body, format="json").status_code == 405


# --- Reading reviews ---------------------------------------------------------------------------------------


def test_it_lists_a_courses_published_reviews_newest_first(anonymous, course):
    old = ReviewFactory(course=course, text="旧")
    new = ReviewFactory(course=course, text="新")
    Review.objects.filter(pk=old.pk).update(created_at=new.created_at.replace(year=2020))
    ReviewFactory(course=course, status=Review.Status.HIDDEN)
    ReviewFactory(course=course, status=Review.Status.PENDING)
    ReviewFactory()  # another course
    response = anonymous.get("/api/reviews/", {"course": course.slug})
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [new.pk, old.pk]


def test_it_sorts_reviews_by_helpfulness(anonymous, course):
    quiet = ReviewFactory(course=course)
    helpful = ReviewFactory(course=course, helpful_count=7)
    Review.objects.filter(pk=helpful.pk).update(created_at=quiet.created_at.replace(year=2020))
    response = anonymous.get("/api/reviews/", {"course": course.slug, "ordering": "helpful"})
    assert [row["id"] for row in response.json()["results"]] == [helpful.pk, quiet.pk]


def test_it_shows_learners_their_own_pending_review(client, learner, course):
    pending = ReviewFactory(course=course, author=learner, status=Review.Status.PENDING)
    response = client.get("/api/reviews/", {"course": course.slug, "mine": "true"})
    assert [(row["id"], row["status"]) for row in response.json()["results"]] == [(pending.pk, "pending")]


def test_it_shows_imported_feedback_without_an_author(anonymous):
    imported = ImportedReviewFactory()
    row = anonymous.get(f"/api/reviews/{imported.pk}/").json()
    assert row["author"] is None and row["source"] == "import" and row["is_mine"] is False


def test_it_returns_review_text_as_data_not_markup(anonymous):
    review = ReviewFactory(text="<script>alert(1)</script>")
    response = anonymous.get(f"/api/reviews/{review.pk}/")
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["text"] == "<script>alert(1)</script>"


# --- Helpful votes and reports -----------------------------------------------------------------------------


def test_it_counts_a_helpful_vote_once_and_takes_it_back(client, learner):
    review = ReviewFactory()
    url = f"/api/reviews/{review.pk}/helpful/"
    assert client.post(url).json() == {"helpful_count": 1, "voted_helpful": True}
    assert client.post(url).json() == {"helpful_count": 1, "voted_helpful": True}
    assert client.get(f"/api/reviews/{review.pk}/").json()["voted_helpful"] is True
    assert client.delete(url).json() == {"helpful_count": 0, "voted_helpful": False}
    assert not ReviewVote.objects.exists()


def test_it_refuses_a_vote_for_ones_own_review(client, learner):
    review = ReviewFactory(author=learner)
    response = client.post(f"/api/reviews/{review.pk}/helpful/")
    assert response.status_code == 400 and "review" in response.json()
    review.refresh_from_db()
    assert review.helpful_count == 0


def test_it_requires_login_to_vote(anonymous):
    review = ReviewFactory()
    assert anonymous.post(f"/api/reviews/{review.pk}/helpful/").status_code == 403


def test_it_files_a_report(client, learner):
    review = ReviewFactory()
    response = client.post(
        f"/api/reviews/{review.pk}/report/", {"reason": "spam", "detail": "广告"}, format="json"
    )
    assert response.status_code == 201, response.json()
    report = ReviewReport.objects.get()
    assert (report.reporter, report.reason, report.detail) == (learner, "spam", "广告")
    again = client.post(f"/api/reviews/{review.pk}/report/", {"reason": "abuse"}, format="json")
    assert again.status_code == 400 and ReviewReport.objects.count() == 1


def test_it_rejects_an_unknown_report_reason(client):
    review = ReviewFactory()
    response = client.post(f"/api/reviews/{review.pk}/report/", {"reason": "meh"}, format="json")
    assert response.status_code == 400 and "reason" in response.json()


# --- Catalog -----------------------------------------------------------------------------------------------


def test_it_lists_courses_with_published_review_stats(anonymous, course):
    instructor = InstructorFactory(name="张三", slug="张三")
    course.instructors.add(instructor)
    ReviewFactory(course=course, rating=5)
    ReviewFactory(course=course, rating=2)
    ReviewFactory(course=course, rating=1, status=Review.Status.HIDDEN)
    CourseFactory(title="Empty course")
    rows = {row["slug"]: row for row in anonymous.get("/api/courses/").json()["results"]}
    assert (rows[course.slug]["review_count"], rows[course.slug]["avg_rating"]) == (2, 3.5)
    assert rows[course.slug]["instructors"][0]["slug"] == "张三"
    empty = next(row for row in rows.values() if row["slug"] != course.slug)
    assert (empty["review_count"], empty["avg_rating"]) == (0, None)


def test_it_filters_courses_by_provider_level_tag_and_search(anonymous):
    concurrency = TagFactory(name="concurrency", slug="concurrency")
    wanted = CourseFactory(
        title="Go 并发编程", provider="慕课网", level="advanced", tags=[concurrency], description="channel"
    )
    CourseFactory(title="Go 入门", provider="慕课网", level="beginner")
    CourseFactory(title="Rust", provider="Udemy", level="advanced", tags=[concurrency])
    for params in (
        {"provider": "慕课网", "level": "advanced"},
        {"tag": "concurrency", "provider": "慕课网"},
        {"search": "并发编程"},
        {"search": "CHANNEL"},
    ):
        slugs = [row["slug"] for row in anonymous.get("/api/courses/", params).json()["results"]]
        assert slugs == [wanted.slug], params


def test_it_rejects_an_unknown_level_filter(anonymous):
    assert anonymous.get("/api/courses/", {"level": "guru"}).status_code == 400


def test_it_shows_a_course_with_unicode_slug_and_dimension_averages(anonymous, course):
    ReviewFactory(course=course, rating=4, dim_practice=2, dim_delivery=5)
    ReviewFactory(course=course, rating=2, dim_practice=3)
    response = anonymous.get(f"/api/courses/{course.slug}/")
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Go 高并发实战"
    assert body["dimension_averages"]["practice"] == 2.5 and body["dimension_averages"]["delivery"] == 5
    assert body["dimension_averages"]["testing"] is None
    assert body["rating_distribution"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 0}


def test_it_answers_404_for_an_unknown_course(anonymous):
    assert anonymous.get("/api/courses/no-such-course/").status_code == 404


def test_it_lists_and_shows_instructors_with_their_stats(anonymous):
    instructor = InstructorFactory(name="李四", slug="李四")
    first, second = CourseFactory(instructors=[instructor]), CourseFactory(instructors=[instructor])
    ReviewFactory(course=first, rating=5, dim_concurrency=4)
    ReviewFactory(course=second, rating=3)
    InstructorFactory(name="王五")
    rows = {row["slug"]: row for row in anonymous.get("/api/instructors/").json()["results"]}
    assert (rows["李四"]["course_count"], rows["李四"]["review_count"], rows["李四"]["avg_rating"]) == (
        2,
        2,
        4.0,
    )
    detail = anonymous.get("/api/instructors/李四/").json()
    assert {course["slug"] for course in detail["courses"]} == {first.slug, second.slug}
    assert detail["dimension_averages"]["concurrency"] == 4


def test_it_orders_instructors_by_rating(anonymous):
    low, high = InstructorFactory(), InstructorFactory()
    ReviewFactory(course=CourseFactory(instructors=[low]), rating=2)
    ReviewFactory(course=CourseFactory(instructors=[high]), rating=5)
    unrated = InstructorFactory()
    slugs = [
        row["slug"] for row in anonymous.get("/api/instructors/", {"ordering": "rating"}).json()["results"]
    ]
    assert slugs == [high.slug, low.slug, unrated.slug]


def test_it_serves_the_openapi_schema(anonymous):
    response = anonymous.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/reviews/{id}/helpful/" in response.content


def test_it_answers_chinese_learners_in_chinese(tmp_path, settings, course):
    locale_dir = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES"
    locale_dir.mkdir(parents=True)
    source = settings.BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    subprocess.run(["msgfmt", "--check", "-o", str(locale_dir / "django.mo"), str(source)], check=True)
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    learner = UserFactory()
    api = APIClient(HTTP_ACCEPT_LANGUAGE="zh-hans")
    api.force_authenticate(learner)
    assert post_review(api, course).status_code == 201
    response = post_review(api, course, rating=0)
    assert response.json()["rating"] == ["请选择 1 到 5 星的评分（整数）。"]
    response = post_review(api, course)
    assert response.json()["course"] == ["你已经评价过这门课程，可以编辑原评价。"]
