"""Scores, ranking pages and API: what a prospective student sees, and that it stays cheap."""

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from analytics import ranking_cache
from analytics.models import CourseScore, EvidenceSnapshot, InstructorScore, SignalDefinition
from analytics.services.scores import scores_recompute, scores_recompute_soon
from reviews.models import Review
from tests.analytics import signal_data
from tests.analytics.scoring_data import STRONG_FIGURES, evidence, teach, two_scored
from tests.factories import CourseFactory, InstructorFactory, StaffUserFactory, TagFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_ranking_cache")]


@pytest.fixture
def page_entries(monkeypatch) -> list[str]:
    """Keys of the whole-page entries written to the cache from now on."""
    written: list[str] = []
    real_set = ranking_cache.cache.set

    def recording_set(key, value, *args, **kwargs):
        if key.startswith("rankings:page-"):
            written.append(key)
        return real_set(key, value, *args, **kwargs)

    monkeypatch.setattr(ranking_cache.cache, "set", recording_set)
    return written


def scores_by_slug():
    return {score.instructor.slug: score for score in InstructorScore.objects.select_related("instructor")}


def build_cohort(size: int):
    tag = TagFactory(name="concurrency", slug="concurrency")
    for index in range(size):
        instructor = InstructorFactory(
            slug=f"teacher-{index}", github_login=f"gh-{index}" if index % 2 else None
        )
        course = CourseFactory(
            instructors=[instructor], tags=[tag], provider="极客时间" if index % 3 else "慕课网"
        )
        teach(instructor, [3 + index % 3] * (2 + index % 7), course=course, practice=4)
        if index % 2:
            evidence(instructor, {**STRONG_FIGURES, "go_stars": 100 * index})
    scores_recompute()


# --- Scores -------------------------------------------------------------------------------------------------


def test_it_ranks_by_smoothed_rating_and_labels_thin_instructors():
    steady = InstructorFactory(slug="steady")
    teach(steady, [5, 5, 4, 5, 5] * 6)
    middling = InstructorFactory(slug="middling")
    teach(middling, [3, 4, 3, 3] * 5)
    lucky = InstructorFactory(slug="lucky")
    teach(lucky, [5, 5])

    scores_recompute()
    scores = scores_by_slug()

    assert (scores["steady"].rank, scores["middling"].rank) == (1, 2)
    assert scores["lucky"].enough_data is False
    assert scores["lucky"].rank is None  # two perfect reviews are not enough to be ranked first
    assert (
        scores["lucky"].breakdown["learner"]["smoothed_rating"]
        < scores["steady"].breakdown["learner"]["smoothed_rating"]
    )


def test_it_ranks_an_instructor_with_few_reviews_but_github_evidence():
    builder = InstructorFactory(slug="builder", github_login="builder")
    teach(builder, [4])
    evidence(builder)

    scores_recompute()

    score = scores_by_slug()["builder"]
    assert score.enough_data is True
    assert score.rank == 1
    assert score.evidence > 0


def test_it_counts_only_published_reviews():
    instructor = InstructorFactory(slug="moderated")
    course = teach(instructor, [4] * 6)
    teach(instructor, [1] * 20, course=course, status=Review.Status.PENDING)
    teach(instructor, [1] * 20, course=course, status=Review.Status.HIDDEN)

    scores_recompute()

    score = scores_by_slug()["moderated"]
    assert score.review_count == 6
    assert score.breakdown["learner"]["mean_rating"] == 4.0


def test_it_stores_every_component_and_weight_with_the_score(settings):
    settings.SCORE_WEIGHTS = {"learner": 0.6, "evidence": 0.25, "signal_burden": 0.15}
    instructor = InstructorFactory(slug="weighed", github_login="weighed")
    teach(instructor, [4, 5, 4, 3, 5, 4], practice=5, concurrency=3)
    evidence(instructor)

    score = scores_recompute()[0]

    assert score.breakdown["weights"] == settings.SCORE_WEIGHTS
    parts = score.breakdown["components"]
    expected = 0.6 * parts["learner"] + 0.25 * parts["evidence"] + 0.15 * parts["signal_burden"]
    assert score.total == pytest.approx(expected, abs=1e-3)
    assert score.breakdown["learner"]["dimensions"]["practice"] == 5.0
    assert score.breakdown["learner"]["dimensions"]["testing"] is None
    assert score.breakdown["platform"]["mean_rating"] == pytest.approx(25 / 6, abs=1e-3)


