"""Schemathesis against /api/schema/, in process, with every check (`--checks all`; schemathesis.toml at the
top of the repository is read here as by the command line): generated requests to every operation, reads
and authenticated writes, never get a 5xx, every response matches the schema in status, headers, content
type and body, schema-valid input is accepted and invalid input refused, and authentication is not
ignored. The full command-line run is in the README ("API schema checks")."""

import json

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks

from tests.factories import (
    DEFAULT_PASSWORD,
    CourseFactory,
    InstructorFactory,
    ReviewFactory,
    StaffUserFactory,
)


def _openapi_document() -> dict:
    """What GET /api/schema/ serves, built the same way (drf-spectacular), as a plain dict."""
    generator = SchemaGenerator()
    return json.loads(OpenApiJsonRenderer().render(generator.get_schema(request=None, public=True)))


class _SiteUnderTest:
    """The WSGI site, built at the first request so it runs under the test settings (plain HTTP)."""

    handler: WSGIHandler | None = None

    def __call__(self, environ, start_response):
        if self.handler is None:
            self.handler = WSGIHandler()
        return self.handler(environ, start_response)


load_all_checks()
ALL_CHECKS = CHECKS.get_all()

STAFF_USERNAME = "schema-staff"

schema = schemathesis.openapi.from_dict(_openapi_document())
schema.app = _SiteUnderTest()
# Given as the request's authentication (not as a plain header), so the auth checks know what to take away.
STAFF_AUTH = (STAFF_USERNAME, DEFAULT_PASSWORD)


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.THROTTLE_RATES = {}  # generated traffic is not abuse; the limits are tested elsewhere


@pytest.fixture(autouse=True)
def _keep_the_test_transaction():
    """Like Django's test client: the end of a request must not close the connection the test runs in."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def catalog(db):
    instructor = InstructorFactory(slug="schema-instructor")
    course = CourseFactory(slug="schema-course", instructors=[instructor])
    ReviewFactory.create_batch(3, course=course)
    return course


@pytest.fixture
def staff(db):
    """Staff can call every operation, the learner ones and the staff-only ones."""
    return StaffUserFactory(username=STAFF_USERNAME)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_it_answers_every_operation_within_its_schema(case, catalog, staff):
    case.call_and_validate(auth=STAFF_AUTH, checks=ALL_CHECKS)


def test_it_runs_every_check_schemathesis_has():
    names = {check.__name__ for check in ALL_CHECKS}
    assert {
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "positive_data_acceptance",
        "missing_required_header",
        "unsupported_method",
        "ignored_auth",
    } <= names
    assert all(
        schema.config.checks_config_for(operation=None, phase=None).get_by_name(name=name).enabled
        for name in names
    )


@pytest.mark.django_db
def test_the_generated_requests_reach_staff_only_operations_as_staff(staff):
    response = schema["/api/signals/"]["GET"].Case().call(auth=STAFF_AUTH)
    assert response.status_code == 200
