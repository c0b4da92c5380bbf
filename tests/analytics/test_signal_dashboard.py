"""The staff signal dashboard: who may see it, what it shows, and the actions staff take on signals."""

import json
from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from analytics.models import SignalDefinition, SignalRun
from analytics.services import signal_runs, taxonomy
from tests.analytics import signal_data
from tests.factories import CourseFactory, InstructorFactory, ReviewFactory, StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script>'


@pytest.fixture
def staff_client(client):
    client.force_login(StaffUserFactory())
    return client


@pytest.fixture
def learner_client(client):
    client.force_login(UserFactory())
    return client


@pytest.fixture
def report():
    """A current run with a seeded, a confirmed and a discovered signal, plus an older run."""
    course = CourseFactory(title="Go 并发编程实战", instructors=[InstructorFactory(name="张老师")])
    old = signal_data.run(current=False, created_at=timezone.now() - timedelta(days=3))
    current = signal_data.run()
    toy = signal_data.definition("toy-examples", status=SignalDefinition.Status.SEEDED, name_zh="玩具示例")
    timeouts = signal_data.definition("no-timeouts", name_zh="没有超时控制", name_en="No timeouts")
    pace = signal_data.definition("pace", status=SignalDefinition.Status.DISCOVERED, name_zh="", name_en="")
    toy_reviews = signal_data.reviews(
        3, course=course, month=datetime(2025, 3, 5, tzinfo=timezone.get_current_timezone())
    )
    timeout_reviews = signal_data.reviews(2, course=course)
    pace_reviews = signal_data.reviews(1, course=course)
    return {
        "course": course,
        "old": old,
        "run": current,
        "toy": toy,
        "timeouts": timeouts,
        "pace": pace,
        "toy_cluster": signal_data.cluster(
            current, toy, reviews=toy_reviews, share=0.5, quotes=toy_reviews[:2]
        ),
        "timeout_cluster": signal_data.cluster(
            current, timeouts, reviews=timeout_reviews, share=0.33, keywords=[["context", 1.0], ["超时", 0.4]]
        ),
        "pace_cluster": signal_data.cluster(
            current, pace, reviews=pace_reviews, share=0.17, keywords=[["语速", 0.8], ["太快", 0.6]]
        ),
        "old_cluster": signal_data.cluster(old, timeouts, reviews=[], share=0.9, label="旧的信号"),
    }


def staff_pages(report) -> list[str]:
    return [
        reverse("signals-dashboard"),
        reverse("signals-detail", args=[report["toy_cluster"].pk]),
        reverse("signals-runs"),
        reverse("signals-run-progress", args=[report["run"].pk]),
    ]


def staff_actions(report) -> list[str]:
    pk = report["toy"].pk
    return [
        reverse("signals-confirm", args=[pk]),
        reverse("signals-dismiss", args=[pk]),
        reverse("signals-rename", args=[pk]),
        reverse("signals-merge", args=[pk]),
        reverse("signals-promote", args=[pk]),
        reverse("signals-run-start"),
    ]


# --- access ------------------------------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_log_in_from_every_page_and_action(client, report):
    for url in staff_pages(report):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url
    for url in staff_actions(report):
        response = client.post(url, {"name_zh": "x"})
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url
    assert SignalDefinition.objects.get(pk=report["toy"].pk).status == SignalDefinition.Status.SEEDED
    assert SignalRun.objects.count() == 2


def test_it_forbids_learners_every_page_and_action(learner_client, report):
    for url in staff_pages(report):
        assert learner_client.get(url).status_code == 403, url
    for url in staff_actions(report):
        assert learner_client.post(url, {"name_zh": "x", "into": report["timeouts"].pk}).status_code == 403, (
            url
        )
    toy = SignalDefinition.objects.get(pk=report["toy"].pk)
    assert (toy.status, toy.name_zh, toy.merged_into) == (SignalDefinition.Status.SEEDED, "玩具示例", None)
    assert SignalRun.objects.count() == 2


def test_it_shows_staff_the_dashboard_in_the_navigation(staff_client, report):
    response = staff_client.get(reverse("signals-dashboard"))
    assert response.status_code == 200
    assert f'href="{reverse("signals-dashboard")}"' in response.content.decode()


def test_it_refuses_actions_by_get(staff_client, report):
    for url in staff_actions(report):
        assert staff_client.get(url).status_code == 405, url