def test_it_weighs_recent_reviews_more(settings):
    settings.SCORE_RECENCY_HALF_LIFE_DAYS = 180
    improving = InstructorFactory(slug="improving")
    course = teach(improving, [2] * 10, age_days=900)
    teach(improving, [5] * 10, course=course, age_days=5)
    declining = InstructorFactory(slug="declining")
    course = teach(declining, [5] * 10, age_days=900)
    teach(declining, [2] * 10, course=course, age_days=5)

    scores_recompute()
    scores = scores_by_slug()

    assert scores["improving"].rank == 1
    assert scores["improving"].learner > scores["declining"].learner


def test_it_counts_only_public_signals_of_the_current_run():
    burdened = InstructorFactory(slug="burdened")
    course = teach(burdened, [2] * 10)
    clean = InstructorFactory(slug="clean")
    teach(clean, [2] * 10)
    reviews = list(Review.objects.filter(course=course).order_by("pk"))
    current = signal_data.run()
    confirmed = signal_data.definition("toy-examples")
    candidate = signal_data.definition("audio", status=SignalDefinition.Status.DISCOVERED)
    signal_data.cluster(current, confirmed, reviews=reviews[:4])
    signal_data.cluster(current, candidate, reviews=reviews[4:8])  # not confirmed: does not count
    old = signal_data.run(current=False)
    signal_data.cluster(old, confirmed, reviews=reviews[8:])  # an old run: does not count

    scores_recompute()
    scores = scores_by_slug()

    burden = scores["burdened"].breakdown["signal_burden"]
    assert burden["flagged"] == 4
    assert scores["burdened"].signal_burden > scores["clean"].signal_burden
    assert scores["burdened"].breakdown["top_signals"][0]["key"] == "toy-examples"
    assert scores["clean"].breakdown["top_signals"] == []
    assert scores["clean"].rank == 1  # same ratings, fewer failure signals


def test_it_keeps_the_signal_burden_neutral_before_any_run():
    instructor = InstructorFactory()
    teach(instructor, [4] * 5)
    score = scores_recompute()[0]
    assert score.signal_burden is None
    assert score.breakdown["signal_burden"]["neutral"] is True
    assert score.breakdown["components"]["signal_burden"] == 0.5


def test_it_ranks_courses_and_leaves_thin_courses_unranked():
    instructor = InstructorFactory()
    good = teach(instructor, [5, 4, 5, 5, 5, 4])
    weak = teach(instructor, [2, 3, 2, 2, 3])
    thin = teach(instructor, [5])

    scores_recompute()
    ranks = {score.course_id: score.rank for score in CourseScore.objects.all()}

    assert ranks == {good.pk: 1, weak.pk: 2, thin.pk: None}


def test_it_recomputes_with_the_same_queries_for_5_and_50_instructors(django_assert_max_num_queries):
    build_cohort(5)
    with django_assert_max_num_queries(20) as small:
        scores_recompute()
    build_cohort_extra(45)
    with django_assert_max_num_queries(20) as large:
        scores_recompute()
    assert len(large.captured_queries) == len(small.captured_queries)
    assert InstructorScore.objects.count() == 50


def build_cohort_extra(size: int):
    for _ in range(size):
        instructor = InstructorFactory()
        teach(instructor, [4] * 3)
        evidence(instructor)


# --- Ranking pages ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [5, 50])
def test_it_renders_the_ranking_page_in_a_constant_number_of_queries(client, django_assert_num_queries, size):
    build_cohort(size)
    url = reverse("rankings-instructors")
    # Cold: score version, count, rows, tags, providers. Warm (cached until the next recompute): none.
    with django_assert_num_queries(5):
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count('name="instructors"') == min(size, 50)
    with django_assert_num_queries(0):
        assert client.get(url).status_code == 200
    # A logged-in visitor gets the page around the same cached table (plus the session, the user and the
    # header's unread-notification count).
    client.force_login(StaffUserFactory())
    with django_assert_num_queries(3):
        assert "teacher-0" in client.get(url).content.decode()


