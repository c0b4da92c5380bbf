"""Staff shape a signal on its page: its seed terms and the courses it applies to; quotes show the
complaint clause that put a review in the signal."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from analytics.models import SignalDefinition, SignalRun
from analytics.services import signal_runs, taxonomy
from tests.analytics import signal_data
from tests.analytics.signal_corpus import go_course, make_corpus
from tests.factories import CourseFactory, ReviewFactory, StaffUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(StaffUserFactory())
    return client


@pytest.fixture
def signal_page():
    run = signal_data.run()
    definition = signal_data.definition(
        "timeouts", status=SignalDefinition.Status.CONFIRMED, seed_terms=["超时"]
    )
    cluster = signal_data.cluster(run, definition, reviews=signal_data.reviews(2))
    return definition, reverse("signals-detail", args=[cluster.pk])


def test_it_lets_staff_replace_seed_terms_and_scope_on_the_signal_page(staff_client, signal_page):
    definition, page = signal_page
    response = staff_client.post(
        reverse("signals-terms", args=[definition.pk]),
        {"seed_terms": "没有超时\n熔断，重试", "scope_tags": "Go, 后端", "next": page},
    )
    assert response.status_code == 302 and response.url == page
    definition.refresh_from_db()
    assert definition.seed_terms == ["没有超时", "熔断", "重试"]
    assert definition.scope_tags == ["Go", "后端"]
    shown = staff_client.get(page).content.decode()
    assert "熔断" in shown and "Go, 后端" in shown


def test_it_refuses_terms_that_would_match_anything_and_keeps_the_old_ones(staff_client, signal_page):
    definition, page = signal_page
    response = staff_client.post(
        reverse("signals-terms", args=[definition.pk]),
        {"seed_terms": "没做过\n熔断", "scope_tags": "", "next": page},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert "没做过" in response.content.decode()
    definition.refresh_from_db()
    assert definition.seed_terms == ["超时"]


def test_it_needs_at_least_one_term_for_a_confirmed_signal(signal_page):
    definition, _page = signal_page
    with pytest.raises(ValidationError) as caught:
        taxonomy.signal_edit_terms(definition=definition, seed_terms=[" "], scope_tags=["Go"])
    assert caught.value.message_dict["seed_terms"]
    definition.refresh_from_db()
    assert definition.seed_terms == ["超时"] and definition.scope_tags == []


def test_it_refuses_the_terms_form_to_learners(client, signal_page):
    definition, page = signal_page
    response = client.post(reverse("signals-terms", args=[definition.pk]), {"seed_terms": "熔断"})
    assert response.status_code in (302, 403)
    definition.refresh_from_db()
    assert definition.seed_terms == ["超时"]


def test_it_scopes_a_seeded_signal_to_the_courses_its_tags_name():
    taxonomy.seed_signal_definitions()
    go = go_course()
    java = CourseFactory(title="Java 从入门到精通")
    untagged_go = CourseFactory(title="Go Web 后端全栈训练营")  # imported: no tags, the title says Go
    for course in (go, java, untagged_go):
        for _ in range(3):
            ReviewFactory(course=course, rating=1, text="调用下游没有超时，也没有重试，压测就挂")
    run, _created = signal_runs.signal_run_start(enqueue=False)
    run = signal_runs.signal_run_execute(run_id=run.pk)
    assert run.status == SignalRun.Status.SUCCEEDED
    production = run.clusters.get(definition__key="no_production")
    courses = set(production.assignments.values_list("review__course_id", flat=True))
    assert courses == {go.pk, untagged_go.pk}


def test_it_highlights_the_complaint_clause_in_quotes(staff_client):
    taxonomy.seed_signal_definitions()
    course = go_course()
    for _ in range(3):
        ReviewFactory(course=course, rating=5, text="老师讲得很清楚，但是调用下游没有超时控制")
    make_corpus(repeat=1)
    run, _created = signal_runs.signal_run_start(enqueue=False)
    run = signal_runs.signal_run_execute(run_id=run.pk)
    production = run.clusters.get(definition__key="no_production")
    page = staff_client.get(reverse("signals-detail", args=[production.pk])).content.decode()
    assert '<mark class="quote-clause">' in page