def test_it_refuses_actions_without_a_csrf_token(report):
    client = Client(enforce_csrf_checks=True)
    client.force_login(StaffUserFactory())
    response = client.post(reverse("signals-dismiss", args=[report["toy"].pk]))
    assert response.status_code == 403
    assert SignalDefinition.objects.get(pk=report["toy"].pk).status == SignalDefinition.Status.SEEDED


# --- what the dashboard shows -----------------------------------------------------------------------


def test_it_ranks_the_current_runs_signals_by_share_with_keywords_and_figures(staff_client, report):
    response = staff_client.get(reverse("signals-dashboard"))
    page = response.content.decode()
    assert response.status_code == 200
    positions = [
        page.index(f'id="signal-{report[name].pk}"')
        for name in ("toy_cluster", "timeout_cluster", "pace_cluster")
    ]
    assert positions == sorted(positions)
    assert "玩具示例" in page and "没有超时控制" in page
    assert "旧的信号" not in page  # the older run's cluster
    assert 'class="kw kw-5"' in page and ">hello world<" in page
    assert "50.0%" in page and "−1.20★" in page
    # A discovered candidate without a name is called by its keywords.
    assert "语速 · 太快" in page


def test_it_needs_the_same_number_of_queries_for_many_signals(staff_client, report):
    with CaptureQueriesContext(connection) as few:
        staff_client.get(reverse("signals-dashboard"))
    for n in range(6):
        extra = signal_data.definition(f"extra-{n}", status=SignalDefinition.Status.DISCOVERED)
        members = signal_data.reviews(2, course=report["course"])
        signal_data.cluster(report["run"], extra, reviews=members, quotes=members, share=0.01)
    with CaptureQueriesContext(connection) as many:
        response = staff_client.get(reverse("signals-dashboard"))
    assert len(response.context["clusters"]) == 9
    assert len(many.captured_queries) == len(few.captured_queries)


def test_it_never_shows_a_failed_or_running_run(staff_client, report):
    failed = signal_data.run(current=False, status=SignalRun.Status.FAILED, error="boom: worker lost")
    signal_data.cluster(failed, report["timeouts"], label="失败运行的信号", reviews=[])
    running = signal_data.run(current=False, status=SignalRun.Status.RUNNING, progress=40, step="Clustering")
    signal_data.cluster(running, report["timeouts"], label="运行中的信号", reviews=[])
    page = staff_client.get(reverse("signals-dashboard")).content.decode()
    assert "失败运行的信号" not in page and "运行中的信号" not in page
    # …but the history tells what happened to them, and the running one is being watched.
    assert "boom: worker lost" in page
    assert reverse("signals-run-progress", args=[running.pk]) in page
    assert "Clustering" in page


def test_it_explains_the_empty_state_and_offers_to_start_a_run(staff_client):
    response = staff_client.get(reverse("signals-dashboard"))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="run-panel"' in page
    assert f'action="{reverse("signals-run-start")}"' in page
    assert "csrfmiddlewaretoken" in page
    assert response.context["run"] is None


def test_it_links_quotes_to_the_review_on_its_course_page(staff_client, report):
    quote = report["toy_cluster"].representative_reviews.first()
    page = staff_client.get(reverse("signals-dashboard")).content.decode()
    assert f'href="{report["course"].get_absolute_url()}?review={quote.pk}#review-{quote.pk}"' in page


def test_it_escapes_review_text_and_signal_names_in_quotes_and_chart_data(staff_client, report):
    evil = ReviewFactory(course=report["course"], text=f"讲师只会念 PPT {XSS}", rating=1)
    nasty = signal_data.definition("nasty", name_zh=f"名字{XSS}")
    signal_data.cluster(report["run"], nasty, reviews=[evil], quotes=[evil], keywords=[[XSS, 1.0]], share=0.9)
    for url in (reverse("signals-dashboard"), reverse("signals-detail", args=[nasty.clusters.get().pk])):
        page = staff_client.get(url).content.decode()
        assert XSS not in page, url
        assert "&lt;script&gt;" in page, url
    page = staff_client.get(reverse("signals-dashboard")).content.decode()
    start = page.index('id="signal-trend-data"')
    chart_json = page[page.index(">", start) + 1 : page.index("</script>", start)]
    assert "<script>" not in chart_json
    assert f"名字{XSS}" in [series["name"] for series in json.loads(chart_json)["series"]]


