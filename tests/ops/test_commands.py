"""The routine commands on demo data: plain output when not on a terminal,
``--dry-run`` changes nothing, ``seed_demo`` refuses production settings."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from customers.models import Customer
from enrichment.api.models import ApiToken
from enrichment.api.tokens import api_token_create
from enrichment.history.models import CustomerHealth

pytestmark = pytest.mark.django_db


def run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


@pytest.fixture
def demo() -> str:
    return run("seed_demo", customers=5)


# -- seed_demo ---------------------------------------------------------------------------------
def test_seed_demo_reports_each_phase_and_the_total_time_last(demo):
    lines = demo.strip().splitlines()
    phases = ("accounts built", "rows saved", "engagement events saved", "daily rollup (kept by the database's triggers)", "health history",
              "context snapshots")  # fmt: skip
    for phase in phases:
        assert any(line.startswith(f"{phase}: ") and line.endswith("s)") for line in lines), phase
    assert lines[-1].startswith("Demo data seeded in ") and "in total" in lines[-1]
    assert "\x1b" not in demo and "\r" not in demo  # no bar, no colour codes when not a terminal
    assert "password 'admin'" in demo


def test_seed_demo_dry_run_changes_nothing():
    out = run("seed_demo", customers=4, dry_run=True)
    assert out.startswith("Dry run: would create 4 generated customers (0 already present), fixed accounts: customer_123")
    assert "admin user: admin/admin" in out
    assert not Customer.objects.exists() and not get_user_model().objects.exists()
    run("seed_demo", customers=2)
    again = run("seed_demo", customers=4, dry_run=True)
    assert "would create 2 generated customers (2 already present), fixed accounts: none (all present); admin user: no." in again


def test_seed_demo_refuses_production_settings(settings):
    settings.IS_PRODUCTION = True
    with pytest.raises(CommandError, match="--i-know-this-is-production"):
        run("seed_demo", customers=1)
    assert not Customer.objects.exists()


def test_seed_demo_in_production_when_told_never_creates_admin(settings):
    settings.IS_PRODUCTION = True
    out = run("seed_demo", customers=1, production_ok=True)
    assert Customer.objects.filter(external_id="customer_123").exists()
    assert not get_user_model().objects.filter(username="admin").exists()
    assert "none created under production settings" in out


# -- refresh_contexts --------------------------------------------------------------------------
def test_refresh_all_prints_a_summary(demo):
    before = timezone.now()
    out = run("refresh_contexts", "--all")
    total = Customer.objects.count()
    assert f"Refreshed {total} context(s) (all)" in out
    assert out.strip().splitlines()[0].startswith(f"refresh: {total} of {total} refreshed (")
    assert CustomerHealth.objects.filter(computed_at__gte=before).count() == total


def test_refresh_stale_only_touches_old_health(demo):
    CustomerHealth.objects.filter(customer__external_id="customer_123").update(computed_at=timezone.now() - dt.timedelta(days=2))
    out = run("refresh_contexts", "--stale")
    assert "Refreshed 1 context(s) (stale" in out


def test_refresh_customer_ids_and_unknown_ids(demo):
    assert "Refreshed 2 context(s) (given ids)" in run("refresh_contexts", "--customer", "customer_123", "--customer", "customer_trial")
    with pytest.raises(CommandError, match="nobody"):
        run("refresh_contexts", "--customer", "nobody")


def test_refresh_dry_run_changes_nothing(demo):
    old = timezone.now() - dt.timedelta(days=3)
    CustomerHealth.objects.update(computed_at=old)
    out = run("refresh_contexts", "--all", "--dry-run")
    assert out.startswith(f"Dry run: would refresh {Customer.objects.count()} context(s) (all): customer_123")
    assert set(CustomerHealth.objects.values_list("computed_at", flat=True)) == {old}


# -- tokens ------------------------------------------------------------------------------------
def test_list_api_tokens_table_and_summary(demo):
    api_token_create(name="support-bot")
    revoked, _ = api_token_create(name="old-bot", scope="customer_facing")
    run("revoke_api_token", "--name", "old-bot")
    out = run("list_api_tokens")
    assert "support-bot" in out and "old-bot" not in out
    assert out.strip().splitlines()[-1] == "1 token(s): 1 active, 0 revoked."
    everything = run("list_api_tokens", "--all")
    assert "old-bot" in everything and f"{revoked.prefix}" in everything and "revoked" in everything
    assert everything.strip().splitlines()[-1] == "2 token(s): 1 active, 1 revoked."
    assert "cce_" not in everything  # never a secret


def test_revoke_dry_run_changes_nothing_then_revokes(demo):
    token, raw = api_token_create(name="agent")
    out = run("revoke_api_token", token.prefix, "--dry-run")
    assert out.startswith("Dry run: would revoke 'agent'")
    token.refresh_from_db()
    assert token.revoked_at is None
    assert "Revoked 'agent'" in run("revoke_api_token", raw)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "already revoked" in run("revoke_api_token", "--name", "agent")


def test_token_names_are_unique():
    api_token_create(name="my-agent")
    with pytest.raises(CommandError, match="already exists"):
        run("create_api_token", "my-agent")
    assert ApiToken.objects.filter(name="my-agent").count() == 1


class _Terminal(StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_a_bar_goes_to_stderr(demo, monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    out = run("refresh_contexts", "--all")
    assert "%|" in terminal.getvalue() and "ctx" in terminal.getvalue()  # tqdm's bar
    assert "Refreshed" in out and "%|" not in out
    plain = _Terminal()
    monkeypatch.setattr("sys.stderr", plain)
    run("refresh_contexts", "--all", "--no-progress")
    assert plain.getvalue() == ""
