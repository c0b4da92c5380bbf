"""Keyboard and screen-reader use of the main pages: axe-core finds no serious or critical violation, in
Chinese and English at desk and phone width, and the interactive parts work without a mouse."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from analytics.models import InstructorScore, SignalDefinition
from reviews.models import Course, Instructor
from tests.analytics import signal_data
from tests.e2e.conftest import SCREENSHOT_DIR, WIDTHS, lit_stars, log_in
from tests.factories import CourseFactory, InstructorFactory, StaffUserFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# axe-core from the npm registry (`npm pack axe-core@4.14.1`, MPL-2.0), vendored so the suite runs offline.
AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js"
SERIOUS = (
    "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
    ".map(v => v.id + ' ' + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(' | '))"
)


def serious_violations(page) -> list[str]:
    page.wait_for_load_state("networkidle")
    page.evaluate(AXE.read_text(encoding="utf-8"))  # through the devtools protocol: the CSP does not apply
    return page.evaluate(SERIOUS)


def demo_paths() -> tuple[list[str], list[str]]:
    """The pages anyone sees, and the ones behind a login (a learner's review form, the staff dashboard)."""
    call_command("load_demo", stdout=StringIO())
    course = Course.objects.order_by("slug").first()
    instructors = list(Instructor.objects.order_by("slug").values_list("slug", flat=True)[:2])
    courses = list(Course.objects.order_by("slug").values_list("slug", flat=True)[:2])
    public = [
        reverse("home"),
        reverse("course-list"),
        reverse("course-list") + "?sort=rating&level=intermediate",
        course.get_absolute_url(),
        reverse("instructor-list"),
        reverse("instructor-detail", args=[instructors[0]]),
        reverse("rankings-instructors"),
        reverse("rankings-courses"),
        reverse("how-we-rank"),
        reverse("compare"),
        f"{reverse('compare')}?instructors={','.join(instructors)}",
        f"{reverse('compare-courses')}?courses={','.join(courses)}",
        reverse("guide"),
        reverse("guide-tag", args=["go"]),
        reverse("login"),
        reverse("signup"),
    ]
    signed_in = [
        reverse("home"),
        reverse("review-create", args=[course.slug]),
        reverse("signals-dashboard"),
        reverse("signals-runs"),
    ]
    return public, signed_in


@pytest.mark.parametrize("language", ["zh-CN", "en-US"])
def test_it_has_no_serious_accessibility_violation_on_the_main_pages(live_server, chromium_browser, language):
    public, signed_in = demo_paths()
    staff = StaffUserFactory()
    found = []
    for label, width in WIDTHS.items():
        context = chromium_browser.new_context(locale=language, viewport={"width": width, "height": 900})
        context.set_default_timeout(15_000)
        page = context.new_page()
        try:
            for paths, who in ((public, "visitor"), (signed_in, "staff")):
                if who == "staff":
                    log_in(page, live_server, staff)
                for path in paths:
                    response = page.goto(live_server.url + path)
                    assert response.status == 200, path
                    found += [f"{width}px {who} {path}: {v}" for v in serious_violations(page)]
            SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT_DIR / f"a11y-signals-{language}-{label}.png"), full_page=True)
        finally:
            context.close()
    assert found == [], "\n".join(found)


