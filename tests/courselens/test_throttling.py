"""Rate limits: 429 with Retry-After on review writes, votes, reports and log-in; keyed on the real client
behind trusted proxies; shared by every process through Redis; never a reason to fail while the cache is down.
"""

import logging
import os
import subprocess
import sys
import uuid

import pytest
from django.conf import settings as django_settings
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from courselens import throttling
from courselens.resilience import ResilientRedisCache
from reviews.models import Review, ReviewReport, ReviewVote
from tests.factories import DEFAULT_PASSWORD, CourseFactory, ReviewFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    """Set a few rates low, keeping the others."""

    def set_rates(**overrides: str) -> None:
        settings.THROTTLE_RATES = {
            **django_settings.THROTTLE_RATES,
            **{key.replace("__", "."): value for key, value in overrides.items()},
        }

    return set_rates


def api_as(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def assert_throttled(response) -> int:
    assert response.status_code == 429, response.content[:300]
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 3600
    return retry_after


# --- Reviews, votes, reports -------------------------------------------------------------------------------


def test_it_limits_review_submissions_through_the_api(rates):
    rates(review_submit__user="2/hour")
    client = api_as(UserFactory())
    courses = CourseFactory.create_batch(3)

    statuses = [
        client.post("/api/reviews/", {"course": c.slug, "rating": 4, "text": f"第{i}门课不错"}, format="json")
        for i, c in enumerate(courses)
    ]

    assert [r.status_code for r in statuses[:2]] == [201, 201]
    retry_after = assert_throttled(statuses[2])
    assert f"{retry_after} seconds" in statuses[2].json()["detail"]
    assert Review.objects.count() == 2


def test_it_limits_review_submissions_through_the_form(client, rates):
    rates(review_submit__user="1/hour")
    client.force_login(UserFactory())
    first, second = CourseFactory.create_batch(2)
    form = {"rating": "4", "text": "channel 讲得清楚"}

    assert client.post(reverse("review-create", args=[first.slug]), form).status_code == 302
    response = client.post(reverse("review-create", args=[second.slug]), form)

    assert_throttled(response)
    assert "429.html" in [t.name for t in response.templates]
    assert Review.objects.count() == 1


def test_it_counts_a_client_address_across_accounts(rates):
    """Fresh accounts from one address do not get fresh allowances."""
    rates(review_submit__ip="2/hour")
    course_slugs = [c.slug for c in CourseFactory.create_batch(3)]
    responses = [
        api_as(UserFactory()).post(
            "/api/reviews/", {"course": slug, "rating": 3, "text": "节奏有点快"}, format="json"
        )
        for slug in course_slugs
    ]
    assert [r.status_code for r in responses[:2]] == [201, 201]
    assert_throttled(responses[2])


def test_it_limits_helpful_votes_in_the_api_and_the_page(client, rates):
    rates(review_vote__user="2/10min")
    voter = UserFactory()
    reviews = ReviewFactory.create_batch(4)
    api = api_as(voter)

    assert api.post(f"/api/reviews/{reviews[0].pk}/helpful/").status_code == 200
    assert api.post(f"/api/reviews/{reviews[1].pk}/helpful/").status_code == 200
    assert_throttled(api.post(f"/api/reviews/{reviews[2].pk}/helpful/"))
    client.force_login(voter)
    assert_throttled(client.post(reverse("review-vote", args=[reviews[3].pk])))
    assert ReviewVote.objects.filter(user=voter).count() == 2


def test_it_limits_reports_in_the_api_and_the_page(client, rates):
    rates(review_report__user="1/hour")
    reporter = UserFactory()
    first, second = ReviewFactory.create_batch(2)

    assert api_as(reporter).post(f"/api/reviews/{first.pk}/report/", {"reason": "spam"}).status_code == 201
    client.force_login(reporter)
    assert_throttled(client.post(reverse("review-report", args=[second.pk]), {"reason": "spam"}))
    assert ReviewReport.objects.count() == 1


def test_it_ships_a_limit_for_every_write_a_learner_can_repeat():
    for scope in ("review_submit", "review_edit", "review_vote", "review_report"):
        assert throttling.rate_for(scope, "user") and throttling.rate_for(scope, "ip")
    assert throttling.rate_for("login", "ip") and throttling.rate_for("login", "username")
    assert throttling.rate_for("signup", "ip")


# --- Log-in ------------------------------------------------------------------------------------------------


def test_it_slows_down_log_in_guessing_and_logs_failures_without_the_password(client, rates, caplog):
    rates(login__username="3/15min")
    UserFactory(username="alice")
    url = reverse("login")

    with caplog.at_level(logging.WARNING, logger="courselens.security"):
        for attempt in range(3):
            response = client.post(url, {"username": "alice", "password": f"guess-{attempt}-secret"})
            assert response.status_code == 200  # the form again, with an error
    blocked = client.post(url, {"username": "alice", "password": DEFAULT_PASSWORD})

    assert_throttled(blocked)
    assert "_auth_user_id" not in client.session  # not even the right password gets in while locked out
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert logged.count("login failed for username='alice'") == 3
    assert "secret" not in logged and "guess" not in logged


def test_it_slows_down_basic_auth_guessing_on_the_api(rates):
    rates(login__username="2/15min")
    UserFactory(username="bob")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic " + _basic("bob", "wrong"))
    course = CourseFactory()
    body = {"course": course.slug, "rating": 4, "text": "好课"}

    assert client.post("/api/reviews/", body, format="json").status_code in (401, 403)
    assert client.post("/api/reviews/", body, format="json").status_code in (401, 403)
    client.credentials(HTTP_AUTHORIZATION="Basic " + _basic("bob", DEFAULT_PASSWORD))
    assert_throttled(client.post("/api/reviews/", body, format="json"))
    assert Review.objects.count() == 0


def test_it_lets_a_learner_log_in_normally(client):
    UserFactory(username="carol")
    response = client.post(reverse("login"), {"username": "carol", "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"]


def _basic(username: str, password: str) -> str:
    import base64

    return base64.b64encode(f"{username}:{password}".encode()).decode()


# --- Client address behind proxies -------------------------------------------------------------------------


def test_it_gives_a_client_rotating_x_forwarded_for_no_fresh_allowance(client, rates, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    rates(login__ip="3/15min")
    url = reverse("login")

    def attempt(forwarded_for: str):
        # A new username each time: only the address can tie the attempts together.
        body = {"username": f"user-{uuid.uuid4().hex[:8]}", "password": "nope"}
        return client.post(url, body, HTTP_X_FORWARDED_FOR=forwarded_for, REMOTE_ADDR="10.0.0.2")

    for i in range(3):
        assert attempt(f"198.51.100.{i}, 203.0.113.9").status_code == 200
    assert_throttled(attempt("198.51.100.77, 203.0.113.9"))
    assert_throttled(attempt("203.0.113.9"))
    # Another real client behind the same proxy still has its own allowance.
    assert attempt("198.51.100.1, 203.0.113.10").status_code == 200


@pytest.mark.parametrize(
    ("proxies", "forwarded", "remote", "expected"),
    [
        (0, "1.1.1.1", "10.0.0.2", "10.0.0.2"),  # no trusted proxy: the header is the client's own words
        (1, "1.1.1.1, 203.0.113.9", "10.0.0.2", "203.0.113.9"),
        (2, "1.1.1.1, 203.0.113.9, 10.0.0.3", "10.0.0.2", "203.0.113.9"),
        (2, "203.0.113.9", "10.0.0.2", "203.0.113.9"),  # fewer entries than proxies
        (1, "", "10.0.0.2", "10.0.0.2"),  # came around the proxy
        (1, "not-an-address", "10.0.0.2", "10.0.0.2"),
        (1, "2001:db8:1:2:3:4:5:6", "10.0.0.2", "2001:db8:1:2::/64"),  # one IPv6 subscriber block
        (0, "", "::ffff:192.0.2.1", "192.0.2.1"),
    ],
)
def test_it_finds_the_client_address(settings, proxies, forwarded, remote, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=remote)
    assert throttling.client_ip(request) == expected


# --- Shared counters, cache outages ------------------------------------------------------------------------


@pytest.mark.redis
def test_it_shares_the_count_between_processes_through_redis(redis_url, settings, monkeypatch):
    settings.THROTTLE_RATES = {"review_submit.ip": "3/hour"}
    prefix = f"throttle-shared-{uuid.uuid4().hex}"
    settings.THROTTLE_CACHE_PREFIX = prefix
    other_process = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup()\n"
            "from django.conf import settings\n"
            f"settings.THROTTLE_CACHE_PREFIX = {prefix!r}\n"
            "settings.THROTTLE_RATES = {'review_submit.ip': '3/hour'}\n"
            "from courselens import throttling\n"
            "print([throttling.hit('review_submit', {'ip': '198.51.100.7'}) for _ in range(3)])\n",
        ],
        env={**os.environ, "REDIS_URL": redis_url, "DJANGO_SETTINGS_MODULE": "courselens.settings"},
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert other_process.returncode == 0, other_process.stderr
    assert other_process.stdout.strip() == "[None, None, None]"
    # This process has its own connection to the same Redis: the fourth request is over the limit.
    monkeypatch.setattr(throttling, "cache", ResilientRedisCache(redis_url, {"KEY_PREFIX": "courselens"}))

    assert throttling.hit("review_submit", {"ip": "198.51.100.7"})
    assert throttling.hit("review_submit", {"ip": "198.51.100.8"}) is None


@pytest.fixture
def redis_down(monkeypatch):
    # Nothing listens on this port: every cache call fails to connect.
    monkeypatch.setattr(throttling, "cache", ResilientRedisCache("redis://127.0.0.1:1/0", {}))
    throttling._local_counters.clear()


def test_it_lets_writes_through_while_the_cache_is_down_within_a_local_limit(rates, redis_down):
    rates(review_submit__user="2/hour")
    client = api_as(UserFactory())
    statuses = [
        client.post(
            "/api/reviews/", {"course": course.slug, "rating": 4, "text": "好"}, format="json"
        ).status_code
        for course in CourseFactory.create_batch(3)
    ]
    assert statuses == [201, 201, 429]


def test_it_keeps_slowing_down_password_guessing_while_the_cache_is_down(client, rates, redis_down):
    rates(login__ip_username="3/15min")
    UserFactory(username="dave")
    for attempt in range(3):
        assert (
            client.post(reverse("login"), {"username": "dave", "password": f"guess{attempt}"}).status_code
            == 200
        )
    assert_throttled(client.post(reverse("login"), {"username": "dave", "password": DEFAULT_PASSWORD}))


def test_a_sliding_window_allows_no_double_burst_across_a_boundary(rates):
    rates(review_submit__ip="3/min")
    keys = {"ip": "203.0.113.9"}
    assert [throttling.hit("review_submit", keys, now=119.0) for _ in range(3)] == [None, None, None]
    # One second later a new fixed window has begun, but the last minute already holds three requests.
    assert throttling.hit("review_submit", keys, now=120.5) is not None
    # A whole period after the burst the allowance is back.
    assert throttling.hit("review_submit", keys, now=180.0 + 119.5) is None


def test_it_throttles_reads_of_pages_and_the_api(client, rates):
    rates(read__ip="5/min")
    ReviewFactory()
    statuses = [client.get(url).status_code for url in ["/api/reviews/", "/", "/courses/"] * 2]
    assert statuses == [200] * 5 + [429]
    refused = client.get("/api/reviews/")
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1


# --- Lock-out without a denial of service ------------------------------------------------------------------


def _login(client, username: str, password: str, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def test_guessing_from_one_address_does_not_lock_the_owner_out_elsewhere(client, rates):
    rates(login__ip_username="3/15min", login__username="30/15min")
    UserFactory(username="erin")
    for attempt in range(3):
        _login(client, "erin", f"guess{attempt}", REMOTE_ADDR="198.51.100.66")
    assert_throttled(_login(client, "erin", DEFAULT_PASSWORD, REMOTE_ADDR="198.51.100.66"))
    owner = _login(client.__class__(), "erin", DEFAULT_PASSWORD, REMOTE_ADDR="192.0.2.10")
    assert owner.status_code == 302


def test_a_browser_that_logged_in_before_is_not_locked_out_by_distributed_guessing(client, rates):
    rates(login__ip_username="5/15min", login__username="3/15min")
    UserFactory(username="admin")
    owner = client.__class__()
    assert _login(owner, "admin", DEFAULT_PASSWORD).status_code == 302
    owner.post(reverse("logout"))
    for attempt, address in enumerate(["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"]):
        _login(client, "admin", f"guess{attempt}", REMOTE_ADDR=address)

    stranger = client.__class__()
    assert_throttled(_login(stranger, "admin", DEFAULT_PASSWORD, REMOTE_ADDR="192.0.2.77"))
    assert _login(owner, "admin", DEFAULT_PASSWORD).status_code == 302  # the owner's browser gets in


def test_a_forged_known_device_cookie_is_ignored(client, rates):
    rates(login__ip_username="5/15min", login__username="2/15min")
    UserFactory(username="frank")
    for attempt in range(2):
        _login(client, "frank", f"guess{attempt}", REMOTE_ADDR=f"198.51.100.{attempt + 10}")
    client.cookies[throttling.KNOWN_DEVICE_COOKIE] = "frank"
    assert_throttled(_login(client, "frank", DEFAULT_PASSWORD))


def test_the_admin_log_in_says_the_account_is_locked_out(client, rates, admin_user):
    rates(login__ip_username="2/15min")
    for attempt in range(2):
        client.post("/admin/login/", {"username": admin_user.username, "password": f"guess{attempt}"})
    response = client.post(
        "/admin/login/",
        {"username": admin_user.username, "password": "password"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session
