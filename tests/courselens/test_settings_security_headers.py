"""Every page carries the browser-side protections: CSP, referrer and permissions policies, no framing."""

import re

import pytest
from django.urls import reverse


@pytest.fixture
def home_response(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


@pytest.mark.django_db
def test_it_sends_a_content_security_policy_that_allows_only_local_scripts(home_response):
    csp = csp_directives(home_response.headers["Content-Security-Policy"])

    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert not any("unsafe-eval" in source for sources in csp.values() for source in sources)


@pytest.mark.django_db
def test_it_loads_every_script_and_stylesheet_from_its_own_origin(home_response):
    page = home_response.content.decode()

    assert "<script>" not in page  # inline scripts would be blocked by the policy
    scripts = re.findall(r'<script[^>]*\ssrc="([^"]+)"', page)
    stylesheets = re.findall(r'<link[^>]*rel="stylesheet"[^>]*\shref="([^"]+)"', page)
    assert stylesheets
    for url in scripts + stylesheets:
        assert url.startswith("/") and not url.startswith("//"), f"{url} is not served by CourseLens itself"


@pytest.mark.django_db
def test_it_sends_referrer_permissions_and_framing_policies(home_response):
    headers = home_response.headers

    assert headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "geolocation=()" in headers["Permissions-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