def tab_to(page, predicate: str, *, limit: int = 80) -> None:
    """Press Tab until the focused element satisfies the JS predicate `el => …` (fails after `limit`)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"({predicate})(document.activeElement)"):
            return
    raise AssertionError(f"never reached by Tab: {predicate}")


def focus_ring(page) -> str:
    return page.evaluate("getComputedStyle(document.activeElement).boxShadow")


def test_it_lets_a_keyboard_user_pick_a_star_rating(live_server, screen):
    name, browser_page = screen
    page = browser_page.page
    course = CourseFactory(slug="go-keys")
    log_in(page, live_server, UserFactory())
    page.goto(live_server.url + reverse("review-create", args=[course.slug]))
    page.locator("body").focus()
    tab_to(page, "el => el.name === 'rating'")
    page.keyboard.press("Space")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert page.locator('input[name="rating"]:checked').get_attribute("value") == "4"
    assert lit_stars(page, "rating") == 4
    label = page.evaluate("document.querySelector(`label[for=${document.activeElement.id}]`).innerText")
    assert "4" in label  # what a screen reader announces for the focused radio
    focused_star = page.evaluate(
        "getComputedStyle(document.querySelector(`label[for=${document.activeElement.id}]`)).boxShadow"
    )
    assert focused_star != "none"  # the focus is visible on the star
    tab_to(page, "el => el.name === 'dim_practice'")  # the optional dimension starts at “not rated”
    assert page.evaluate("document.activeElement.value") == ""
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.locator('input[name="dim_practice"]:checked').get_attribute("value") == "2"
    assert lit_stars(page, "dim_practice") == 2
    browser_page.screenshot(f"a11y-review-form-keyboard-{name}")
    assert browser_page.problems == []


def test_it_lets_a_keyboard_user_browse_filter_values_and_apply_them_with_enter(live_server, screen):
    name, browser_page = screen
    page = browser_page.page
    CourseFactory(title="Go 入门", level="beginner")
    CourseFactory(title="Go 进阶", level="intermediate")
    CourseFactory(title="Go 源码", level="advanced")
    page.goto(live_server.url + reverse("course-list"))
    page.evaluate("window.stillTheSamePage = true")
    page.locator("body").focus()
    tab_to(page, "el => el.name === 'level'")
    assert focus_ring(page) != "none"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # past “beginner” to “intermediate”: no reload on the way
    page.wait_for_timeout(500)  # time for a reload to start, if a value applied itself
    assert page.evaluate("window.stillTheSamePage") is True
    assert page.url == live_server.url + reverse("course-list")
    assert page.locator('select[name="level"]').input_value() == "intermediate"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "level=intermediate" in page.url
    assert page.locator(".course-card").count() == 1
    assert "Go 进阶" in page.locator(".course-card").inner_text()
    # Back on the field the user left, so the next Tab goes on to the next filter.
    assert page.evaluate("document.activeElement.name") == "level"
    tab_to(page, "el => el.name === 'sort'", limit=3)
    browser_page.screenshot(f"a11y-course-filters-keyboard-{name}")
    assert browser_page.problems == []


def test_it_still_applies_a_filter_picked_with_the_mouse_at_once(live_server, screen):
    name, browser_page = screen
    page = browser_page.page
    CourseFactory(title="Go 入门", level="beginner")
    CourseFactory(title="Go 源码", level="advanced")
    page.goto(live_server.url + reverse("rankings-courses"))
    with page.expect_navigation():
        page.locator('select[name="level"]').select_option("advanced")
    assert "level=advanced" in page.url
    assert browser_page.problems == []


def test_it_lets_a_keyboard_user_pick_instructors_to_compare(live_server, screen):
    name, browser_page = screen
    page = browser_page.page
    for rank, who in enumerate(("Ada", "Bob", "Cyd"), start=1):
        InstructorScore.objects.create(
            instructor=InstructorFactory(name=who, slug=who.lower()),
            computed_at=timezone.now(),
            total=0.9 - rank / 10,
            rank=rank,
            learner=0.7,
        )
    page.goto(live_server.url + reverse("compare"))
    page.locator("body").focus()
    tab_to(page, "el => el.name === 'instructors' && el.value === 'ada'")
    assert focus_ring(page) != "none"
    page.keyboard.press("Space")
    counter = page.locator("form[data-compare-form] [data-compare-count]")
    assert counter.get_attribute("aria-live") == "polite"
    assert counter.inner_text() == "已选 1 / 4"  # what a screen reader hears after each tick
    assert page.get_by_role("button", name="对比所选讲师").is_disabled()
    tab_to(page, "el => el.name === 'instructors' && el.value === 'cyd'", limit=2)
    page.keyboard.press("Space")
    assert counter.inner_text() == "已选 2 / 4"
    tab_to(page, "el => el.type === 'submit'", limit=2)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    head = page.locator(".compare-table thead").inner_text()
    assert "Ada" in head and "Cyd" in head and "Bob" not in head
    browser_page.screenshot(f"a11y-compare-keyboard-{name}")
    assert browser_page.problems == []


def test_it_lets_staff_act_on_a_signal_without_the_mouse(live_server, screen):
    name, browser_page = screen
    page = browser_page.page
    run = signal_data.run()
    seeded = signal_data.definition("toy", status=SignalDefinition.Status.SEEDED, name_zh="示例玩具化")
    candidate = signal_data.definition("cand", status=SignalDefinition.Status.DISCOVERED, name_zh="候选主题")
    signal_data.cluster(run, seeded, reviews=signal_data.reviews(4), share=0.4)
    cluster = signal_data.cluster(run, candidate, reviews=signal_data.reviews(3), share=0.3)
    log_in(page, live_server, StaffUserFactory())

    page.goto(live_server.url + reverse("signals-dashboard"))
    # Each card's buttons are grouped under the signal's name, so "Confirm" says which signal it confirms.
    assert page.get_by_role("group", name="对“候选主题”的操作").count() == 1
    seeded_actions = page.get_by_role("group", name="对“示例玩具化”的操作")
    assert seeded_actions.get_by_role("button", name="确认").count() == 1
    page.locator("body").focus()
    tab_to(page, f"el => el.tagName === 'SUMMARY' && el.closest('#signal-{cluster.pk}') !== null")
    assert page.evaluate("document.activeElement.closest('[role=group]').getAttribute('aria-label')") == (
        "对“候选主题”的操作"
    )
    assert focus_ring(page) != "none"
    page.keyboard.press("Enter")  # opens “Promote…”
    popover = page.locator(f"#signal-{cluster.pk} .sig-popover[open]")
    assert popover.count() == 1
    page.keyboard.press("Escape")  # closes it and gives the focus back to its button
    assert popover.count() == 0
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
    page.keyboard.press("Enter")
    tab_to(page, "el => el.name === 'name_zh'", limit=3)
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("接口没有超时")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    candidate.refresh_from_db()
    assert candidate.status == SignalDefinition.Status.CONFIRMED and candidate.name_zh == "接口没有超时"
    assert page.url.endswith(f"#signal-{cluster.pk}")  # back at the card: the next Tab goes on from there
    assert "接口没有超时" in page.locator(".messages").inner_text()
    page.keyboard.press("Tab")
    assert page.evaluate(f"document.getElementById('signal-{cluster.pk}').contains(document.activeElement)")
    browser_page.screenshot(f"a11y-signal-action-keyboard-{name}")
    assert browser_page.problems == []
