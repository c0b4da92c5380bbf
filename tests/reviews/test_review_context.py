"""Reviewer context (when taken, finished or not, hours a week, difficulty, would recommend): optional on the
form, in the API and in the import file, shown on each review, filterable on the course page, kept in every
version of a review."""

import json
from datetime import date
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from reviews.models import Review
from reviews.services import feedback_import, review_edit, review_submit
from tests.factories import CourseFactory, ReviewFactory, UserFactory

pytestmark = pytest.mark.django_db

CONTEXT = {"taken": "2024-03", "finished": True, "weekly_hours": 6, "difficulty": 4, "would_recommend": False}


@pytest.fixture
def course():
    return CourseFactory(title="Go 并发编程实战", slug="go-context")


# --- Service ------------------------------------------------------------------------------------------------


def test_it_stores_the_context_given_and_leaves_the_rest_unsaid(course):
    review = review_submit(
        author=UserFactory(), course=course, rating=4, text="讲得清楚", context={"finished": "true"}
    )
    review.refresh_from_db()
    assert review.finished is True
    assert (review.taken_on, review.weekly_hours, review.difficulty, review.would_recommend) == (None,) * 4
    assert review.revisions.get().context == {"finished": True}


@pytest.mark.parametrize(
    ("context", "key"),
    [
        ({"taken": "2024-13"}, "taken"),
        ({"taken": f"{timezone.localdate().year + 1}-01"}, "taken"),
        ({"weekly_hours": 0}, "weekly_hours"),
        ({"weekly_hours": 61}, "weekly_hours"),
        ({"difficulty": 6}, "difficulty"),
        ({"finished": "maybe"}, "finished"),
        ({"mood": "happy"}, "mood"),
    ],
)
def test_it_refuses_a_bad_context_value_naming_it_and_stores_nothing(course, context, key):
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        review_submit(author=UserFactory(), course=course, rating=4, text="讲得清楚", context=context)
    assert list(caught.value.message_dict) == ["context"]
    assert not Review.objects.exists()


def test_it_keeps_the_earlier_context_in_the_earlier_version(course):
    learner = UserFactory()
    review = review_submit(author=learner, course=course, rating=4, text="讲得清楚", context=CONTEXT)
    review_edit(review=review, editor=learner, rating=4, text="讲得清楚", context={"finished": False})
    review.refresh_from_db()
    assert review.finished is False and review.difficulty is None
    newest, earlier = review.revisions.all()
    assert (newest.context, earlier.context) == ({"finished": False}, CONTEXT)


def test_it_keeps_the_context_when_an_edit_does_not_send_it(course):
    learner = UserFactory()
    review = review_submit(author=learner, course=course, rating=4, text="讲得清楚", context=CONTEXT)
    review = review_edit(review=review, editor=learner, rating=5, text="讲得清楚")
    assert review.context.as_json() == CONTEXT


# --- Form and pages -----------------------------------------------------------------------------------------


def test_it_saves_the_context_from_the_form_and_shows_it_on_the_review(client, course):
    learner = UserFactory()
    client.force_login(learner)
    response = client.post(
        reverse("review-create", args=[course.slug]),
        {
            "rating": "4",
            "text": "例子贴近生产",
            "taken": "2024-03",
            "finished": "true",
            "weekly_hours": "6",
            "difficulty": "4",
            "would_recommend": "",
        },
    )
    assert response.status_code == 302
    review = Review.objects.get(author=learner)
    assert (review.taken_on, review.finished, review.weekly_hours, review.difficulty) == (
        date(2024, 3, 1),
        True,
        6,
        4,
    )
    assert review.would_recommend is None

    page = client.get(course.get_absolute_url()).content.decode()
    assert "2024-03 学习" in page and "已学完" in page and "每周 6 小时" in page and "难度 4/5" in page