def test_it_charts_the_monthly_trend_of_each_signal(staff_client, report):
    trend = staff_client.get(reverse("signals-dashboard")).context["trend"]
    toy = next(series for series in trend["series"] if series["id"] == report["toy_cluster"].pk)
    assert trend["months"][0] == "2025-03"
    assert toy["data"][0] == 3
    assert sum(toy["data"]) == 3
    assert len(set(trend["months"])) == len(trend["months"])


def test_it_shows_run_history_with_status_timings_and_errors(staff_client, report):
    signal_data.run(current=False, status=SignalRun.Status.FAILED, error="MemoryError in clustering")
    page = staff_client.get(reverse("signals-runs")).content.decode()
    assert "MemoryError in clustering" in page
    assert "12.0 s" in page  # duration
    assert "分词" in page and "1.50 s" in page
    assert f"#{report['run'].pk}" in page


# --- actions go through the services and change the definition ----------------------------------------


def _post(client, name, definition, data=None, follow=False):
    return client.post(reverse(name, args=[definition.pk]), data or {}, follow=follow)


def test_it_confirms_a_seeded_signal(staff_client, report):
    with mock.patch.object(taxonomy, "signal_confirm", wraps=taxonomy.signal_confirm) as service:
        response = _post(staff_client, "signals-confirm", report["toy"], follow=True)
    service.assert_called_once()
    assert response.redirect_chain[-1][0] == reverse("signals-dashboard")
    assert SignalDefinition.objects.get(pk=report["toy"].pk).status == SignalDefinition.Status.CONFIRMED
    assert "玩具示例" in str(list(response.context["messages"])[0])


def test_it_dismisses_a_signal_and_moves_it_out_of_the_ranking(staff_client, report):
    with mock.patch.object(taxonomy, "signal_dismiss", wraps=taxonomy.signal_dismiss) as service:
        _post(staff_client, "signals-dismiss", report["timeouts"])
    service.assert_called_once()
    assert SignalDefinition.objects.get(pk=report["timeouts"].pk).status == SignalDefinition.Status.DISMISSED
    response = staff_client.get(reverse("signals-dashboard"))
    assert [cluster.pk for cluster in response.context["dismissed"]] == [report["timeout_cluster"].pk]
    assert report["timeout_cluster"].pk not in [cluster.pk for cluster in response.context["clusters"]]


def test_it_renames_a_signal_in_both_languages(staff_client, report):
    data = {"name_zh": "示例太玩具", "name_en": "Toy examples only", "description": "Only Hello World."}
    with mock.patch.object(taxonomy, "signal_rename", wraps=taxonomy.signal_rename) as service:
        _post(staff_client, "signals-rename", report["toy"], data)
    service.assert_called_once()
    toy = SignalDefinition.objects.get(pk=report["toy"].pk)
    assert (toy.name_zh, toy.name_en, toy.description) == (
        "示例太玩具",
        "Toy examples only",
        "Only Hello World.",
    )
    assert "示例太玩具" in staff_client.get(reverse("signals-dashboard")).content.decode()


def test_it_refuses_a_rename_without_a_chinese_name(staff_client, report):
    response = _post(
        staff_client, "signals-rename", report["toy"], {"name_zh": "  ", "name_en": "x"}, follow=True
    )
    assert SignalDefinition.objects.get(pk=report["toy"].pk).name_zh == "玩具示例"
    assert [message.level_tag for message in response.context["messages"]] == ["error"]


def test_it_merges_a_signal_into_another(staff_client, report):
    with mock.patch.object(taxonomy, "signal_merge", wraps=taxonomy.signal_merge) as service:
        _post(staff_client, "signals-merge", report["pace"], {"into": report["timeouts"].pk})
    service.assert_called_once()
    assert SignalDefinition.objects.get(pk=report["pace"].pk).merged_into == report["timeouts"]


def test_it_refuses_to_merge_a_signal_into_itself(staff_client, report):
    response = _post(staff_client, "signals-merge", report["pace"], {"into": report["pace"].pk}, follow=True)
    assert SignalDefinition.objects.get(pk=report["pace"].pk).merged_into is None
    assert [message.level_tag for message in response.context["messages"]] == ["error"]


def test_it_promotes_a_discovered_candidate_with_a_name(staff_client, report):
    data = {"name_zh": "语速太快", "name_en": "Too fast", "description": "讲得太快。"}
    with mock.patch.object(taxonomy, "signal_promote", wraps=taxonomy.signal_promote) as service:
        _post(staff_client, "signals-promote", report["pace"], data)
    service.assert_called_once()
    pace = SignalDefinition.objects.get(pk=report["pace"].pk)
    assert (pace.status, pace.name_zh, pace.name_en) == (
        SignalDefinition.Status.CONFIRMED,
        "语速太快",
        "Too fast",
    )


