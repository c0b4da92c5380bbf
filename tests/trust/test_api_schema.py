"""Schemathesis against /api/schema/, in process: generated requests to every operation, reads and
authenticated writes, never get a 5xx, and every documented response matches the schema."""

import base64
import json

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

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


schema = schemathesis.openapi.from_dict(_openapi_document())
schema.app = _SiteUnderTest()


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
def staff_auth(db) -> dict[str, str]:
    """Staff can call every operation, the learner ones and the staff-only ones."""
    user = StaffUserFactory(username="schema-staff")
    token = base64.b64encode(f"{user.username}:{DEFAULT_PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_it_answers_every_operation_within_its_schema(case, catalog, staff_auth):
    case.call_and_validate(
        headers=staff_auth,
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
