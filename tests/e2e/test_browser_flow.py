"""A visitor finds a course, signs up and reviews it, in a real browser against the running site."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from reviews.models import Course, Instructor, Review
from tests.factories import CourseFactory, InstructorFactory, ReviewFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

REVIEW_TEXT = (
    "端到端测试：goroutine 泄漏和 context 超时都有实战例子，pprof 那一章尤其有用。<script>alert(1)</script>"
)


def submit_button(page, field_name: str):
    """The submit button of the form that holds the named field (labels are translated, names are not)."""
    return page.locator("form", has=page.locator(f'[name="{field_name}"]')).locator('[type="submit"]')


def test_it_lets_a_visitor_sign_up_and_review_a_course(live_server, browser_page):
    instructor = InstructorFactory(name="陈墨", slug="chen-mo")
    course = CourseFactory(title="Go 高并发实战", slug="go-concurrency", instructors=[instructor])
    ReviewFactory(course=course, rating=5)  # rated, so the home page features it
    course_path = course.get_absolute_url()
    page = browser_page.page

    page.goto(live_server.url + reverse("home"))
    assert page.title()
    page.locator(f'a[href="{course_path}"]').first.click()
    page.wait_for_url(f"**{course_path}")
    assert page.get_by_role("heading", name=course.title).first.is_visible()

    page.locator(f'a[href="{reverse("review-create", args=[course.slug])}"]').first.click()
    page.wait_for_url(re.compile(re.escape(reverse("login"))))  # reviewing needs an account
    page.locator(f'a[href^="{reverse("signup")}"]').first.click()
    page.wait_for_url(re.compile(re.escape(reverse("signup"))))
    page.locator('input[name="username"]').fill("e2e-learner")
    page.locator('input[name="password1"]').fill("a-long-pass-phrase-2026")
    page.locator('input[name="password2"]').fill("a-long-pass-phrase-2026")
    submit_button(page, "password1").click()

    page.wait_for_url(f"**{reverse('review-create', args=[course.slug])}")  # back where the visitor was going
    rating = page.locator('input[name="rating"][value="4"]')
    page.locator(f'label[for="{rating.get_attribute("id")}"]').click()
    assert rating.is_checked()
    page.locator('textarea[name="text"]').fill(REVIEW_TEXT)
    submit_button(page, "text").click()

    page.wait_for_url(f"**{course_path}*")
    assert page.get_by_text("端到端测试：goroutine 泄漏").first.is_visible()
    assert page.get_by_text("<script>alert(1)</script>", exact=False).first.is_visible()  # shown as text
    browser_page.screenshot("review-on-course-page")
    assert browser_page.problems == []

    review = Review.objects.get(author__username="e2e-learner")
    assert (review.course_id, review.rating, review.text) == (course.pk, 4, REVIEW_TEXT)


def test_it_fits_the_home_and_course_pages_on_a_phone(live_server, chromium_browser):
    course = CourseFactory(
        title="Go 微服务与云原生工程实践（含 Kubernetes、gRPC、可观测性）", slug="go-cloud"
    )
    context = chromium_browser.new_context(
        locale="zh-CN", viewport={"width": 375, "height": 740}, is_mobile=True
    )
    page = context.new_page()
    try:
        for path in (reverse("home"), course.get_absolute_url(), reverse("course-list")):
            page.goto(live_server.url + path)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a 375px-wide phone"
    finally:
        context.close()


PUBLIC_PAGES = [
    "home",
    "course-list",
    "instructor-list",
    "rankings-instructors",
    "rankings-courses",
    "how-we-rank",
    "api-docs",
]
STAFF_PAGES = ["signals-dashboard", "signals-runs", "moderation-queue"]


def test_it_shows_every_main_page_with_the_demo_data_and_no_browser_errors(
    live_server, browser_page, settings
):
    """Charts and scripts run under the Content-Security-Policy: anything it blocks is a console error."""
    settings.DEBUG = False
    call_command("load_demo", "--with-accounts", stdout=StringIO())
    instructors = list(Instructor.objects.order_by("slug").values_list("slug", flat=True)[:2])
    course = Course.objects.order_by("slug").first()
    page = browser_page.page
    paths = [reverse(name) for name in PUBLIC_PAGES] + [
        reverse("instructor-detail", args=[instructors[0]]),
        course.get_absolute_url(),
        f"{reverse('compare')}?instructors={','.join(instructors)}",
    ]

    for path in paths:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
    browser_page.screenshot("compare")
    page.goto(live_server.url + reverse("login"))
    page.locator('input[name="username"]').fill("admin")
    page.locator('input[name="password"]').fill("admin-pass-2026")
    submit_button(page, "password").click()
    page.wait_for_load_state()
    for name in STAFF_PAGES:
        response = page.goto(live_server.url + reverse(name))
        assert response.status == 200, name
        page.wait_for_load_state("networkidle")
        browser_page.screenshot(name)

    assert browser_page.problems == []