def test_it_returns_to_the_page_the_action_came_from_but_never_offsite(staff_client, report):
    detail = reverse("signals-detail", args=[report["toy_cluster"].pk])
    response = _post(staff_client, "signals-confirm", report["toy"], {"next": detail})
    assert response["Location"] == detail
    response = _post(staff_client, "signals-dismiss", report["toy"], {"next": "https://evil.example/"})
    assert response["Location"] == reverse("signals-dashboard")


# --- runs ------------------------------------------------------------------------------------------------


def test_it_starts_a_run_through_the_service_and_watches_it(staff_client, report):
    with mock.patch.object(signal_runs, "signal_run_start", wraps=signal_runs.signal_run_start) as service:
        response = staff_client.post(reverse("signals-run-start"), follow=True)
    service.assert_called_once()
    queued = SignalRun.objects.get(status__in=["queued", "running"])
    page = response.content.decode()
    assert reverse("signals-run-progress", args=[queued.pk]) in page
    # The current report stays in place while the new run works.
    assert response.context["run"] == report["run"]
    assert "玩具示例" in page


def test_it_does_not_start_a_second_run_while_one_is_active(staff_client, report):
    running = signal_data.run(
        current=False, status=SignalRun.Status.RUNNING, progress=10, heartbeat_at=timezone.now()
    )
    response = staff_client.post(reverse("signals-run-start"), follow=True)
    assert SignalRun.objects.filter(status__in=["queued", "running"]).get() == running
    assert f"#{running.pk}" in str(list(response.context["messages"])[0])


def test_it_starts_a_run_with_the_options_staff_chose(staff_client):
    options = {"assign_threshold": "0.3", "max_clusters": "5", "seed": ""}
    staff_client.post(reverse("signals-run-start"), options)
    run = SignalRun.objects.get()
    assert (run.parameters["assign_threshold"], run.parameters["max_clusters"]) == (0.3, 5)
    history = staff_client.get(reverse("signals-runs")).context["page"].object_list
    assert history[0].changed_parameters == {"assign_threshold": 0.3, "max_clusters": 5}


def test_it_refuses_run_options_out_of_range(staff_client):
    response = staff_client.post(reverse("signals-run-start"), {"assign_threshold": "5"}, follow=True)
    assert not SignalRun.objects.exists()
    assert [message.level_tag for message in response.context["messages"]] == ["error"]


def test_it_reports_run_progress_as_json(staff_client):
    run = signal_data.run(
        current=False,
        status=SignalRun.Status.RUNNING,
        progress=42,
        step="Segmenting reviews",
        heartbeat_at=timezone.now(),
    )
    response = staff_client.get(reverse("signals-run-progress", args=[run.pk]))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert (body["id"], body["status"], body["progress"], body["step"]) == (
        run.pk,
        "running",
        42,
        "Segmenting reviews",
    )
    assert body["finished"] is False and body["stalled"] is False


def test_it_flags_a_run_whose_worker_stopped_sending_heartbeats(staff_client):
    run = signal_data.run(
        current=False,
        status=SignalRun.Status.RUNNING,
        progress=30,
        heartbeat_at=timezone.now() - timedelta(minutes=10),
    )
    assert staff_client.get(reverse("signals-run-progress", args=[run.pk])).json()["stalled"] is True


def test_it_offers_to_give_up_a_stalled_run_and_start_afresh(staff_client, report):
    stalled = signal_data.run(
        current=False,
        status=SignalRun.Status.RUNNING,
        progress=30,
        worker="another-host:4242",
        heartbeat_at=timezone.now() - timedelta(minutes=10),
    )
    response = staff_client.get(reverse("signals-dashboard"))
    assert response.context["active_run_stalled"] is True
    staff_client.post(reverse("signals-run-start"))
    stalled.refresh_from_db()
    assert stalled.status == SignalRun.Status.FAILED and not stalled.is_current
    assert SignalRun.objects.get(status=SignalRun.Status.QUEUED).pk != stalled.pk
    assert SignalRun.objects.get(is_current=True) == report["run"]


