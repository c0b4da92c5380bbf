"""Input no form would send (NUL characters, JSON nested thousands deep, oversized bodies, forged forms) gets
a clear 4xx in the site's language, never a 500, through the whole middleware stack."""

import base64
import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from courselens import throttling
from tests.factories import DEFAULT_PASSWORD, CourseFactory, UserFactory

pytestmark = pytest.mark.django_db

NUL_URLS = [
    "/courses/%00/",
    "/instructors/%00/",
    "/api/courses/%00/",
    "/api/instructors/%00/",
    "/rankings/instructors/?tag=%00",
    "/rankings/instructors/?provider=%00",
    "/rankings/courses/?tag=%00",
    "/rankings/courses/?provider=%00",
    "/compare/?instructors=%00,a",
    "/courses/%00/review/",
    "/api/reviews/?course=%00",
    "/admin/reviews/review/?status=%00",
]


@pytest.fixture
def browser():
    return Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="zh-hans")


@pytest.mark.parametrize("url", NUL_URLS)
def test_it_answers_400_to_a_nul_in_the_address(browser, admin_user, url):
    browser.force_login(admin_user)
    response = browser.get(url)
    assert response.status_code == 400
    if url.startswith("/api/"):
        assert "NUL" in response.json()["detail"]
    else:
        assert "请求有误" in response.content.decode()


def _api(user=None) -> APIClient:
    client = APIClient(raise_request_exception=False)
    if user is not None:
        client.force_authenticate(user)
    return client


def test_it_refuses_a_nul_in_a_json_body_with_400():
    course = CourseFactory()
    response = _api(UserFactory()).post(
        "/api/reviews/", {"course": course.slug + "\x00", "rating": 3, "text": "好"}, format="json"
    )
    assert response.status_code == 400
    assert "NUL" in response.json()["course"][0]


def test_it_refuses_json_nested_thousands_deep_with_a_json_400():
    body = '{"course": "x", "rating": 3, "text": ' + "[" * 5000 + "]" * 5000 + "}"
    response = _api(UserFactory()).post("/api/reviews/", body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "嵌套层数过多" in response.json()["detail"]


def test_basic_auth_with_a_nul_in_the_username_is_a_counted_failure(rates):
    client = APIClient(raise_request_exception=False)
    token = base64.b64encode(b"adm\x00in:whatever").decode()
    statuses = {
        client.get("/api/reviews/", HTTP_AUTHORIZATION=f"Basic {token}").status_code for _ in range(3)
    }
    assert statuses <= {401, 403}
    assert throttling.login_blocked(None, "adm\x00in") is not None  # 3 failures ≥ the test limit of 3


@pytest.fixture
def rates(settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "login.username": "3/15min", "login.ip": "3/15min"}


def test_a_server_error_under_the_api_is_json(monkeypatch):
    from reviews import api

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(api.CourseViewSet, "list", broken)
    response = _api().get("/api/courses/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]


def test_an_oversized_body_gets_the_sites_page_in_chinese(browser, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = browser.post("/accounts/login/", {"username": "x" * 5000, "password": "y"})
    assert response.status_code == 400
    assert "请求有误" in response.content.decode()


def test_an_oversized_api_body_gets_json(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"course": "x", "rating": 3, "text": "长" * 5000})
    response = _api(UserFactory()).post("/api/reviews/", body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"


def test_a_forged_form_gets_the_sites_csrf_page_in_chinese():
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="zh-hans")
    response = client.post("/accounts/login/", {"username": "someone", "password": DEFAULT_PASSWORD})
    assert response.status_code == 403
    page = response.content.decode()
    assert "无法验证这个表单" in page and "CSRF verification failed" not in page


@pytest.mark.parametrize("text", ["\u200b", "\u200b\u200c\u200d\ufeff", " \u2060 \u200b "])
def test_a_review_of_only_zero_width_characters_is_refused(text):
    course = CourseFactory()
    response = _api(UserFactory()).post(
        "/api/reviews/", {"course": course.slug, "rating": 5, "text": text}, format="json"
    )
    assert response.status_code == 400
    assert "text" in response.json()
    assert not course.reviews.exists()


@pytest.mark.parametrize(
    "parameters", [{"seed": 10**26}, {"lsa_sample": 10**12}, {"assign_threshold": 1e300}]
)
def test_run_parameters_out_of_bounds_are_refused_before_queueing(admin_user, parameters):
    from analytics.models import SignalRun

    response = _api(admin_user).post("/api/signal-runs/", {"parameters": parameters}, format="json")
    assert response.status_code == 400
    assert "parameters" in response.json()
    assert not SignalRun.objects.exists()


@pytest.mark.parametrize("lookalike", ["dеmo", "Dеmo", "аdmin"])  # Cyrillic е / а
def test_signup_refuses_homoglyph_usernames(browser, lookalike):
    UserFactory(username="demo")
    response = browser.post(
        "/accounts/signup/",
        {"username": lookalike, "password1": "x9!kLm#2pQr", "password2": "x9!kLm#2pQr"},
    )
    assert response.status_code == 200  # the form again, with the error
    assert "看起来" in response.content.decode() or "不要混用" in response.content.decode()
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(username=lookalike).exists()


def test_signup_refuses_an_all_cyrillic_lookalike_of_an_existing_name(browser):
    UserFactory(username="coco")
    browser.post(
        "/accounts/signup/", {"username": "сосо", "password1": "x9!kLm#2pQr", "password2": "x9!kLm#2pQr"}
    )
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(username="сосо").exists()


def test_the_html_review_delete_is_throttled(settings):
    from tests.factories import ReviewFactory

    settings.THROTTLE_RATES = {
        **settings.THROTTLE_RATES,
        "review_edit.user": "2/hour",
        "review_edit.ip": "2/hour",
    }
    author = UserFactory()
    client = Client(raise_request_exception=False)
    client.force_login(author)
    statuses = [
        client.post(f"/reviews/{ReviewFactory(author=author).pk}/delete/").status_code for _ in range(3)
    ]
    assert statuses == [302, 302, 429]


def test_the_signup_page_says_everything_about_a_short_password_in_chinese(browser):
    page = browser.post("/accounts/signup/", {"username": "abc", "password1": "1x", "password2": "1x"})
    text = page.content.decode()
    assert "密码太短，至少需要 8 个字符。" in text
    assert "too short" not in text


@pytest.mark.parametrize("query", ["rating=0.5", "rating=abc", "mine=-58800", "mine=maybe"])
def test_the_review_list_refuses_filter_values_it_cannot_read(query):
    response = _api().get(f"/api/reviews/?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"


def test_an_api_address_no_route_matches_gets_a_json_404():
    response = _api().get("/api/reviews/0.5/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_the_schema_documents_unicode_slugs_and_the_errors_every_operation_can_give(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    assert r"^[-\w]+$" not in json.dumps(schema)
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            assert {"400", "403", "404", "429"} <= set(operation["responses"]), (method, path)