def test_it_shows_a_bad_context_value_on_its_field_and_keeps_the_rest(client, course):
    client.force_login(UserFactory())
    response = client.post(
        reverse("review-create", args=[course.slug]),
        {"rating": "4", "text": "例子贴近生产", "weekly_hours": "200", "difficulty": "3"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["weekly_hours"]
    assert 'value="200"' in response.content.decode()
    assert not Review.objects.exists()


def test_it_opens_the_edit_form_with_the_saved_context(client, course):
    learner = UserFactory()
    review = review_submit(author=learner, course=course, rating=4, text="讲得清楚", context=CONTEXT)
    client.force_login(learner)
    form = client.get(reverse("review-edit", args=[review.pk])).context["form"]
    assert form["taken"].value() == "2024-03"
    assert form["finished"].value() == "true" and form["would_recommend"].value() == "false"
    assert form["difficulty"].value() == "4"


def test_it_shows_the_learner_the_context_of_their_earlier_versions(client, course):
    learner = UserFactory()
    review = review_submit(
        author=learner, course=course, rating=4, text="第一版", context={"finished": False}
    )
    review_edit(review=review, editor=learner, rating=5, text="第二版", context={"finished": True})
    client.force_login(learner)
    page = client.get(reverse("review-edit", args=[review.pk])).content.decode()
    earlier = page.split('class="version-list"')[1]
    assert "第一版" in earlier and "未学完" in earlier


def test_it_filters_a_course_pages_reviews_by_finished_recommend_and_difficulty(client, course):
    finished_hard = ReviewFactory(course=course, text="学完了，很难", finished=True, difficulty=5)
    dropped = ReviewFactory(course=course, text="没学完放弃了", finished=False, would_recommend=False)
    recommends = ReviewFactory(course=course, text="推荐给同事", would_recommend=True, difficulty=2)
    silent = ReviewFactory(course=course, text="没说背景")

    def listed(**params) -> set[int]:
        response = client.get(course.get_absolute_url(), params)
        return {review.pk for review in response.context["page_obj"].object_list}

    assert listed() == {finished_hard.pk, dropped.pk, recommends.pk, silent.pk}
    assert listed(finished="yes") == {finished_hard.pk}
    assert listed(finished="no") == {dropped.pk}
    assert listed(recommend="yes") == {recommends.pk}
    assert listed(recommend="no", finished="no") == {dropped.pk}
    assert listed(difficulty="5") == {finished_hard.pk}
    assert listed(difficulty="banana") == {finished_hard.pk, dropped.pk, recommends.pk, silent.pk}
    empty = client.get(course.get_absolute_url(), {"difficulty": "1"}).content.decode()
    assert "没有符合筛选条件的评价" in empty


# --- API ----------------------------------------------------------------------------------------------------


@pytest.fixture
def api() -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(UserFactory())
    return client


def test_it_takes_and_returns_the_context_through_the_api(api, course):
    response = api.post(
        "/api/reviews/",
        {"course": course.slug, "rating": 4, "text": "讲得清楚", "context": CONTEXT},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["context"] == CONTEXT
    review_id = response.json()["id"]

    patched = api.patch(f"/api/reviews/{review_id}/", {"context": {"finished": False}}, format="json")
    assert patched.status_code == 200
    assert patched.json()["context"] == {"finished": False}
    assert api.get(f"/api/reviews/{review_id}/").json()["context"] == {"finished": False}


def test_it_answers_400_naming_the_bad_context_part(api, course):
    response = api.post(
        "/api/reviews/",
        {"course": course.slug, "rating": 4, "text": "讲得清楚", "context": {"difficulty": 9}},
        format="json",
    )
    assert response.status_code == 400
    assert "Difficulty" in json.dumps(response.json()["context"])


def test_it_filters_reviews_by_context_in_the_api(course):
    finished = ReviewFactory(course=course, finished=True, would_recommend=True, difficulty=3)
    ReviewFactory(course=course, finished=False)
    client = APIClient()

    def ids(query: str) -> list[int]:
        return [
            row["id"] for row in client.get(f"/api/reviews/?course={course.slug}&{query}").json()["results"]
        ]

    assert ids("finished=true") == [finished.pk]
    assert ids("would_recommend=true&difficulty=3") == [finished.pk]
    assert client.get("/api/reviews/?finished=perhaps").status_code == 400


# --- Import -------------------------------------------------------------------------------------------------


def _write(tmp_path: Path, *rows: dict) -> Path:
    path = tmp_path / "feedback.jsonl"
    path.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n", encoding="utf-8")
    return path


def _line(external_id: str, **extra) -> dict:
    return {
        "id": external_id,
        "course": "Go 实战",
        "instructor": "张三",
        "rating": 3,
        "text": "一般",
        **extra,
    }


def test_it_imports_the_optional_context(tmp_path):
    feedback_import(path=_write(tmp_path, _line("a", context=CONTEXT), _line("b")))
    assert Review.objects.get(external_id="a").context.as_json() == CONTEXT
    assert Review.objects.get(external_id="b").context.as_json() == {}


def test_it_refuses_an_import_line_with_a_bad_context_and_stores_nothing(tmp_path):
    path = _write(tmp_path, _line("a"), _line("b", context={"weekly_hours": "lots", "taken": "March"}))
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        feedback_import(path=path)
    message = " ".join(caught.value.messages)
    assert "line 2" in message and "Hours a week" in message and "When you took it" in message
    assert not Review.objects.exists()
