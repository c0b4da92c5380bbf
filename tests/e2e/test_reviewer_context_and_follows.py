"""Reviewer context and following, in a real browser at desk and phone width: a learner says how they took a
course and others filter by it; a learner follows a course and sees the change in the header and on the
notifications page."""

import pytest
from django.urls import reverse

from analytics.models import Follow
from analytics.services.scores import scores_recompute
from reviews.models import Review
from tests.e2e.conftest import log_in
from tests.factories import CourseFactory, InstructorFactory, ReviewFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_it_saves_a_reviewers_context_shows_it_and_filters_by_it(live_server, screen):
    name, browser_page = screen
    page = browser_page.page
    course = CourseFactory(slug="go-context-e2e")
    ReviewFactory(course=course, text="没学完就放弃了", finished=False, would_recommend=False, difficulty=5)
    learner = UserFactory()
    log_in(page, live_server, learner)

    page.goto(live_server.url + reverse("review-create", args=[course.slug]))
    radio = page.locator('input[name="rating"][value="4"]')
    page.locator(f'label[for="{radio.get_attribute("id")}"]').click()
    page.get_by_label("学习时间").fill("2024-03")
    page.get_by_label("学完了吗？").select_option("true")
    page.get_by_label("每周学习小时数").fill("6")
    page.get_by_label("难度", exact=True).select_option("4")
    page.get_by_label("会推荐给别人吗？").select_option("true")
    page.locator('textarea[name="text"]').fill("学完了，例子贴近生产，每周六小时左右。")
    browser_page.screenshot(f"review-form-context-{name}")
    page.locator("form", has=page.locator('[name="text"]')).locator('[type="submit"]').click()
    page.wait_for_url(f"**{course.get_absolute_url()}*")
    review = Review.objects.get(author=learner)
    assert (review.finished, review.weekly_hours, review.difficulty, review.would_recommend) == (
        True,
        6,
        4,
        True,
    )

    mine = page.locator("#my-review .review-context")
    for phrase in ("2024-03 学习", "已学完", "每周 6 小时", "难度 4/5（较难）", "推荐"):
        assert phrase in mine.inner_text()

    filters = page.get_by_role("form", name="筛选评价")
    filters.get_by_label("是否学完").select_option("no")
    filters.get_by_role("button", name="筛选").click()
    page.wait_for_url("**finished=no*")
    listed = page.locator(".review-list .review")
    assert listed.count() == 1 and "没学完就放弃了" in listed.inner_text()
    assert "未学完" in listed.locator(".review-context").inner_text()
    assert fits_the_screen(page)
    browser_page.screenshot(f"course-reviews-filtered-{name}")
    assert browser_page.problems == []


def test_it_follows_a_course_and_shows_the_change_in_the_header(live_server, screen):
    name, browser_page = screen
    page = browser_page.page
    course = CourseFactory(slug="go-follow-e2e", title="Go 微服务实战", instructors=[InstructorFactory()])
    for _ in range(6):
        ReviewFactory(course=course, rating=5)
    scores_recompute()
    learner = UserFactory()
    log_in(page, live_server, learner)

    page.goto(live_server.url + course.get_absolute_url())
    page.get_by_role("button", name="关注", exact=True).click()
    page.get_by_role("button", name="已关注 ✓").wait_for()
    assert Follow.objects.filter(user=learner, course=course).exists()

    for _ in range(12):
        ReviewFactory(course=course, rating=1)
    scores_recompute()

    page.goto(live_server.url + reverse("home"))
    unread = page.locator(".nav-notifications .unread-count")
    assert unread.inner_text().startswith("1")
    assert fits_the_screen(page)
    browser_page.screenshot(f"header-unread-{name}")

    page.locator(".nav-notifications").click()
    page.wait_for_url("**/notifications/")
    item = page.locator(".notification-list li").first
    assert "Go 微服务实战" in item.inner_text() and "评分" in item.inner_text() and "→" in item.inner_text()
    browser_page.screenshot(f"notifications-{name}")
    page.reload()
    assert page.locator(".nav-notifications .unread-count").count() == 0

    page.goto(live_server.url + reverse("following"))
    assert "Go 微服务实战" in page.locator(".follow-list").inner_text()
    browser_page.screenshot(f"following-{name}")
    page.get_by_role("button", name="已关注 ✓").click()
    page.get_by_role("button", name="关注", exact=True).wait_for()
    assert not Follow.objects.filter(user=learner).exists()
    assert browser_page.problems == []
