"""Helpers shared by the API tests."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

ACME = "customer_123"
HIDDEN_JSON_KEYS = {"mrr", "churn_risk", "churn_risk_level", "health_breakdown", "revenue"}


def client_for(token: str | None, *, keyword: str = "Bearer") -> APIClient:
    client = APIClient()
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"{keyword} {token}")
    return client


def assert_error(response, status: int, code: str) -> dict:
    """The response is the API's JSON error shape with this status and code."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def all_keys(value: Any) -> set[str]:
    """Every dict key anywhere in a JSON value."""
    if isinstance(value, dict):
        return set(value) | {k for item in value.values() for k in all_keys(item)}
    if isinstance(value, list):
        return {k for item in value for k in all_keys(item)}
    return set()