@pytest.mark.parametrize("size", [5, 50])
def test_it_renders_the_course_ranking_page_in_a_constant_number_of_queries(
    client, django_assert_num_queries, size
):
    build_cohort(size)
    with django_assert_num_queries(6):  # version, count, rows, their instructors, tags, providers
        response = client.get(reverse("rankings-courses"))
    assert response.status_code == 200


@pytest.mark.parametrize("size", [5, 50])
def test_it_answers_the_ranking_api_in_a_constant_number_of_queries(client, django_assert_num_queries, size):
    build_cohort(size)
    with django_assert_num_queries(3):  # score version, count, page of rows
        response = client.get(reverse("api-rankings-instructors"))
    assert response.status_code == 200
    assert response.json()["count"] == size
    with django_assert_num_queries(0):  # the same page again, until the next recompute
        assert client.get(reverse("api-rankings-instructors")).json() == response.json()
    with django_assert_num_queries(2):
        assert client.get(reverse("api-rankings-courses")).status_code == 200


def test_it_serves_every_anonymous_visitor_the_same_cached_page_with_a_working_language_switch():
    build_cohort(3)
    url = reverse("rankings-instructors")
    pages = []
    for _visitor in range(2):  # the second visitor is served the cached page
        visitor = Client(enforce_csrf_checks=True)
        response = visitor.get(url)
        pages.append(response.content)
        assert settings.CSRF_COOKIE_NAME not in response.cookies  # no per-visitor secret to hand out
        switched = visitor.post(reverse("set_language"), {"language": "en", "next": url})
        assert switched.status_code == 302 and switched.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert pages[0] == pages[1] and b"csrfmiddlewaretoken" not in pages[0]


def test_it_makes_no_cache_entries_for_unknown_query_parameters_and_keeps_them_out_of_the_page(page_entries):
    build_cohort(3)
    url = reverse("rankings-instructors")
    bodies = {Client().get(url, {"utm": str(n)}).content for n in range(5)}
    assert len(page_entries) == 1
    assert len(bodies) == 1 and b"utm" not in next(iter(bodies))
    Client().get(url, {"sort": "reviews", "utm": "6"})
    assert len(page_entries) == 2  # a filter the page understands is a page of its own


def test_it_answers_an_unlisted_tag_without_caching_it(client, page_entries):
    build_cohort(3)
    response = client.get(reverse("rankings-instructors"), {"tag": "no-such-topic"})
    assert response.status_code == 200 and page_entries == []


