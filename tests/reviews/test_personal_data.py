"""Personal data in reviews: a review holding a phone number, QQ / WeChat id, e-mail address or ID card number
waits for a moderator, its author is told why, staff see the reason, and wherever anyone else reads the text
(course pages, signal quotes, the APIs, export_feedback) the data is masked. The author reads it whole."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from reviews import moderation
from reviews.models import ModerationEvent, Review
from reviews.services import review_edit, review_moderation_decide, review_submit
from tests.analytics import signal_data
from tests.factories import (
    CourseFactory,
    InstructorFactory,
    ReviewFactory,
    StaffUserFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ID_NUMBER = "11010519491231002X"
ID_MASKED = "110105********002X"
# No contact cue, no link: only the personal-data rule can hold it.
ID_TEXT = f"老师讲得很清楚，报名时填的身份证 {ID_NUMBER} 一直审核不过，客服也不回"
PHONE_TEXT = "例子都是玩具代码，想要真实项目的同学可以打我电话 13812345678 一起做"
PHONE_MASKED = "138****5678"


def held_rules(review: Review) -> list[str]:
    event = review.moderation_events.get(action=ModerationEvent.Action.HELD)
    return [finding["rule"] for finding in event.findings]


def published(text: str, **fields) -> Review:
    """A learner review with `text` that staff published after the hold."""
    review = review_submit(
        author=UserFactory(), course=fields.pop("course", None) or CourseFactory(), rating=2, text=text
    )
    return review_moderation_decide(review=review, moderator=StaffUserFactory(), action="publish")


def test_it_holds_a_review_with_personal_data_and_tells_the_author_why(client):
    course = CourseFactory()
    author = UserFactory()
    client.force_login(author)

    response = client.post(
        reverse("review-create", args=[course.slug]), {"rating": "3", "text": ID_TEXT}, follow=True
    )

    review = Review.objects.get(author=author)
    assert review.status == Review.Status.PENDING
    assert held_rules(review) == [moderation.PERSONAL_DATA]
    page = response.content.decode()
    assert "其中含有个人信息（身份证号）" in page  # the message after saving, and the note by the review
    assert page.count("其中含有个人信息（身份证号）") == 2
    assert ID_NUMBER in page  # the author reads their own text whole
    english = client.get(reverse("my-reviews"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "It contains personal data (an ID card number)" in english
    assert review.text == ID_TEXT  # nothing is changed in what the author wrote


def test_it_says_every_kind_found_and_stores_only_the_masked_form_for_staff(client):
    text = "加我微信: go-master-666 或 QQ 12345678，邮箱 zhang.san@example.com"
    review = review_submit(author=UserFactory(), course=CourseFactory(), rating=5, text=text)
    finding = next(
        f for f in review.moderation_events.get().findings if f["rule"] == moderation.PERSONAL_DATA
    )
    assert finding["detail"]["kinds"] == ["qq", "wechat", "email"]
    assert "go-master-666" not in json.dumps(finding) and "12345678" not in json.dumps(finding)

    client.force_login(StaffUserFactory())
    queue = client.get(reverse("moderation-queue")).content.decode()
    assert "个人信息：QQ 号、微信号、电子邮箱（go*********66, 12****78, zhan*****@example.com）。" in queue
    english = client.get(reverse("moderation-queue"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Personal data: a QQ number, a WeChat id, an e-mail address" in english


def test_it_holds_a_review_edited_to_hold_personal_data():
    author = UserFactory()
    review = review_submit(author=author, course=CourseFactory(), rating=4, text="讲得清楚，例子实用")
    assert review.status == Review.Status.PUBLISHED
    review = review_edit(review=review, editor=author, rating=4, text=ID_TEXT)
    review.refresh_from_db()
    assert review.status == Review.Status.PENDING
    assert held_rules(review) == [moderation.PERSONAL_DATA]


def test_it_masks_a_published_review_for_everyone_but_its_author(client):
    instructor = InstructorFactory()
    course = CourseFactory(instructors=[instructor])
    review = published(PHONE_TEXT, course=course)
    assert review.status == Review.Status.PUBLISHED

    for url in (course.get_absolute_url(), instructor.get_absolute_url(), reverse("home")):
        page = client.get(url).content.decode()
        assert "13812345678" not in page, url
        assert PHONE_MASKED in page, url

    client.force_login(UserFactory())
    assert "13812345678" not in client.get(course.get_absolute_url()).content.decode()
    report = client.get(reverse("review-report", args=[review.pk])).content.decode()
    assert PHONE_MASKED in report and "13812345678" not in report

    client.force_login(review.author)
    assert "13812345678" in client.get(course.get_absolute_url()).content.decode()


def test_the_api_masks_others_reviews_and_gives_the_author_the_note():
    course = CourseFactory()
    published(PHONE_TEXT, course=course)
    api = APIClient()

    anonymous = api.get("/api/reviews/", {"course": course.slug}).json()["results"]
    assert [row["text"] for row in anonymous] == [PHONE_TEXT.replace("13812345678", PHONE_MASKED)]
    assert anonymous[0]["moderation_note"] == ""

    author = UserFactory()
    api.force_authenticate(author)
    created = api.post("/api/reviews/", {"course": course.slug, "rating": 2, "text": ID_TEXT}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "pending" and body["text"] == ID_TEXT
    assert "身份证号" in body["moderation_note"]

    review = Review.objects.get(author=author)
    review_moderation_decide(review=review, moderator=StaffUserFactory(), action="publish")
    api.force_authenticate(UserFactory())
    other = api.get(f"/api/reviews/{review.pk}/").json()
    assert other["text"] == ID_TEXT.replace(ID_NUMBER, ID_MASKED)
    staff = APIClient()
    staff.force_authenticate(StaffUserFactory())
    assert ID_NUMBER not in staff.get(f"/api/reviews/{review.pk}/").content.decode()


@pytest.fixture
def quoted_review():
    """The current signal run quotes a published review with a phone number in it (Go guide, course page)."""
    go = TagFactory(name="Go", slug="go")
    course = CourseFactory(title="Go 高并发实战", tags=[go])
    quote = published(PHONE_TEXT, course=course)
    toy = signal_data.definition("toy", name_zh="示例玩具化", name_en="Toy examples")
    run = signal_data.run()
    members = [quote, *signal_data.reviews(5, course=course)]
    cluster = signal_data.cluster(run, toy, reviews=members, quotes=[quote])
    cluster.quote_clauses = {str(quote.pk): "打 电话"}
    cluster.save(update_fields=["quote_clauses"])
    ReviewFactory.create_batch(4, course=course, rating=5, text="讲得很好，例子贴近生产。")
    return quote


def test_signal_quotes_are_masked_on_the_pages_and_in_the_json(client, quoted_review):
    course = quoted_review.course
    public = [
        course.get_absolute_url(),
        reverse("guide"),
        reverse("guide-tag", args=["go"]),
        "/api/guide/",
    ]
    cluster = quoted_review.signal_assignments.get().cluster
    staff = [reverse("signals-dashboard"), reverse("signals-detail", args=[cluster.pk]), "/api/signals/"]
    for url in public:
        body = client.get(url).content.decode()
        assert PHONE_MASKED in body or PHONE_MASKED in json.dumps(json.loads(body), ensure_ascii=False), url
        assert "13812345678" not in body, url
    client.force_login(StaffUserFactory())
    for url in staff:
        body = client.get(url).content.decode()
        assert "13812345678" not in body, url
        assert PHONE_MASKED in body or PHONE_MASKED in json.dumps(json.loads(body), ensure_ascii=False), url


def test_export_masks_personal_data_unless_asked_for_an_exact_backup(tmp_path):
    review = published(PHONE_TEXT)
    review_edit(review=review, editor=review.author, rating=2, text=ID_TEXT)

    call_command("export_feedback", str(tmp_path / "shared.jsonl"), stdout=StringIO())
    call_command("export_feedback", str(tmp_path / "backup.jsonl"), "--unmasked", stdout=StringIO())

    shared = json.loads((tmp_path / "shared.jsonl").read_text(encoding="utf-8"))
    assert shared["text"] == ID_TEXT.replace(ID_NUMBER, ID_MASKED)
    assert [revision["text"] for revision in shared["revisions"]] == [
        PHONE_TEXT.replace("13812345678", PHONE_MASKED),
        ID_TEXT.replace(ID_NUMBER, ID_MASKED),
    ]
    backup = json.loads((tmp_path / "backup.jsonl").read_text(encoding="utf-8"))
    assert backup["text"] == ID_TEXT
    assert [revision["text"] for revision in backup["revisions"]] == [PHONE_TEXT, ID_TEXT]


def test_search_finds_what_others_read_and_never_the_masked_digits(client):
    course = CourseFactory(slug="masked-course", title="并发编程")
    review = published(PHONE_TEXT, course=course)
    api = APIClient()

    def api_hits(query: str) -> list[int]:
        return [row["id"] for row in api.get("/api/reviews/", {"search": query}).json()["results"]]

    def course_hits(query: str) -> bool:
        return "masked-course" in client.get(reverse("course-list"), {"q": query}).content.decode()

    # What the page shows is found: words, and the digits left visible.
    for query in ("真实项目", "5678", "138"):
        assert api_hits(query) == [review.pk], query
        assert course_hits(query), query
    # What the page masks is not: searching digit by digit would otherwise give the number back.
    for query in ("13812345678", "1381", "812345"):
        assert api_hits(query) == [], query
        assert not course_hits(query), query
