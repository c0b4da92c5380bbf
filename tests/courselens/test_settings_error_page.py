"""With DEBUG off an unexpected error shows the friendly 500 page, never a traceback, and is logged."""

import logging

import pytest
from django.test import Client
from django.urls import path

import courselens.urls


def broken_view(request):
    raise RuntimeError("secret-internal-detail: the database password is hunter2")


# This module doubles as the URLconf of its tests: the real site plus one view that fails.
urlpatterns = [path("broken/", broken_view), *courselens.urls.urlpatterns]
handler500 = getattr(courselens.urls, "handler500", "django.views.defaults.server_error")


@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_it_shows_a_friendly_page_without_a_traceback_and_logs_the_error(settings, caplog):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)

    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get("/broken/")

    assert response.status_code == 500
    assert "500.html" in [template.name for template in response.templates]
    page = response.content.decode()
    assert 'href="/"' in page  # a way back to the site
    assert "Traceback" not in page
    assert "secret-internal-detail" not in page
    assert "RuntimeError" not in page
    logged = [record for record in caplog.records if record.name == "django.request"]
    assert logged and logged[0].levelno == logging.ERROR
    assert logged[0].exc_info[0] is RuntimeError