def test_it_reports_a_finished_run_as_finished(staff_client, report):
    body = staff_client.get(reverse("signals-run-progress", args=[report["run"].pk])).json()
    assert (body["finished"], body["is_current"], body["progress"]) == (True, True, 100)
    assert staff_client.get(reverse("signals-run-progress", args=[99999])).status_code == 404


# --- detail page -----------------------------------------------------------------------------------------


def test_it_lists_a_signals_reviews_page_by_page_with_breakdowns(staff_client, report):
    other_course = CourseFactory(title="Go 微服务")
    many = signal_data.reviews(25, course=other_course)
    timeouts = report["timeout_cluster"]
    for position, review in enumerate(many):
        timeouts.assignments.create(run=report["run"], review=review, score=0.5 - position / 1000)
    url = reverse("signals-detail", args=[timeouts.pk])
    first = staff_client.get(url)
    assert first.status_code == 200
    assert len(first.context["page"].object_list) == 20
    assert first.context["page"].paginator.count == 27
    assert len(staff_client.get(url, {"page": 2}).context["page"].object_list) == 7
    by_course = {row["object"].title: (row["n"], row["total"]) for row in first.context["by_course"]}
    assert by_course == {"Go 微服务": (25, 25), "Go 并发编程实战": (2, 6)}
    by_instructor = {row["object"].name: row["n"] for row in first.context["by_instructor"]}
    assert by_instructor == {"张老师": 2}


def test_it_warns_that_a_signal_page_belongs_to_an_old_run(staff_client, report):
    page = staff_client.get(reverse("signals-detail", args=[report["old_cluster"].pk])).content.decode()
    assert "not the current report" in page or "不是当前报告" in page
    assert staff_client.get(reverse("signals-detail", args=[99999])).status_code == 404


# --- Readable in both languages; a chart that keeps every signal and its colour -----------------------------


def test_it_names_run_counts_and_timings_instead_of_showing_raw_keys(staff_client, report):
    signal_data.run(current=False, counts={"reviews": 10, "signals": 4, "classifier": "trained"})
    page = staff_client.get(reverse("signals-runs"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for label in (
        "reviews analysed",
        "signals found by the run",
        "word segmentation",
        "trained on the labelled",
    ):
        assert label in page
    for raw in ("<dt>segment</dt>", "<dt>reviews</dt>", "<dt>classifier</dt>", "<dd>trained</dd>"):
        assert raw not in page
    dashboard = staff_client.get(reverse("signals-dashboard"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "signals (dismissed ones left out)" in dashboard


def test_it_shows_signal_descriptions_in_the_page_language(client, report):
    toy = report["toy"]
    toy.description, toy.description_en = "例子全是玩具。", "Every example is a toy."
    toy.save()
    course = report["course"]
    english = client.get(course.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get(course.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "Every example is a toy." in english and "例子全是玩具。" not in english
    assert "例子全是玩具。" in chinese


def test_it_ships_english_descriptions_with_every_seeded_signal():
    taxonomy.seed_signal_definitions()
    seeded = SignalDefinition.objects.filter(status=SignalDefinition.Status.SEEDED)
    assert seeded.count() >= 6
    assert all(definition.description_en for definition in seeded)


def test_it_charts_every_signal_with_a_colour_that_follows_the_signal(staff_client):
    run = signal_data.run()
    for index in range(14):
        definition = signal_data.definition(f"sig-{index}", name_zh=f"很长的信号名称第{index}号：讲得太浅")
        signal_data.cluster(run, definition, reviews=signal_data.reviews(14 - index), share=0.5 - index / 100)
    trend = staff_client.get(reverse("signals-dashboard")).context["trend"]
    named = [series for series in trend["series"] if series["id"]]
    assert len(named) == 12 and trend["series"][-1]["name"].startswith("其他信号")
    assert sum(sum(series["data"]) for series in trend["series"]) == sum(range(1, 15))  # nothing dropped
    colours = {series["name"]: series["colour"] for series in named}
    for series in named:
        definition = SignalDefinition.objects.get(name_zh=series["name"])
        assert series["colour"] == definition.pk % 12

    SignalDefinition.objects.filter(key="sig-0").update(status=SignalDefinition.Status.DISMISSED)
    again = staff_client.get(reverse("signals-dashboard")).context["trend"]
    for series in again["series"]:
        if series["name"] in colours:
            assert series["colour"] == colours[series["name"]]  # ranks moved, colours did not
    page = staff_client.get(reverse("signals-dashboard")).content.decode()
    assert "很长的信号名称第13号：讲得太浅" in page[page.index('class="trend-legend"') :]
