"""Public course and instructor pages: confirmed failure signals with their share and real quotes."""

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext

from analytics.models import SignalDefinition, SignalRun
from reviews.models import Review
from tests.analytics import signal_data
from tests.factories import CourseFactory, InstructorFactory, ReviewFactory

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script>'


def render(source: str, **context) -> str:
    return Template("{% load signal_tags %}" + source).render(Context(context))


def include(template: str, **context) -> str:
    return Template('{% include "' + template + '" %}').render(Context(context))


@pytest.fixture
def course_report():
    teacher = InstructorFactory(name="王老师")
    course = CourseFactory(title="Go 高并发", instructors=[teacher])
    other_course = CourseFactory(title="Go Web", instructors=[teacher])
    run = signal_data.run()
    seeded = signal_data.definition("toy", status=SignalDefinition.Status.SEEDED, name_zh="玩具示例")
    confirmed = signal_data.definition("timeouts", name_zh="没有超时控制")
    discovered = signal_data.definition("pace", status=SignalDefinition.Status.DISCOVERED, name_zh="语速")
    dismissed = signal_data.definition("audio", status=SignalDefinition.Status.DISMISSED, name_zh="音质")
    toy_reviews = signal_data.reviews(3, course=course)
    timeout_reviews = signal_data.reviews(1, course=course) + signal_data.reviews(2, course=other_course)
    signal_data.cluster(run, seeded, reviews=toy_reviews)
    signal_data.cluster(run, confirmed, reviews=timeout_reviews)
    signal_data.cluster(run, discovered, reviews=signal_data.reviews(1, course=course))
    signal_data.cluster(run, dismissed, reviews=signal_data.reviews(1, course=course))
    ReviewFactory.create_batch(4, course=course, rating=5, text="讲得很好，例子贴近生产。")
    # 3 toy + 1 timeouts + 1 pace + 1 audio + 4 praise = 10 published reviews of the course.
    return {
        "course": course,
        "other": other_course,
        "teacher": teacher,
        "run": run,
        "toy_reviews": toy_reviews,
    }


def test_it_shows_seeded_and_confirmed_signals_of_a_course_with_share_and_quotes(course_report):
    html = render("{% course_signals course %}", course=course_report["course"])
    assert "玩具示例" in html and "没有超时控制" in html
    assert "30%" in html  # 3 of 10 reviews
    assert "10%" in html  # 1 of 10
    assert html.index("玩具示例") < html.index("没有超时控制")  # most frequent first
    quote = course_report["toy_reviews"][0]
    course_url = course_report["course"].get_absolute_url()
    assert f'href="{course_url}?review={quote.pk}#review-{quote.pk}"' in html  # opens the page that holds it
    assert quote.text in html


def test_it_never_shows_discovered_or_dismissed_signals_to_the_public(course_report):
    html = render("{% course_signals course %}", course=course_report["course"])
    assert "语速" not in html and "音质" not in html


def test_it_quotes_at_most_three_reviews_per_signal(course_report):
    more = signal_data.reviews(5, course=course_report["course"])
    toy = SignalDefinition.objects.get(key="toy").clusters.get()
    for review in more:
        toy.assignments.create(run=course_report["run"], review=review, score=0.1)
    html = render("{% course_signals course %}", course=course_report["course"])
    assert html.count("#review-") == 3 + 1  # three toy quotes, one timeouts quote


def test_it_shows_an_instructors_signals_across_their_courses(course_report):
    html = include("analytics/partials/instructor_signals.html", instructor=course_report["teacher"])
    # 3 timeouts reviews (1 + 2) of 10 + 2 published reviews on the two courses.
    assert "没有超时控制" in html and "25%" in html
    assert "Go Web" in html  # quotes name their course on instructor pages


def test_it_renders_the_course_partial_by_include_as_well(course_report):
    assert "玩具示例" in include("analytics/partials/course_signals.html", course=course_report["course"])


def test_it_counts_a_merged_signal_under_the_signal_it_was_merged_into(course_report):
    timeouts = SignalDefinition.objects.get(key="timeouts")
    toy = SignalDefinition.objects.get(key="toy")
    toy.merged_into = timeouts
    toy.save()
    html = render("{% course_signals course %}", course=course_report["course"])
    assert "玩具示例" not in html
    assert "40%" in html  # (3 + 1) of 10 under 没有超时控制


def test_it_ignores_hidden_and_pending_reviews(course_report):
    Review.objects.filter(pk__in=[review.pk for review in course_report["toy_reviews"]]).update(
        status=Review.Status.HIDDEN
    )
    html = render("{% course_signals course %}", course=course_report["course"])
    assert "玩具示例" not in html
    assert course_report["toy_reviews"][0].text not in html
    assert "14%" in html  # 1 of the 7 published reviews


def test_it_shows_only_the_current_run(course_report):
    course_report["run"].is_current = False
    course_report["run"].save()
    failed = signal_data.run(current=False, status=SignalRun.Status.FAILED)
    signal_data.cluster(failed, SignalDefinition.objects.get(key="toy"), reviews=course_report["toy_reviews"])
    html = render("{% course_signals course %}", course=course_report["course"])
    assert "玩具示例" not in html
    assert "not been analysed" in html or "尚未" in html


def test_it_says_so_when_a_course_has_no_confirmed_signal(course_report):
    quiet = CourseFactory()
    ReviewFactory(course=quiet, rating=5)
    html = render("{% course_signals course %}", course=quiet)
    assert "public-signals" in html and "#review-" not in html


def test_it_renders_nothing_for_a_course_without_reviews(course_report):
    assert render("{% course_signals course %}", course=CourseFactory()).strip() == ""


def test_it_escapes_review_text_and_signal_names(course_report):
    evil = ReviewFactory(course=course_report["course"], text=f"念 PPT {XSS}", rating=1)
    nasty = signal_data.definition("nasty", name_zh=f"坏{XSS}", description=XSS)
    signal_data.cluster(course_report["run"], nasty, reviews=[evil])
    html = render("{% course_signals course %}", course=course_report["course"])
    assert XSS not in html
    assert "&lt;script&gt;" in html


def test_it_needs_a_fixed_number_of_queries_whatever_the_number_of_signals(course_report):
    with CaptureQueriesContext(connection) as few:
        render("{% course_signals course %}", course=course_report["course"])
    for n in range(4):
        definition = signal_data.definition(f"extra-{n}")
        signal_data.cluster(
            course_report["run"], definition, reviews=signal_data.reviews(3, course=course_report["course"])
        )
    with CaptureQueriesContext(connection) as many:
        html = render("{% course_signals course %}", course=course_report["course"])
    assert "信号 extra-3" in html
    assert len(many.captured_queries) == len(few.captured_queries) <= 6
