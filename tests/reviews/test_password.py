"""Learners change their password, and reset a forgotten one through an e-mailed link, on the site's pages."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-much-better-passphrase-42"


@pytest.fixture
def client_zh(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    return client


def test_a_learner_changes_their_password(client_zh):
    user = UserFactory()
    client_zh.force_login(user)
    page = client_zh.get("/accounts/password/change/")
    assert page.status_code == 200 and "修改密码" in page.content.decode()
    response = client_zh.post(
        "/accounts/password/change/",
        {"old_password": DEFAULT_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert "密码已修改" in client_zh.get(response["Location"]).content.decode()
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_changing_the_password_needs_the_old_one_and_a_log_in(client_zh):
    assert client_zh.get("/accounts/password/change/").status_code == 302  # to the log-in page
    user = UserFactory()
    client_zh.force_login(user)
    response = client_zh.post(
        "/accounts/password/change/",
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_a_forgotten_password_is_reset_through_the_emailed_link(client_zh):
    user = UserFactory(email="learner@example.com")
    assert "忘记密码" in client_zh.get("/accounts/login/").content.decode()
    response = client_zh.post("/accounts/password/reset/", {"email": "learner@example.com"})
    assert response.status_code == 302
    assert "请查收邮件" in client_zh.get(response["Location"]).content.decode()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["learner@example.com"]
    link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(1)

    form = client_zh.get(link, follow=True)
    assert "设置新密码" in form.content.decode()
    done = client_zh.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    # The link works once.
    assert "无效" in client_zh.get(link, follow=True).content.decode()


def test_a_reset_for_an_unknown_address_reveals_nothing(client_zh):
    response = client_zh.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302 and mail.outbox == []


def test_signup_takes_an_optional_email_for_resets(client_zh):
    data = {
        "username": "newbie",
        "email": "newbie@example.com",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
    }
    assert client_zh.post("/accounts/signup/", data).status_code == 302
    assert get_user_model().objects.get(username="newbie").email == "newbie@example.com"
