"""Staff-only API for signals and extraction runs: /api/signals/ and /api/signal-runs/."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from analytics.models import SignalDefinition, SignalRun
from analytics.services import signal_runs
from tests.analytics import signal_data
from tests.factories import CourseFactory, ReviewFactory, StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script>'


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def staff_api(api):
    api.force_authenticate(StaffUserFactory())
    return api


@pytest.fixture
def report():
    course = CourseFactory(slug="go-concurrency")
    run = signal_data.run()
    toy = signal_data.definition("toy-examples", status=SignalDefinition.Status.SEEDED, name_zh="玩具示例")
    members = signal_data.reviews(3, course=course)
    cluster = signal_data.cluster(run, toy, reviews=members, share=0.6, lift=1.5, quotes=members[:2])
    old = signal_data.run(current=False, created_at=timezone.now() - timedelta(days=1))
    return {"run": run, "old": old, "toy": toy, "cluster": cluster, "members": members, "course": course}


def endpoints(report):
    return [
        ("get", "/api/signals/"),
        ("get", "/api/signal-runs/"),
        ("get", f"/api/signal-runs/{report['run'].pk}/"),
        ("post", "/api/signal-runs/"),
    ]


def test_it_refuses_anonymous_clients_every_endpoint(api, report):
    for method, url in endpoints(report):
        assert getattr(api, method)(url, format="json").status_code in (401, 403), url
    assert SignalRun.objects.count() == 2


def test_it_forbids_learners_every_endpoint(api, report):
    api.force_authenticate(UserFactory())
    for method, url in endpoints(report):
        assert getattr(api, method)(url, format="json").status_code == 403, url
    assert SignalRun.objects.count() == 2


def test_it_lists_the_current_runs_signals_with_keywords_figures_and_examples(staff_api, report):
    response = staff_api.get("/api/signals/")
    assert response.status_code == 200
    body = response.json()
    assert body["run"]["id"] == report["run"].pk and body["run"]["is_current"] is True
    [signal] = body["signals"]
    assert signal["key"] == "toy-examples"
    assert signal["name_zh"] == "玩具示例"
    assert signal["status"] == "seeded"
    assert (signal["size"], signal["share"], signal["lift"]) == (3, 0.6, 1.5)
    assert signal["keywords"][0] == {"term": "hello world", "weight": 0.9}
    examples = {example["review_id"] for example in signal["examples"]}
    assert examples == {review.pk for review in report["members"][:2]}
    assert signal["examples"][0]["url"].startswith("/courses/go-concurrency/#review-")


def test_it_returns_an_empty_report_before_any_run(staff_api):
    assert staff_api.get("/api/signals/").json() == {"run": None, "signals": []}


def test_it_returns_user_text_as_data_not_markup(staff_api, report):
    evil = ReviewFactory(course=report["course"], text=XSS, rating=1)
    report["cluster"].representative_reviews.add(evil)
    texts = [example["text"] for example in staff_api.get("/api/signals/").json()["signals"][0]["examples"]]
    assert XSS in texts


def test_it_lists_run_history_newest_first(staff_api, report):
    failed = signal_data.run(current=False, status=SignalRun.Status.FAILED, error="worker lost")
    body = staff_api.get("/api/signal-runs/").json()
    assert [row["id"] for row in body["results"]] == [failed.pk, report["old"].pk, report["run"].pk]
    assert body["results"][0]["error"] == "worker lost"
    assert body["results"][2]["duration_seconds"] == pytest.approx(12, abs=0.01)
    assert body["results"][2]["timings"] == {"segment": 1.5, "cluster": 0.25}


def test_it_reports_the_progress_of_one_run(staff_api):
    run = signal_data.run(
        current=False,
        status=SignalRun.Status.RUNNING,
        progress=55,
        step="Clustering",
        heartbeat_at=timezone.now(),
    )
    body = staff_api.get(f"/api/signal-runs/{run.pk}/").json()
    assert (body["status"], body["progress"], body["step"], body["stalled"]) == (
        "running",
        55,
        "Clustering",
        False,
    )
    assert staff_api.get("/api/signal-runs/424242/").status_code == 404


def test_it_starts_a_run_with_202_and_returns_the_active_one_with_200(staff_api, report):
    with mock.patch.object(signal_runs, "signal_run_start", wraps=signal_runs.signal_run_start) as service:
        first = staff_api.post("/api/signal-runs/", {}, format="json")
        second = staff_api.post("/api/signal-runs/", {}, format="json")
    assert service.call_count == 2
    assert first.status_code == 202
    assert first.json()["status"] in ("queued", "running")
    assert first["Location"] == f"/api/signal-runs/{first.json()['id']}/"
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert SignalRun.objects.filter(status__in=["queued", "running"]).count() == 1
    # The current report is untouched until the new run succeeds.
    assert staff_api.get("/api/signals/").json()["run"]["id"] == report["run"].pk


def test_it_rejects_run_parameters_that_are_not_an_object(staff_api):
    response = staff_api.post("/api/signal-runs/", {"parameters": "fast please"}, format="json")
    assert response.status_code == 400
    assert "parameters" in response.json()
    assert not SignalRun.objects.exists()


def test_it_rejects_unknown_run_parameters_with_the_reason(staff_api):
    response = staff_api.post("/api/signal-runs/", {"parameters": {"warp_speed": 9}}, format="json")
    assert response.status_code == 400
    assert "warp_speed" in str(response.json()["parameters"])
    assert not SignalRun.objects.exists()


def test_it_requires_a_csrf_token_for_session_authenticated_writes(report):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(StaffUserFactory())
    assert client.post("/api/signal-runs/", {}, format="json").status_code == 403
    assert not SignalRun.objects.filter(status__in=["queued", "running"]).exists()


def test_it_documents_the_signal_endpoints_in_the_openapi_schema(staff_api):
    response = staff_api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert {"/api/signals/", "/api/signal-runs/", "/api/signal-runs/{id}/"} <= set(schema["paths"])
    start = schema["paths"]["/api/signal-runs/"]["post"]["responses"]
    assert {"200", "202"} <= set(start)
    components = set(schema["components"]["schemas"])
    assert {"SignalReport", "Signal", "SignalRun", "SignalKeyword", "SignalExample"} <= components
