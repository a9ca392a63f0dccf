"""API tokens: unique names (existing duplicates renamed by a data migration)
and the admin (list, create with the secret shown once, revoke)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from enrichment.api.models import ApiToken
from enrichment.api.tokens import InvalidToken, api_token_create, api_token_verify, hash_secret


@pytest.mark.django_db(transaction=True)
def test_migration_renames_existing_duplicates():
    executor = MigrationExecutor(connection)
    executor.migrate([("enrichment_api", "0001_initial")])
    old = executor.loader.project_state([("enrichment_api", "0001_initial")]).apps.get_model("enrichment_api", "ApiToken")
    now = timezone.now()
    for i, name in enumerate(["my-agent", "my-agent", "my-agent", "my-agent-2", "bot"]):
        old.objects.create(name=name, prefix=f"{i:012x}", key_hash="0" * 64, scope="full", created_at=now)
        old.objects.filter(prefix=f"{i:012x}").update(created_at=now + dt.timedelta(seconds=i))
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    names = dict(ApiToken.objects.values_list("prefix", "name"))
    assert names == {
        "000000000000": "my-agent",  # the oldest keeps its name
        "000000000001": "my-agent-3",  # -2 was taken already
        "000000000002": "my-agent-4",
        "000000000003": "my-agent-2",
        "000000000004": "bot",
    }


@pytest.mark.django_db
def test_admin_lists_creates_once_and_revokes(admin_client):
    api_token_create(name="existing-bot", scope="customer_facing")
    page = admin_client.get("/admin/enrichment_api/apitoken/").content.decode()
    assert "existing-bot" in page and "customer_facing" in page and "never" in page and "active" in page

    response = admin_client.post("/admin/enrichment_api/apitoken/add/", {"name": "new-agent", "scope": "full"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    token = ApiToken.objects.get(name="new-agent")
    start = body.index(f"cce_{token.prefix}_")
    raw = body[start : body.index('"', start)]
    assert hash_secret(raw.split("_", 2)[2]) == token.key_hash
    assert api_token_verify(raw_token=raw).name == "new-agent"
    assert token.created_by is not None
    assert raw not in admin_client.get(f"/admin/enrichment_api/apitoken/{token.pk}/change/").content.decode()

    duplicate = admin_client.post("/admin/enrichment_api/apitoken/add/", {"name": "new-agent", "scope": "full"})
    assert "already exists" in duplicate.content.decode()

    admin_client.post("/admin/enrichment_api/apitoken/", {"action": "revoke_selected", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is not None
    with pytest.raises(InvalidToken):
        api_token_verify(raw_token=raw)
