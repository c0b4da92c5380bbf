"""Text that learners (or imported feedback) wrote is shown as text on every page, in chart labels and in the
JSON embedded for the charts: never as markup."""

import json
import re

import pytest
from django.urls import reverse

from analytics.models import SignalDefinition
from analytics.services import scores
from reviews.models import Review
from tests.analytics import signal_data
from tests.factories import CourseFactory, InstructorFactory, ReviewFactory, StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db

PAYLOAD = '<script>alert("xss")</script><img src=x onerror=alert(1)>'
RAW_MARKERS = ("<script>alert", "<img src=x", "onerror=alert(1)>")
JSON_SCRIPT = re.compile(r'<script id="([^"]+)" type="application/json">(.*?)</script>', re.S)


@pytest.fixture
def hostile_site():
    """A catalog where every free-text field carries markup: names from imported files, review text, the
    keywords a signal run learned from reviews."""
    author = UserFactory(username="mallory")
    instructors = [
        InstructorFactory(name=f"讲师{PAYLOAD}", slug="hostile-a"),
        InstructorFactory(slug="plain-b"),
    ]
    course = CourseFactory(title=f"Go 课程{PAYLOAD}", slug="hostile-course", instructors=instructors)
    CourseFactory(slug="other-course", instructors=[instructors[1]])
    reviews = [
        ReviewFactory(course=course, text=f"第{i}条 {PAYLOAD}", rating=2, dim_practice=2, dim_testing=1)
        for i in range(6)
    ]
    mine = ReviewFactory(course=course, author=author, status=Review.Status.PENDING, text=f"我的 {PAYLOAD}")
    run = signal_data.run()
    discovered = signal_data.definition(
        "candidate-1", status=SignalDefinition.Status.DISCOVERED, name_zh=PAYLOAD, name_en=PAYLOAD
    )
    signal_data.cluster(
        run,
        discovered,
        reviews=reviews,
        keywords=[[PAYLOAD, 0.9], ["玩具", 0.4]],
        quotes=reviews[:2],
        label=PAYLOAD,
    )
    scores.scores_recompute()
    return {"course": course, "author": author, "mine": mine, "cluster": run.clusters.get()}


def assert_shown_as_text(html: str, where: str) -> None:
    for marker in RAW_MARKERS:
        assert marker not in html, f"{where}: user text rendered as markup ({marker!r})"
    for element_id, content in JSON_SCRIPT.findall(html):
        assert "<" not in content, f"{where}: json_script #{element_id} contains a raw '<'"
        json.loads(content)  # still valid JSON: the payload arrives in the chart as text


def test_it_escapes_user_text_on_every_public_page(client, hostile_site):
    course = hostile_site["course"]
    pages = {
        "home": reverse("home"),
        "course list": reverse("course-list"),
        "course search": reverse("course-list") + "?q=" + "课程",
        "course page": reverse("course-detail", args=[course.slug]),
        "instructor list": reverse("instructor-list"),
        "instructor page": reverse("instructor-detail", args=["hostile-a"]),
        "instructor ranking": reverse("rankings-instructors"),
        "course ranking": reverse("rankings-courses"),
        "compare": reverse("compare") + "?instructors=hostile-a,plain-b",
    }
    for where, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, where
        assert_shown_as_text(response.content.decode(), where)

    course_page = client.get(pages["course page"]).content.decode()
    assert "&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;" in course_page  # visible, as text


def test_it_puts_names_into_chart_data_as_escaped_json(client, hostile_site):
    html = client.get(reverse("compare") + "?instructors=hostile-a,plain-b").content.decode()
    charts = dict(JSON_SCRIPT.findall(html))
    assert charts, "the compare page embeds its radar data"
    radar = json.loads(charts["compare-radar"])
    assert f"讲师{PAYLOAD}" in [series["name"] for series in radar["series"]]


def test_it_escapes_user_text_on_staff_and_author_pages(client, hostile_site):
    cluster = hostile_site["cluster"]
    client.force_login(StaffUserFactory())
    staff_pages = {
        "signals dashboard": reverse("signals-dashboard"),
        "signal detail": reverse("signals-detail", args=[cluster.pk]),
        "moderation queue": reverse("moderation-queue"),
        "moderation review": reverse("moderation-review", args=[hostile_site["mine"].pk]),
    }
    for where, url in staff_pages.items():
        response = client.get(url)
        assert response.status_code == 200, where
        assert_shown_as_text(response.content.decode(), where)
    dashboard = client.get(staff_pages["signals dashboard"]).content.decode()
    trend = json.loads(dict(JSON_SCRIPT.findall(dashboard))["signal-trend-data"])
    assert PAYLOAD in [series["name"] for series in trend["series"]]  # the chart label arrives as text

    client.force_login(hostile_site["author"])
    for where, url in {
        "my reviews": reverse("my-reviews"),
        "my course page": reverse("course-detail", args=[hostile_site["course"].slug]),
        "edit my review": reverse("review-edit", args=[hostile_site["mine"].pk]),
    }.items():
        response = client.get(url)
        assert response.status_code == 200, where
        assert_shown_as_text(response.content.decode(), where)
