"""What students, learners and staff notice on the pages, in a real browser at desk and phone width."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.models import EvidenceSnapshot, InstructorScore
from analytics.services.scores import scores_recompute
from reviews.models import Review
from tests.analytics import signal_data
from tests.e2e.conftest import lit_stars, log_in
from tests.factories import CourseFactory, InstructorFactory, ReviewFactory, StaffUserFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_it_lights_as_many_stars_as_the_rating_picked_and_saved(live_server, screen):
    name, browser_page = screen
    page = browser_page.page
    course = CourseFactory(slug="go-stars")
    learner = UserFactory()
    log_in(page, live_server, learner)

    page.goto(live_server.url + reverse("review-create", args=[course.slug]))
    assert lit_stars(page, "rating") == 0
    for value in (5, 1, 3):
        radio = page.locator(f'input[name="rating"][value="{value}"]')
        page.locator(f'label[for="{radio.get_attribute("id")}"]').click()
        assert radio.is_checked()
        assert lit_stars(page, "rating") == value, f"picked {value}★"
    browser_page.screenshot(f"review-form-stars-{name}")

    page.locator('textarea[name="text"]').fill("星级测试：三星，例子偏少但讲解清楚。")
    page.locator("form", has=page.locator('[name="text"]')).locator('[type="submit"]').click()
    page.wait_for_url(f"**{course.get_absolute_url()}*")
    review = Review.objects.get(author=learner)
    assert review.rating == 3

    page.goto(live_server.url + reverse("review-edit", args=[review.pk]))
    assert lit_stars(page, "rating") == 3
    assert browser_page.problems == []


def test_it_opens_a_quoted_review_on_the_page_that_holds_it_below_the_top_bar(live_server, screen):
    name, browser_page = screen
    page = browser_page.page
    course = CourseFactory(slug="go-quoted")
    long_ago = timezone.now() - timedelta(days=400)
    quoted = signal_data.reviews(1, course=course, created_at=long_ago)[0]
    for days in range(25):  # newer reviews push the quoted one to the third page of the list
        ReviewFactory(course=course, rating=5, created_at=timezone.now() - timedelta(days=days))
    signal_data.cluster(
        signal_data.run(),
        signal_data.definition("toy", name_zh="玩具示例"),
        reviews=[quoted],
        quotes=[quoted],
    )

    page.goto(live_server.url + course.get_absolute_url())
    page.locator("#signals").get_by_role("link", name="查看").first.click()
    target = page.locator(f"#review-{quoted.pk}")
    target.wait_for()
    page.wait_for_function(
        "id => { const r = document.getElementById(id).getBoundingClientRect();"
        " const bar = document.querySelector('.topbar').getBoundingClientRect();"
        " return r.top >= bar.bottom && r.top < window.innerHeight; }",
        arg=f"review-{quoted.pk}",
    )
    assert "page=" in page.url or "review=" in page.url
    browser_page.screenshot(f"course-quoted-review-{name}")
    assert browser_page.problems == []


def test_it_opens_the_compare_picker_from_an_instructor_page(live_server, screen):
    name, browser_page = screen
    page = browser_page.page
    ada, bob = InstructorFactory(name="Ada", slug="ada"), InstructorFactory(name="Bob", slug="bob")
    for rank, instructor in enumerate((ada, bob), start=1):
        InstructorScore.objects.create(
            instructor=instructor, computed_at=timezone.now(), total=0.8 - rank / 10, rank=rank, learner=0.7
        )

    page.goto(live_server.url + ada.get_absolute_url())
    with page.expect_navigation() as navigation:
        page.get_by_role("link", name="与其他讲师对比…").click()
    assert navigation.value.status == 200
    assert page.locator('input[name="instructors"][value="ada"]').is_checked()
    browser_page.screenshot(f"compare-picker-{name}")
    page.locator('input[name="instructors"][value="bob"]').check()
    page.get_by_role("button", name="对比所选讲师").click()
    page.locator(".compare-table").wait_for()
    assert page.locator(".compare-table thead").inner_text().count("Ada") == 1
    assert "Bob" in page.locator(".compare-table thead").inner_text()
    assert browser_page.problems == []


def test_it_draws_the_star_distribution_bars_across_the_rating_card(live_server, screen):
    name, browser_page = screen
    page = browser_page.page
    course = CourseFactory(slug="go-bars")
    for rating in (5, 5, 4, 3, 1):
        ReviewFactory(course=course, rating=rating)

    page.goto(live_server.url + course.get_absolute_url())
    card = page.locator("section", has=page.locator("#rating-summary-title"))
    card_width = card.bounding_box()["width"]
    bar_widths = [bar.bounding_box()["width"] for bar in card.locator("progress.bar").all()]
    assert len(bar_widths) == 5
    assert min(bar_widths) >= card_width * 0.4, f"bars {bar_widths} in a {card_width}px card"
    browser_page.screenshot(f"course-rating-card-{name}")
    assert browser_page.problems == []


def test_it_labels_each_star_figure_and_explains_unknown_evidence(live_server, screen):
    name, browser_page = screen
    page = browser_page.page
    known = InstructorFactory(name="Known", slug="known", github_login="known")
    unlinked = InstructorFactory(name="Unlinked", slug="unlinked")
    for instructor, ratings in ((known, [5, 5, 5]), (unlinked, [5, 4, 3] * 4)):
        course = CourseFactory(instructors=[instructor])
        for rating in ratings:
            ReviewFactory(course=course, rating=rating)
    EvidenceSnapshot.objects.create(
        instructor=known,
        fetched_at=timezone.now(),
        figures={"go_repos": 2, "go_stars": 10},
        payload_summary={},
    )
    scores_recompute()

    page.goto(live_server.url + reverse("course-list") + "?sort=rating")
    assert page.locator(".course-card .rating-kind").first.inner_text() == "均分"
    browser_page.screenshot(f"course-list-labelled-{name}")

    page.goto(live_server.url + reverse("rankings-instructors"))
    assert page.get_by_role("columnheader", name="学员评分（调整后）").count() == 1 or name == "phone"
    assert page.get_by_text("未关联 · 按 50 计").first.is_visible()
    browser_page.screenshot(f"rankings-instructors-{name}")

    page.goto(live_server.url + unlinked.get_absolute_url())
    assert page.get_by_text("尚未关联 GitHub 账号：这是“未知”，不是“零”").is_visible()
    assert page.get_by_text(
        "已向全站平均"
    ).first.is_visible()  # twelve reviews: the prior still carries a share
    browser_page.screenshot(f"instructor-unknown-evidence-{name}")
    assert browser_page.problems == []


def in_view(page, selector: str) -> bool:
    return page.evaluate(
        "s => { const el = document.querySelector(s), r = el.getBoundingClientRect();"
        " return r.bottom > 0 && r.top < window.innerHeight && getComputedStyle(el).opacity > 0; }",
        selector,
    )


def test_it_votes_without_a_reload_and_shows_confirmations_where_the_learner_is(live_server, screen):
    name, browser_page = screen
    page = browser_page.page
    course = CourseFactory(slug="go-votes")
    reviews = [
        ReviewFactory(course=course, created_at=timezone.now() - timedelta(days=day)) for day in range(8)
    ]
    voted, reported = reviews[6], reviews[7]
    log_in(page, live_server, UserFactory())

    page.goto(live_server.url + course.get_absolute_url())
    page.evaluate("window.stillTheSamePage = true")
    actions = page.locator(f"#review-actions-{voted.pk}")
    actions.scroll_into_view_if_needed()
    actions.get_by_role("button", name="有用").click()
    page.locator(f"#review-actions-{voted.pk} .vote-status").wait_for()
    assert page.evaluate("window.stillTheSamePage") is True  # no reload, no jump to the top
    assert page.locator(f"#review-actions-{voted.pk} [aria-pressed=true]").inner_text().endswith("1")
    assert in_view(page, f"#review-actions-{voted.pk} .vote-status")
    voted.refresh_from_db()
    assert voted.helpful_count == 1
    browser_page.screenshot(f"course-vote-inline-{name}")

    page.locator(f"#review-actions-{reported.pk}").get_by_role("link", name="举报").click()
    page.locator('input[name="reason"]').first.check()
    page.locator("form", has=page.locator('[name="reason"]')).locator('[type="submit"]').click()
    page.wait_for_url(f"**#review-{reported.pk}")
    assert in_view(page, ".messages")  # the thank-you is on screen although the page jumped to the review
    assert "审核" in page.locator(".messages").inner_text()
    browser_page.screenshot(f"course-report-confirmed-{name}")
    assert browser_page.problems == []


def test_it_keeps_a_visitors_vote_through_logging_in(live_server, screen):
    name, browser_page = screen
    page = browser_page.page
    course = CourseFactory(slug="go-late-vote")
    review = ReviewFactory(course=course)
    voter = UserFactory(username=f"late-{name}")
    voter.set_password("a-long-pass-phrase-2026")
    voter.save()

    page.goto(live_server.url + course.get_absolute_url())
    page.locator(f"#review-actions-{review.pk}").get_by_role("button", name="有用").click()
    page.wait_for_url("**/login/**")
    page.locator('input[name="username"]').fill(voter.username)
    page.locator('input[name="password"]').fill("a-long-pass-phrase-2026")
    page.locator("form", has=page.locator('[name="password"]')).locator('[type="submit"]').click()
    page.wait_for_url(f"**{course.get_absolute_url()}*")
    review.refresh_from_db()
    assert review.helpful_count == 1
    assert page.locator(f"#review-actions-{review.pk} [aria-pressed=true]").count() == 1
    assert in_view(page, ".messages")
    assert browser_page.problems == []


def test_it_lists_every_trend_signal_by_its_full_name(live_server, screen):
    name, browser_page = screen
    page = browser_page.page
    run = signal_data.run()
    for index in range(10):
        definition = signal_data.definition(
            f"sig-{index}", name_zh=f"很长的信号名称第{index}号：讲师只会念 PPT"
        )
        signal_data.cluster(run, definition, reviews=signal_data.reviews(10 - index), share=0.5 - index / 100)
    log_in(page, live_server, StaffUserFactory())

    page.goto(live_server.url + reverse("signals-dashboard"))
    page.wait_for_load_state("networkidle")
    legend = page.locator(".trend-legend li")
    assert legend.count() == 10
    for index in range(10):
        item = legend.nth(index)
        assert item.inner_text() == f"很长的信号名称第{index}号：讲师只会念 PPT"
        assert item.evaluate(
            "el => el.scrollWidth <= el.clientWidth + 1 && el.getBoundingClientRect().right <= innerWidth"
        )
    assert page.locator(".sig-chart canvas").count() >= 1
    browser_page.screenshot(f"signals-dashboard-legend-{name}")
    assert browser_page.problems == []


def test_it_links_github_from_the_instructor_page_and_shows_the_outcome_without_a_reload(
    live_server, screen, monkeypatch
):
    from analytics.tasks import refresh_evidence

    name, browser_page = screen
    page = browser_page.page
    mo = InstructorFactory(name="陈墨", slug=f"chen-mo-{name}", github_login="")
    queued: list[int] = []
    monkeypatch.setattr(refresh_evidence, "apply_async", lambda args, countdown=0: queued.append(args[0]))
    log_in(page, live_server, StaffUserFactory())

    page.goto(live_server.url + mo.get_absolute_url())
    page.locator('input[name="github_login"]').fill("chenmo-go")
    page.get_by_role("button", name="关联并获取").click()
    page.locator("#github-refresh").wait_for()
    assert queued == [mo.pk]
    assert "正在获取" in page.locator("#github-refresh").inner_text()
    page.evaluate("window.stillTheSamePage = true")

    EvidenceSnapshot.objects.create(  # what the worker records when GitHub cannot be reached
        instructor=mo,
        fetched_at=timezone.now(),
        status=EvidenceSnapshot.Status.FAILED,
        payload_summary={"login": "chenmo-go", "error_kind": "GitHubUnavailable"},
        error="[Errno -2] Name or service not known",
    )
    page.locator("#github-refresh.github-refresh-failed").wait_for(timeout=10_000)
    assert page.evaluate("window.stillTheSamePage") is True
    note = page.locator("#github-refresh")
    assert "无法连接 GitHub" in note.inner_text()
    assert not page.get_by_text("Name or service not known").is_visible()  # only under "technical detail"
    browser_page.screenshot(f"instructor-github-link-{name}")
    assert browser_page.problems == []


def test_it_says_the_compare_table_scrolls_when_it_is_wider_than_the_phone(live_server, screen):
    name, browser_page = screen
    page = browser_page.page
    slugs = []
    for rank, who in enumerate(("Ada", "Bob", "Cyd"), start=1):
        instructor = InstructorFactory(name=who, slug=who.lower())
        InstructorScore.objects.create(
            instructor=instructor, computed_at=timezone.now(), total=0.9 - rank / 10, rank=rank, learner=0.7
        )
        slugs.append(instructor.slug)

    page.goto(f"{live_server.url}{reverse('compare')}?instructors={','.join(slugs)}")
    hint = page.locator("#compare-scroll-hint")
    scroller = page.locator(".table-scroll")
    overflows = scroller.evaluate("el => el.scrollWidth > el.clientWidth + 1")
    if name == "phone":
        assert overflows and hint.is_visible()
        assert "3" in hint.inner_text()
        scroller.focus()  # a keyboard user can scroll it too
        page.keyboard.press("End")
        page.keyboard.press("ArrowRight")
    else:
        assert not overflows and not hint.is_visible()
    browser_page.screenshot(f"compare-three-{name}")
    assert browser_page.problems == []


def test_it_shows_the_browsable_api_under_the_content_security_policy(live_server, screen, settings):
    name, browser_page = screen
    settings.DEBUG = False
    CourseFactory(title="Go 并发实战")
    page = browser_page.page
    response = page.goto(live_server.url + "/api/courses/")
    page.wait_for_load_state("networkidle")
    assert response.status == 200 and "Go 并发实战" in page.content()
    assert page.locator(".highlight, pre").first.is_visible()
    browser_page.screenshot(f"api-courses-{name}")
    assert browser_page.problems == []


def test_it_shows_what_to_avoid_where_a_student_starts(live_server, screen):
    name, browser_page = screen
    page = browser_page.page
    course = CourseFactory(title="Go 玩具课", slug="go-toys")
    flagged = signal_data.reviews(3, course=course, rating=2)
    ReviewFactory.create_batch(7, course=course, rating=5)
    signal_data.cluster(
        signal_data.run(), signal_data.definition("toy", name_zh="例子太玩具"), reviews=flagged
    )
    scores_recompute()

    for path in (reverse("home"), reverse("course-list")):
        page.goto(live_server.url + path)
        chip = page.locator(".course-card .avoid-chip").first
        assert chip.is_visible() and "例子太玩具" in chip.inner_text() and "30%" in chip.inner_text()
    browser_page.screenshot(f"course-list-warnings-{name}")

    page.locator(".course-card .avoid-chip").first.click()
    page.wait_for_url(f"**{course.get_absolute_url()}#signals")
    header = page.locator(".course-head")
    assert "学员怎么说：70% 给了 4–5 星" in header.inner_text()
    assert header.locator(".avoid-chip").first.is_visible()
    browser_page.screenshot(f"course-header-warnings-{name}")
    assert browser_page.problems == []


def test_it_sorts_reviews_by_rating_and_shows_a_learner_their_earlier_versions(live_server, screen):
    from reviews.services import review_edit, review_submit

    name, browser_page = screen
    page = browser_page.page
    course = CourseFactory(slug="go-versions")
    for rating in (3, 5, 1):
        ReviewFactory(course=course, rating=rating)
    author = UserFactory()
    review = review_submit(author=author, course=course, rating=2, text="第一版：例子太少，节奏太快。")
    review_edit(review=review, editor=author, rating=4, text="第二版：后面几章补上了例子。")
    log_in(page, live_server, author)

    page.goto(live_server.url + course.get_absolute_url())
    page.get_by_role("link", name="评分最低").click()
    page.wait_for_url("**sort=lowest*")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    ratings = page.locator(".review-list .review .stars").evaluate_all(
        "els => els.map(e => e.getAttribute('aria-label') || e.title || e.textContent)"
    )
    assert len(ratings) == 3

    page.goto(live_server.url + reverse("review-edit", args=[review.pk]))
    page.locator(".earlier-versions summary").click()
    assert page.get_by_text("第一版：例子太少，节奏太快。").is_visible()
    assert lit_stars(page, "rating") == 4
    browser_page.screenshot(f"review-edit-earlier-versions-{name}")
    assert browser_page.problems == []


def test_it_compares_courses_picked_from_a_course_page(live_server, screen):
    name, browser_page = screen
    page = browser_page.page
    teacher = InstructorFactory(name="陈墨")
    picked = {}
    for slug, title, rating in (("go-a", "Go 课程甲", 5), ("go-b", "Go 课程乙", 3), ("go-c", "Go 课程丙", 2)):
        course = CourseFactory(slug=slug, title=title, instructors=[teacher])
        ReviewFactory.create_batch(6, course=course, rating=rating, dim_practice=rating)
        picked[slug] = course
    scores_recompute()

    page.goto(live_server.url + picked["go-a"].get_absolute_url())
    with page.expect_navigation() as navigation:
        page.get_by_role("link", name="与其他课程对比…").click()
    assert navigation.value.status == 200
    assert page.locator('input[name="courses"][value="go-a"]').is_checked()
    page.locator('input[name="courses"][value="go-b"]').check()
    page.locator('input[name="courses"][value="go-c"]').check()
    page.locator("form[data-compare-form] [type=submit]").click()
    page.locator(".compare-table").wait_for()
    head = page.locator(".compare-table thead").inner_text()
    assert all(title in head for title in ("Go 课程甲", "Go 课程乙", "Go 课程丙"))
    assert page.locator(".compare-table tbody th", has_text="实战深度").count() == 1
    page.wait_for_load_state("networkidle")
    browser_page.screenshot(f"compare-courses-{name}")
    assert browser_page.problems == []
