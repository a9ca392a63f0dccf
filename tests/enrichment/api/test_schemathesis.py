"""Property-based fuzzing of the whole API from its own OpenAPI schema (schemathesis).

In process through the WSGI application, with a valid token, positive and
negative data for every operation: no 5xx, and every response conforms to the
schema (status code documented, content type, body schema, headers). Bounded:
a few dozen examples per operation and mode, no deadline, no example database.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
MAX_EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "50"))


@pytest.fixture
def unthrottled(settings):
    settings.API_THROTTLE_RATE = "off"


@pytest.fixture
def wsgi_app():
    """The WSGI application, called in this thread inside the test's transaction:
    like Django's test client, stop requests from closing the connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_fuzz(demo, full_token, unthrottled, wsgi_app, mode):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)
    headers = {"Authorization": f"Bearer {full_token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    skipped: list[str] = []
    for operation in operations:

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=not os.environ.get("API_FUZZ_RANDOM"),
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case):
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            run()
        except Unsatisfiable:
            # Nothing invalid can be generated for an operation without inputs (/healthz).
            assert mode == GenerationMode.NEGATIVE, operation.label
            skipped.append(operation.label)
    assert len(skipped) <= 2, skipped