def test_it_lists_ranked_instructors_first_and_labels_thin_ones(client):
    ranked = InstructorFactory(name="Ranked Rita")
    teach(ranked, [4] * 8)
    thin = InstructorFactory(name="Thin Tom")
    teach(thin, [5])
    scores_recompute()

    html = client.get(reverse("rankings-instructors"), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert html.index("Ranked Rita") < html.index("Thin Tom")
    ranked_row = html[html.index("Ranked Rita") : html.index("Thin Tom")]
    assert ranked_row.count('class="thin-badge"') == 0
    assert html[html.index("Thin Tom") :].count('class="thin-badge">Not enough data<') == 1
    assert html.count('class="is-thin"') == 1


def test_it_filters_the_ranking_by_topic_and_provider(client):
    go = TagFactory(name="go", slug="go")
    rust = TagFactory(name="rust", slug="rust")
    gopher = InstructorFactory(name="Gopher Gao")
    teach(gopher, [4] * 5, course=CourseFactory(instructors=[gopher], tags=[go], provider="慕课网"))
    crab = InstructorFactory(name="Crab Chen")
    teach(crab, [4] * 5, course=CourseFactory(instructors=[crab], tags=[rust], provider="Udemy"))
    scores_recompute()
    url = reverse("rankings-instructors")

    by_tag = client.get(url, {"tag": "go"}).content.decode()
    by_provider = client.get(url, {"provider": "Udemy"}).content.decode()

    assert "Gopher Gao" in by_tag and "Crab Chen" not in by_tag
    assert "Crab Chen" in by_provider and "Gopher Gao" not in by_provider


def test_it_sorts_the_ranking_by_reviews(client):
    many = InstructorFactory(name="Many Reviews")
    teach(many, [3] * 30)
    best = InstructorFactory(name="Best Rated")
    teach(best, [5] * 6)
    scores_recompute()

    html = client.get(reverse("rankings-instructors"), {"sort": "reviews"}).content.decode()
    assert html.index("Many Reviews") < html.index("Best Rated")
    default = client.get(reverse("rankings-instructors"), {"sort": "bogus"}).content.decode()
    assert default.index("Best Rated") < default.index("Many Reviews")


def test_it_shows_fresh_scores_after_a_recompute(client, django_capture_on_commit_callbacks):
    instructor = InstructorFactory(name="Early Bird")
    teach(instructor, [4] * 5)
    scores_recompute()
    client.get(reverse("rankings-instructors"))
    late = InstructorFactory(name="Late Comer")
    teach(late, [5] * 5)
    with django_capture_on_commit_callbacks(execute=True):  # as in production: published when committed
        scores_recompute()

    assert "Late Comer" in client.get(reverse("rankings-instructors")).content.decode()


def test_it_escapes_instructor_names_on_the_ranking_page(client):
    sneaky = InstructorFactory(name="<script>alert(1)</script>")
    teach(sneaky, [4] * 5)
    scores_recompute()
    html = client.get(reverse("rankings-instructors")).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_it_explains_an_empty_ranking(client):
    response = client.get(reverse("rankings-instructors"))
    assert response.status_code == 200
    assert "rank_instructors" in response.content.decode()


def test_it_returns_ranking_rows_with_rank_score_and_components(client):
    star = InstructorFactory(slug="star", github_login="star")
    teach(star, [5] * 8)
    evidence(star)
    thin = InstructorFactory(slug="thin")
    teach(thin, [2])
    scores_recompute()

    rows = client.get(reverse("api-rankings-instructors")).json()["results"]

    assert [row["slug"] for row in rows] == ["star", "thin"]
    assert rows[0]["rank"] == 1 and rows[0]["enough_data"] is True
    assert set(rows[0]["components"]) == {"learner", "evidence", "signal_burden"}
    assert rows[0]["has_github_evidence"] is True
    assert rows[1]["rank"] is None and rows[1]["enough_data"] is False
    assert 0 < rows[0]["total"] <= 100


def test_it_rejects_an_unknown_ranking_sort_in_the_api(client):
    response = client.get(reverse("api-rankings-instructors"), {"sort": "luck"})
    assert response.status_code == 400
    assert "sort" in response.json()


def test_it_lists_the_rankings_in_the_openapi_schema(client):
    schema = client.get(reverse("schema"), HTTP_ACCEPT="application/json").content.decode()
    assert "/api/rankings/instructors/" in schema and "/api/rankings/courses/" in schema
    assert "InstructorRanking" in schema and "CourseRanking" in schema


def test_it_writes_json_rows_from_the_rank_instructors_command(tmp_path, capsys):
    instructor = InstructorFactory(slug="json-star", name="JSON Star")
    teach(instructor, [5] * 6)
    out = tmp_path / "ranking.json"

    call_command("rank_instructors", "--json", str(out))

    rows = json.loads(out.read_text(encoding="utf-8"))
    assert rows[0]["rank"] == 1
    assert rows[0]["slug"] == "json-star"
    assert {"rank", "slug", "name", "total", "components", "review_count", "enough_data"} <= set(rows[0])
    assert "JSON Star (json-star)" in capsys.readouterr().out


def test_it_shows_the_weights_from_settings_on_how_we_rank(client, settings):
    settings.SCORE_WEIGHTS = {"learner": 0.6, "evidence": 0.3, "signal_burden": 0.1}
    settings.SCORE_MIN_REVIEWS = 7
    html = client.get(reverse("how-we-rank")).content.decode()
    assert "60%" in html and "10%" in html
    assert "7" in html


# --- Partials -----------------------------------------------------------------------------------------------


def render_evidence(instructor, user=None):
    with translation.override("en"):
        return render_to_string(
            "analytics/partials/instructor_evidence.html",
            {"instructor": instructor, "user": user or AnonymousUser()},
        )


def test_it_shows_the_instructor_breakdown_radar_and_github_card():
    ada, _bob = two_scored()
    html = render_evidence(ada)
    assert 'id="instructor-radar-' in html
    assert "gocache" in html and "4000" in html
    assert "Rank 1 of 2 instructors" in html


def test_it_labels_not_enough_data_and_missing_github_on_an_instructor():
    quiet = InstructorFactory(name="Quiet", github_login=None)
    teach(quiet, [4])
    scores_recompute()
    html = render_evidence(quiet)
    assert "Not enough data" in html
    assert "No GitHub account linked" in html


def test_it_shows_the_last_failed_evidence_refresh_to_staff_only():
    ada, _bob = two_scored()
    EvidenceSnapshot.objects.create(
        instructor=ada,
        fetched_at=timezone.now() + timedelta(minutes=1),
        status=EvidenceSnapshot.Status.FAILED,
        error="GitHub rate limit reached: rate limited until 2030-03-17 17:46:40 UTC",
    )
    assert "rate limit was reached; refresh again after 2030-03-17 17:46 UTC" in render_evidence(
        ada, StaffUserFactory()
    )
    assert "rate limit" not in render_evidence(ada)
    assert "gocache" in render_evidence(ada)  # the last good evidence is still shown


def test_it_lists_top_instructors_and_courses_on_the_home_page():
    two_scored()
    with translation.override("en"):
        html = render_to_string("analytics/partials/home_rankings.html", {})
    assert html.index("Ada") < html.index("Bob")
    assert reverse("rankings-instructors") in html and reverse("rankings-courses") in html


# --- Recompute scheduling -----------------------------------------------------------------------------------


def test_it_queues_one_recompute_for_a_burst_of_changes(monkeypatch, django_capture_on_commit_callbacks):
    from analytics import tasks

    sent = []
    monkeypatch.setattr(tasks.recompute_scores, "apply_async", lambda countdown=0: sent.append(countdown))
    with django_capture_on_commit_callbacks(execute=True):
        for _change in range(3):
            scores_recompute_soon()
    assert sent == [30]

    instructor = InstructorFactory()
    teach(instructor, [4] * 5)
    assert tasks.recompute_scores() == 1  # the task itself: recomputes and lets the next change queue again
    with django_capture_on_commit_callbacks(execute=True):
        scores_recompute_soon()
    assert sent == [30, 30]


def test_it_answers_healthz_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.content == b"ok"


# --- Unknown is not zero; figures say when they lean on the platform average -------------------------------


def test_it_does_not_rank_three_lucky_reviews_with_github_above_fifty_without(client):
    lucky = InstructorFactory(slug="lucky", name="Lucky", github_login="lucky")
    teach(lucky, [5, 5, 5])
    evidence(lucky, {"go_repos": 1, "go_stars": 3, "followers": 2, "months_since_activity": 20})
    steady = InstructorFactory(slug="steady", name="Steady")
    teach(steady, [5] * 30 + [4] * 18)
    known = InstructorFactory(slug="known", name="Known", github_login="known")
    teach(known, [2] * 20)
    evidence(known)
    scores_recompute()

    scores = scores_by_slug()
    assert scores["steady"].evidence == 0.5  # no linked account: the stated prior, not 0
    assert scores["steady"].rank < scores["lucky"].rank

    html = client.get(
        reverse("instructor-detail", args=["steady"]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "No GitHub account linked yet: unknown, not zero" in html
    assert "counts as 50" in html


def test_it_says_when_few_reviews_pull_a_figure_towards_the_platform_average(client):
    teach(InstructorFactory(slug="few", name="Few"), [5, 5, 4])
    teach(InstructorFactory(slug="many", name="Many"), [5, 4, 3] * 16)
    scores_recompute()

    def page(slug):
        return client.get(
            reverse("instructor-detail", args=[slug]), HTTP_ACCEPT_LANGUAGE="en"
        ).content.decode()

    assert "Pulled towards the platform average" in page("few")
    many = page("many")
    assert "48 reviews average 4.00★" in many
    assert "Pulled towards the platform average" not in many
