"""Token authentication: both header styles, 401s, revocation, last_used_at, the command."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from enrichment.api.models import ApiToken
from enrichment.api.tokens import api_token_create, api_token_revoke, api_token_verify, hash_secret
from enrichment.context.scopes import TokenScope
from tests.enrichment.api.helpers import ACME, assert_error, client_for

pytestmark = pytest.mark.django_db

URL = f"/api/v1/customers/{ACME}/context/summary/"


@pytest.mark.parametrize("keyword", ["Bearer", "Token", "bearer"])
def test_both_header_styles_are_accepted(demo, full_token, keyword):
    response = client_for(full_token, keyword=keyword).get(URL)
    assert response.status_code == 200, response.content
    assert response.json()["company_name"] == "Acme Corp"


def test_no_token_is_401_with_challenge(demo):
    response = client_for(None).get(URL)
    error = assert_error(response, 401, "not_authenticated")
    assert "credentials" in error["message"].lower()
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer cce_abc",
        "Bearer not-a-token",
        "Basic dXNlcjpwYXNz",
        "Bearer cce_0123456789ab_" + "x" * 43,  # well-formed, unknown prefix
        "Bearer a b",
        "Bearer " + "x" * 600,
    ],
)
def test_bad_tokens_are_401(demo, header):
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION=header)
    assert_error(client.get(URL), 401, "authentication_failed")


def test_wrong_secret_for_a_known_prefix_is_401(demo, full_token):
    prefix = full_token.split("_")[1]
    forged = f"cce_{prefix}_{'A' * 43}"
    assert_error(client_for(forged).get(URL), 401, "authentication_failed")


def test_revoked_token_is_401(demo, full_token):
    client = client_for(full_token)
    assert client.get(URL).status_code == 200  # cached in this process now
    token = ApiToken.objects.get(prefix=full_token.split("_")[1])
    api_token_revoke(token=token)
    assert_error(client.get(URL), 401, "authentication_failed")
    token.refresh_from_db()
    assert token.revoked_at is not None and not token.is_active


def test_token_is_stored_hashed_and_shaped(db):
    token, raw = api_token_create(name="agent", scope=TokenScope.CUSTOMER_FACING)
    namespace, prefix, secret = raw.split("_", 2)
    assert namespace == "cce" and prefix == token.prefix and len(prefix) == 12
    assert token.key_hash == hash_secret(secret) and secret not in token.key_hash
    assert api_token_verify(raw_token=raw).scope == TokenScope.CUSTOMER_FACING


def test_last_used_at_is_written_at_most_once_a_minute(demo, full_token, django_assert_num_queries):
    token = ApiToken.objects.get(prefix=full_token.split("_")[1])
    assert token.last_used_at is None
    client = client_for(full_token)
    assert client.get(URL).status_code == 200
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    for _ in range(3):
        assert client.get(URL).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == first  # no write per request

    # A minute later (as another process that read the row would see it) it is written again.
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - dt.timedelta(minutes=2))
    with override_settings(API_TOKEN_CACHE_TTL=0):
        assert client.get(URL).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at > first


def test_cached_token_needs_no_query(demo, full_token, django_assert_max_num_queries):
    client = client_for(full_token)
    assert client.get(URL).status_code == 200  # token row and context cached
    with django_assert_max_num_queries(0):
        assert client.get(URL).status_code == 200


def test_create_api_token_command_prints_the_secret_once(db):
    out, err = StringIO(), StringIO()
    call_command("create_api_token", "support-bot", "--scope", "customer_facing", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    assert raw.startswith("cce_") and "\n" not in raw
    token = ApiToken.objects.get(name="support-bot")
    assert token.scope == TokenScope.CUSTOMER_FACING
    assert raw.split("_")[1] == token.prefix
    assert raw not in err.getvalue() and "not shown again" in err.getvalue()
    assert api_token_verify(raw_token=raw).name == "support-bot"


def test_revoke_api_token_command(db):
    _token, raw = api_token_create(name="old-bot")
    call_command("revoke_api_token", raw.split("_")[1], stdout=StringIO())
    assert ApiToken.objects.get(name="old-bot").revoked_at is not None


def test_customer_facing_token_cannot_list_customers_or_ingest(demo, cf_api):
    assert_error(cf_api.get("/api/v1/customers/"), 403, "permission_denied")
    assert_error(cf_api.post("/api/v1/events/", {"events": []}, format="json"), 403, "permission_denied")
