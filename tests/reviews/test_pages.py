"""The server-rendered pages as a visitor and a learner use them: browsing, filters, the review form."""

import pytest
from django.urls import reverse

from reviews.models import Review, ReviewReport
from tests.factories import CourseFactory, InstructorFactory, ReviewFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def catalog():
    instructor = InstructorFactory(name="陈墨", slug="chen-mo")
    tag = TagFactory(name="并发", slug="concurrency")
    course = CourseFactory(
        title="Go 高并发实战", slug="go-gao-bing-fa", provider="极客时间", level="advanced",
        instructors=[instructor], tags=[tag],
    )  # fmt: skip
    other = CourseFactory(title="Go 零基础入门", slug="go-basics", provider="慕课网", level="beginner")
    ReviewFactory(course=course, rating=5, text="讲 GMP 调度那一章画了很多图，受益匪浅")
    return {"instructor": instructor, "course": course, "other": other, "tag": tag}


def _post_review(client, course, **overrides):
    data = {"rating": "4", "text": "例子都带 context.WithTimeout，很实用。"}
    data.update(overrides)
    return client.post(reverse("review-create", args=[course.slug]), data)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_it_serves_every_public_page_in_both_languages(client, catalog, language):
    client.cookies["django_language"] = language
    urls = [
        reverse("home"),
        reverse("course-list"),
        catalog["course"].get_absolute_url(),
        reverse("instructor-list"),
        catalog["instructor"].get_absolute_url(),
        reverse("signup"),
        reverse("login"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Language"] == language
    home = client.get(reverse("home")).content.decode()
    assert ("课鉴" in home) == (language == "zh-hans")


def test_it_filters_the_course_list_by_provider_level_and_tag(client, catalog):
    by_provider = client.get(reverse("course-list"), {"provider": "慕课网"}).content.decode()
    assert "Go 零基础入门" in by_provider and "Go 高并发实战" not in by_provider
    by_level = client.get(reverse("course-list"), {"level": "advanced"}).content.decode()
    assert "Go 高并发实战" in by_level and "Go 零基础入门" not in by_level
    by_tag = client.get(reverse("course-list"), {"tag": "concurrency"}).content.decode()
    assert "Go 高并发实战" in by_tag and "Go 零基础入门" not in by_tag


def test_it_lists_courses_with_a_constant_number_of_queries(client, django_assert_max_num_queries):
    for n in range(12):
        course = CourseFactory(instructors=[InstructorFactory()], tags=[TagFactory()])
        ReviewFactory(course=course, text=f"第 {n} 条评价，内容还不错")
    with django_assert_max_num_queries(12):
        assert client.get(reverse("course-list")).status_code == 200


def test_it_sends_anonymous_writers_to_log_in(client, catalog):
    response = _post_review(client, catalog["course"])
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert Review.objects.filter(course=catalog["course"]).count() == 1


@pytest.mark.parametrize("rating", ["0", "6", "2.5", "五", ""])
def test_it_rejects_a_bad_rating_through_the_form(client, catalog, rating):
    client.force_login(UserFactory())
    response = _post_review(client, catalog["course"], rating=rating)
    assert response.status_code == 200
    assert response.context["form"].errors["rating"]
    assert Review.objects.filter(course=catalog["course"]).count() == 1


@pytest.mark.parametrize("text", ["", "   \n\t ", "有空字符\x00在这里", "长" * 5001])
def test_it_rejects_bad_text_through_the_form(client, catalog, text):
    client.force_login(UserFactory())
    response = _post_review(client, catalog["course"], text=text)
    assert response.status_code == 200
    assert response.context["form"].errors["text"]
    assert Review.objects.filter(course=catalog["course"]).count() == 1


def test_it_accepts_exactly_5000_characters_and_ignores_fields_a_learner_must_not_set(client, catalog):
    learner = UserFactory()
    client.force_login(learner)
    response = _post_review(
        client,
        catalog["course"],
        text="好" * 5000,
        status="hidden",
        helpful_count="99",
        author=UserFactory().pk,
    )
    assert response.status_code == 302
    review = Review.objects.get(course=catalog["course"], author=learner)
    assert len(review.text) == 5000
    assert (review.status, review.helpful_count, review.source) == ("published", 0, "web")


def test_it_keeps_one_review_per_learner_and_course_with_a_clear_message(client, catalog):
    client.force_login(UserFactory())
    assert _post_review(client, catalog["course"]).status_code == 302
    second = _post_review(client, catalog["course"], text="再写一条")
    assert second.status_code == 200
    assert "已经评价过" in second.content.decode()
    assert Review.objects.filter(course=catalog["course"]).count() == 2  # the seeded one + this learner's


def test_it_refuses_to_edit_or_delete_someone_elses_review(client, catalog):
    review = Review.objects.get(course=catalog["course"])
    client.force_login(UserFactory())
    edit = client.post(reverse("review-edit", args=[review.pk]), {"rating": "1", "text": "篡改"})
    delete = client.post(reverse("review-delete", args=[review.pk]))
    assert edit.status_code in (403, 404) and delete.status_code in (403, 404)
    review.refresh_from_db()
    assert (review.rating, review.text) == (5, "讲 GMP 调度那一章画了很多图，受益匪浅")


def test_it_keeps_a_revision_of_every_edit(client, catalog):
    learner = UserFactory()
    client.force_login(learner)
    _post_review(client, catalog["course"])
    review = Review.objects.get(author=learner)
    response = client.post(reverse("review-edit", args=[review.pk]), {"rating": "2", "text": "后半段太水"})
    assert response.status_code == 302
    review.refresh_from_db()
    assert (review.rating, review.text) == (2, "后半段太水")
    assert list(review.revisions.order_by("pk").values_list("text", flat=True)) == [
        "例子都带 context.WithTimeout，很实用。",
        "后半段太水",
    ]


def test_it_shows_script_in_a_review_as_text_on_every_page(client, catalog):
    ReviewFactory(course=catalog["course"], rating=3, text=f"{SCRIPT} 这门课一般")
    for url in [
        reverse("home"),
        catalog["course"].get_absolute_url(),
        catalog["instructor"].get_absolute_url(),
    ]:
        body = client.get(url).content.decode()
        assert SCRIPT not in body, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body, url


def test_it_counts_a_helpful_vote_once_and_never_for_your_own_review(client, catalog):
    review = Review.objects.get(course=catalog["course"])
    client.force_login(UserFactory())
    for _ in range(2):
        client.post(reverse("review-vote", args=[review.pk]))
    review.refresh_from_db()
    assert review.helpful_count == 1
    client.force_login(review.author)
    client.post(reverse("review-vote", args=[review.pk]))
    review.refresh_from_db()
    assert review.helpful_count == 1


def test_it_takes_one_report_per_learner(client, catalog):
    review = Review.objects.get(course=catalog["course"])
    client.force_login(UserFactory())
    url = reverse("review-report", args=[review.pk])
    assert client.post(url, {"reason": "spam", "detail": "广告"}).status_code == 302
    again = client.post(url, {"reason": "abuse"}, follow=True)
    assert "已经举报" in again.content.decode() or "already reported" in again.content.decode()
    assert ReviewReport.objects.filter(review=review).count() == 1


def test_it_signs_up_logs_in_and_shows_the_new_review_on_the_course_page(client, catalog):
    response = client.post(
        reverse("signup"),
        {"username": "xiaoming", "password1": "Go-并发-2026-ok", "password2": "Go-并发-2026-ok"},
    )
    assert response.status_code == 302
    _post_review(client, catalog["course"], text="跟着写了一个限流器并压测，收获很大")
    page = client.get(catalog["course"].get_absolute_url()).content.decode()
    assert "跟着写了一个限流器并压测，收获很大" in page


def test_it_ranks_highest_rated_by_an_average_that_few_reviews_cannot_win(client):
    lucky = CourseFactory(title="三条五星")
    ReviewFactory.create_batch(3, course=lucky, rating=5)
    proven = CourseFactory(title="四十条好评")
    ReviewFactory.create_batch(28, course=proven, rating=5)
    ReviewFactory.create_batch(12, course=proven, rating=3)
    weak = CourseFactory(title="差评")
    ReviewFactory.create_batch(20, course=weak, rating=2)

    html = client.get(reverse("course-list"), {"sort": "rating"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert html.index("四十条好评") < html.index("三条五星") < html.index("差评")
    assert "avg</span> 4.4" in html  # the card says which figure it shows
    assert "few reviews count less" in html


def test_it_finds_courses_by_traditional_script_review_text_and_github_login(client):
    go = TagFactory(name="Go", slug="go")
    teacher = InstructorFactory(name="陈墨", github_login="chenmo-go")
    concurrency = CourseFactory(title="Go 并发实战", tags=[go])
    reviewed = CourseFactory(title="Go 工程化", tags=[go])
    ReviewFactory(course=reviewed, text="讲 pprof 火焰图的那一章非常细")
    taught = CourseFactory(title="云原生 Go", tags=[go], instructors=[teacher])

    def found(query):
        html = client.get(reverse("course-list"), {"q": query}).content.decode()
        return {course.title for course in (concurrency, reviewed, taught) if course.title in html}

    assert found("並發") == {"Go 并发实战"}
    assert found("火焰图") == {"Go 工程化"}
    assert found("chenmo-go") == {"云原生 Go"}


def test_it_offers_topics_that_narrow_the_list_without_near_duplicates(client):
    go, concurrency, high = (
        TagFactory(name="Go", slug="go"),
        TagFactory(name="并发", slug="concurrency"),
        TagFactory(name="高并发", slug="high-concurrency"),
    )
    plain = CourseFactory(title="课程甲", tags=[go, concurrency])
    flash_sale = CourseFactory(title="课程乙", tags=[go, high])
    CourseFactory(title="课程丙", tags=[go])

    page = client.get(reverse("course-list"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    choices = dict(page.context["form"].fields["tag"].choices)
    assert "go" not in choices  # on every course: narrows nothing
    assert "high-concurrency" not in choices and "高并发" in choices["concurrency"]
    html = client.get(reverse("course-list"), {"tag": "concurrency"}).content.decode()
    assert plain.title in html and flash_sale.title in html and "课程丙" not in html
    via_chip = client.get(reverse("course-list"), {"tag": "go"})  # a course page's tag link still filters
    assert via_chip.context["form"].value("tag") == "go"


def test_it_says_what_the_instructor_search_looks_in(client):
    html = client.get(reverse("instructor-list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'placeholder="Name, GitHub login or background"' in html


def test_it_shows_what_learners_warn_about_on_cards_and_the_course_header(client):
    from analytics.services.scores import scores_recompute
    from tests.analytics import signal_data

    course = CourseFactory(title="Go 玩具课")
    flagged = signal_data.reviews(3, course=course, rating=2)
    ReviewFactory.create_batch(7, course=course, rating=5)
    signal_data.cluster(
        signal_data.run(), signal_data.definition("toy", name_zh="例子太玩具"), reviews=flagged
    )
    scores_recompute()

    listing = client.get(reverse("course-list"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    card = listing[listing.index("Go 玩具课") :]
    assert "例子太玩具 <strong>30%</strong>" in card[: card.index("</article>")]
    header = client.get(course.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    header = header[: header.index("</header>", header.index("course-head"))]
    assert "例子太玩具 <strong>30%</strong>" in header
    assert "70% 给了 4–5 星" in header and "“例子太玩具”（30%）" in header
    assert "综合" in header or "数据不足" in header
