"""/healthz and /readyz, JSON errors outside DRF, the OpenAPI schema and the self-hosted Swagger UI."""

from __future__ import annotations

import pytest
import yaml
from django.test import Client

from tests.enrichment.api.helpers import assert_error

pytestmark = pytest.mark.django_db


def test_healthz_ok(db):
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_degraded_not_failing_when_the_cache_is_down(db, settings):
    """Readiness in depth: tests/ops/test_health.py."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.1, "SOCKET_TIMEOUT": 0.1},
        },
    }
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["cache"] == "unreachable"


@pytest.mark.parametrize("path", ["/api/v1/nope/", "/api/v2/customers/", "/api/v1/customers/x/context/extra/", "/api/"])
def test_unknown_api_urls_are_json_404(db, path):
    assert_error(Client().get(path), 404, "not_found")


def test_unknown_api_url_is_json_in_debug_too(db, settings):
    settings.DEBUG = True
    assert_error(Client().get("/api/v1/nope/"), 404, "not_found")


def test_non_api_404_stays_html(db):
    response = Client().get("/definitely-not-here/")
    assert response.status_code == 404 and not response["Content-Type"].startswith("application/json")


def test_server_error_on_an_api_path_is_json(db, settings):
    settings.ROOT_URLCONF = "tests.enrichment.api.crash_urls"
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/crash/")
    error = assert_error(response, 500, "server_error")
    assert "X-Request-ID" in error["message"] and response["X-Request-ID"]


def test_schema_is_openapi_3_with_bearer_auth(db):
    response = Client().get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Customer Context API"
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "cce_<prefix>_<secret>",
        "description": schema["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    paths = set(schema["paths"])
    assert {
        "/api/v1/customers/{customer_id}/context/",
        "/api/v1/customers/{customer_id}/context/prompt/",
        "/api/v1/customers/{customer_id}/context/summary/",
        "/api/v1/customers/{customer_id}/context/invalidate/",
        "/api/v1/context/",
        "/api/v1/contexts/batch/",
        "/api/v1/customers/",
        "/api/v1/events/",
    } <= paths
    prompt = schema["paths"]["/api/v1/customers/{customer_id}/context/prompt/"]["get"]["responses"]
    assert "text/plain" in prompt["200"]["content"] and "application/json" in prompt["404"]["content"]
    assert Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["openapi"].startswith("3.")


def test_swagger_ui_is_served_from_our_static_files(db):
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
    # WhiteNoise serves the assets without DEBUG and without collectstatic.
    asset = Client().get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert b"".join(asset.streaming_content)[:100]
